/**
 * Backups end to end on the sandbox (S3 + KMS), through the real handlers: backup → verify →
 * restore round trips, incremental backups after adds, changes and deletes, idempotent re-runs
 * and resumption across many calls.
 */
import { randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { manifestSchema, partSchema } from '../../functions/common/backup/manifest.ts';
import {
  backup,
  context,
  listKeys,
  putObjects,
  readAll,
  restore,
  untilDone,
  verify,
  withBackupSandbox,
} from './backup-harness.ts';

// Small batches, so backups of a dozen objects already span several batches and manifest parts.
const { world } = withBackupSandbox({ BACKUP_BATCH_OBJECTS: '5' });

let setCount = 0;

/** A source bucket with the given objects under `data/`, and a set spec for it. */
async function newSource(
  objects: Record<string, Buffer | string>,
  mode: 'full' | 'incremental' = 'incremental',
  fullEvery = 7,
) {
  const bucket = await world().newBucket('source');
  await putObjects(
    world().s3,
    bucket,
    Object.fromEntries(Object.entries(objects).map(([key, body]) => [`data/${key}`, body])),
  );
  return { name: `set-${++setCount}`, sourceBucket: bucket, prefix: 'data/', mode, fullEvery };
}

let day = 0;
/** Runs a backup to completion with a fresh execution (one call unless the budget says otherwise). */
async function backupOf(set: object, extra: object = {}) {
  const event = {
    set,
    executionId: `exec-${++day}`,
    startedAt: new Date(Date.UTC(2026, 0, day)).toISOString(),
    ...extra,
  };
  const { last, calls } = await untilDone(() => backup(event, context()));
  return { ...last, calls };
}

async function restoreInto(set: { name: string }, backupId: string, extra: object = {}) {
  const target = await world().newBucket('target');
  const event = { set: set.name, backupId, targetBucket: target, targetPrefix: 'restored/', ...extra };
  const { last: result, calls } = await untilDone((previous: any) =>
    restore({ ...event, continuation: previous?.continuation }, context()),
  );
  return { target, result, calls, objects: await readAll(world().s3, target, 'restored/') };
}

/** A backup's own stored objects (copies stored alone and packs of small ones) by key. */
async function storedObjects(set: string, backupId: string): Promise<Map<string, Buffer>> {
  const prefix = `backups/${set}/${backupId}/`;
  return new Map([
    ...(await readAll(world().s3, world().backupBucket, `${prefix}objects/`)),
    ...(await readAll(world().s3, world().backupBucket, `${prefix}packs/`)),
  ]);
}

function relative(objects: Map<string, Buffer>, prefix: string): Record<string, string> {
  return Object.fromEntries(
    [...objects].map(([key, body]) => [key.slice(prefix.length), body.toString('base64')]),
  );
}

function b64(objects: Record<string, Buffer | string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(objects).map(([key, body]) => [key, Buffer.from(body).toString('base64')]),
  );
}

const MIXED = {
  'a.txt': 'hello',
  'folder/with space/é ü 😀.bin': randomBytes(1234),
  'empty-1': Buffer.alloc(0),
  'nested/empty-2': Buffer.alloc(0),
  'large.bin': randomBytes(9 * 1024 * 1024 + 7),
};

describe('a full backup', () => {
  it('restores byte-identical: a multi-MiB object, empty objects and keys with unicode and spaces', async () => {
    const set = await newSource(MIXED);

    const done = await backupOf(set);
    const verified = await verify({ set: set.name, backupId: done.backupId }, context());
    const { result, objects } = await restoreInto(set, done.backupId);

    expect(done.result).toMatchObject({
      mode: 'full',
      parentBackupId: null,
      totals: { objects: 5, copiedObjects: 5 },
    });
    expect(verified).toMatchObject({ done: true, ok: true, objectsChecked: 5, subset: 'all' });
    expect(result).toMatchObject({ done: true, objects: 5, bytes: 9 * 1024 * 1024 + 7 + 5 + 1234 });
    expect(relative(objects, 'restored/')).toEqual(b64(MIXED));
  });

  it('stores only ciphertext, under the backup prefix, tagged and with SSE-KMS on top', async () => {
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    const set = await newSource({ 'plain.txt': secret.repeat(100) });

    const done = await backupOf(set);
    const stored = await storedObjects(set.name, done.backupId);
    const [key, body] = [...stored][0]!;
    const head = await world().s3.send(new HeadObjectCommand({ Bucket: world().backupBucket, Key: key }));
    const tags = await world().s3.send(
      new GetObjectTaggingCommand({ Bucket: world().backupBucket, Key: key }),
    );

    expect(body.toString('latin1')).not.toContain(secret);
    // The context (set and storing backup) is in the message header; the source key is not.
    expect(body.toString('latin1')).toContain('caretaker:backup-id');
    expect(body.toString('latin1')).toContain(done.backupId);
    expect(body.toString('latin1')).not.toContain('plain.txt');
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe(world().keyArn);
    expect(Object.fromEntries((tags.TagSet ?? []).map((t) => [t.Key, t.Value]))).toEqual({
      'caretaker:managed': 'true',
      'caretaker:kind': 'backup',
      'caretaker:stack': 'caretaker-test',
      'caretaker:execution': expect.stringMatching(/^exec-/),
      'caretaker:target': set.name,
    });
  });

  it('records everything about the backup in a manifest whose parts list every object', async () => {
    const set = await newSource({ 'x/1.txt': 'one', 'x/2.txt': 'two!' });

    const done = await backupOf(set);
    const bytes = await world().s3.send(
      new GetObjectCommand({ Bucket: world().backupBucket, Key: done.result.manifestKey }),
    );
    const manifest = manifestSchema.parse(JSON.parse(await bytes.Body!.transformToString()));
    const partBody = await world().s3.send(
      new GetObjectCommand({ Bucket: world().backupBucket, Key: manifest.parts[0]!.key }),
    );
    const part = partSchema.parse(JSON.parse(await partBody.Body!.transformToString()));

    expect(manifest).toMatchObject({
      backupId: done.backupId,
      set: set.name,
      kind: 'backup',
      mode: 'full',
      source: { bucket: set.sourceBucket, prefix: 'data/' },
      encryption: {
        keyArn: world().keyArn,
        algorithmSuite: 'ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY',
        frameLength: 1024 * 1024,
      },
      tool: { name: 'caretaker', version: '0.1.0' },
      totals: { objects: 2, bytes: 7, parts: 1 },
    });
    expect(part.objects.map((entry) => [entry.key, entry.size, entry.storedBackupId])).toEqual([
      ['data/x/1.txt', 3, done.backupId],
      ['data/x/2.txt', 4, done.backupId],
    ]);
    expect(part.objects[0]!.sha256).toBe('7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed');
  });

  it("restores each object's content type, HTTP headers and user metadata", async () => {
    const set = await newSource({});
    await world().s3.send(
      new PutObjectCommand({
        Bucket: set.sourceBucket,
        Key: 'data/page.html',
        Body: '<p>hi</p>',
        ContentType: 'text/html; charset=utf-8',
        CacheControl: 'max-age=60',
        Metadata: { owner: 'web-team' },
      }),
    );
    const done = await backupOf(set);

    const { target } = await restoreInto(set, done.backupId);
    const head = await world().s3.send(new HeadObjectCommand({ Bucket: target, Key: 'restored/page.html' }));

    expect(head).toMatchObject({
      ContentType: 'text/html; charset=utf-8',
      CacheControl: 'max-age=60',
      Metadata: { owner: 'web-team' },
    });
  });

  it('restores only the objects under a key prefix when asked', async () => {
    const set = await newSource({ 'keep/a': 'a', 'keep/b': 'b', 'other/c': 'c' });
    const done = await backupOf(set);

    const { objects } = await restoreInto(set, done.backupId, { prefix: 'data/keep/' });

    expect([...objects.keys()]).toEqual(['restored/keep/a', 'restored/keep/b']);
  });
});

describe('incremental backups', () => {
  it('copy only what changed, list the complete set, and each restores its own point in time', async () => {
    const s3 = world().s3;
    const set = await newSource({ 'keep.txt': 'unchanged', 'change.txt': 'v1', 'delete.txt': 'bye' });
    const first = await backupOf(set);
    const v1 = relative(await readAll(s3, set.sourceBucket, 'data/'), 'data/');

    await putObjects(s3, set.sourceBucket, { 'data/change.txt': 'v2 is longer', 'data/add.txt': 'new' });
    await s3.send(new DeleteObjectCommand({ Bucket: set.sourceBucket, Key: 'data/delete.txt' }));
    const second = await backupOf(set);
    const v2 = relative(await readAll(s3, set.sourceBucket, 'data/'), 'data/');

    expect(second.result).toMatchObject({
      mode: 'incremental',
      parentBackupId: first.backupId,
      totals: { objects: 3, copiedObjects: 2, reusedObjects: 1 },
    });
    expect(relative((await restoreInto(set, first.backupId)).objects, 'restored/')).toEqual(v1);
    expect(relative((await restoreInto(set, second.backupId)).objects, 'restored/')).toEqual(v2);
    expect(await verify({ set: set.name, backupId: second.backupId }, context())).toMatchObject({
      ok: true,
      chainLinks: 1,
    });
  });

  it('points unchanged objects at the copy an earlier backup stored, through several incrementals', async () => {
    const set = await newSource({ 'stable.txt': 'stable' });
    const first = await backupOf(set);
    await putObjects(world().s3, set.sourceBucket, { 'data/b.txt': 'b' });
    await backupOf(set);
    await putObjects(world().s3, set.sourceBucket, { 'data/c.txt': 'c' });
    const third = await backupOf(set);

    const ownObjects = await storedObjects(set.name, third.backupId);

    expect(third.result.totals).toMatchObject({ objects: 3, copiedObjects: 1, reusedObjects: 2 });
    expect(ownObjects.size).toBe(1);
    expect(relative((await restoreInto(set, third.backupId)).objects, 'restored/')).toEqual(
      b64({ 'b.txt': 'b', 'c.txt': 'c', 'stable.txt': 'stable' }),
    );
    expect(await verify({ set: set.name, backupId: third.backupId }, context())).toMatchObject({
      ok: true,
      chainLinks: 2,
    });
    expect(third.result.parentBackupId).not.toBe(first.backupId);
  });

  it('finds the parent entries across several manifest parts', async () => {
    const objects = Object.fromEntries(
      Array.from({ length: 13 }, (_, i) => [`k${String(i).padStart(2, '0')}`, `v${i}`]),
    );
    const set = await newSource(objects);
    const first = await backupOf(set);
    await putObjects(world().s3, set.sourceBucket, { 'data/k03': 'changed', 'data/k11': 'changed too' });

    const second = await backupOf(set);

    expect(first.result.totals.parts).toBe(3);
    expect(second.result.totals).toMatchObject({ objects: 13, copiedObjects: 2, reusedObjects: 11 });
    expect(relative((await restoreInto(set, second.backupId)).objects, 'restored/')).toEqual(
      b64({ ...objects, k03: 'changed', k11: 'changed too' }),
    );
  });

  it('takes a full backup again after fullEvery incrementals', async () => {
    const set = await newSource({ 'a.txt': 'a' }, 'incremental', 2);

    const modes = [];
    for (let i = 0; i < 4; i++) modes.push((await backupOf(set)).result.mode);

    expect(modes).toEqual(['full', 'incremental', 'incremental', 'full']);
  });

  it('takes a full backup when the set is in full mode or forced', async () => {
    const set = await newSource({ 'a.txt': 'a' });
    await backupOf(set);

    const forced = await backupOf(set, { forceFull: true });

    expect(forced.result).toMatchObject({ mode: 'full', parentBackupId: null, totals: { copiedObjects: 1 } });
  });
});

describe('planning an incremental', () => {
  it('writes the parts of batches with nothing to copy at once, and no batch files for them', async () => {
    const objects = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`u${String(i).padStart(2, '0')}`, `v${i}`]),
    );
    const set = await newSource(objects);
    await backupOf(set);
    await putObjects(world().s3, set.sourceBucket, { 'data/u11': 'changed' });
    const event = { set, executionId: 'plan-parts', startedAt: '2027-04-01T00:00:00Z' };

    const planned = await backup({ ...event, step: 'plan' }, context());
    const prefix = `backups/${set.name}/${planned.backupId}/`;
    const [parts, batches] = [
      await listKeys(world().s3, world().backupBucket, `${prefix}manifest-parts/`),
      await listKeys(world().s3, world().backupBucket, `${prefix}work/batches/`),
    ];
    const { last } = await untilDone(() => backup({ ...event, backupId: planned.backupId }, context()));

    // 12 objects in batches of 5: the first two only reuse, the third holds the changed one.
    expect(parts.map((key) => key.slice(prefix.length))).toEqual([
      'manifest-parts/00000001.json',
      'manifest-parts/00000002.json',
    ]);
    expect(batches.map((key) => key.slice(prefix.length))).toEqual(['work/batches/00000003.json']);
    expect(last.result.totals).toMatchObject({ objects: 12, copiedObjects: 1, reusedObjects: 11 });
    expect(relative((await restoreInto(set, last.backupId)).objects, 'restored/')).toEqual(
      b64({ ...objects, u11: 'changed' }),
    );
  });

  it('does not let a part from an interrupted plan stand for a batch that now has copies', async () => {
    const objects = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`w${i}`, `before ${i}`]));
    const set = await newSource(objects);
    await backupOf(set);
    const event = { set, executionId: 'replan', startedAt: '2027-04-02T00:00:00Z' };
    const planned = await backup({ ...event, step: 'plan' }, context());
    const stateKey = `backups/${set.name}/${planned.backupId}/work/state.json`;
    const state = JSON.parse(
      (await readAll(world().s3, world().backupBucket, stateKey)).get(stateKey)!.toString(),
    );
    // As if the plan had stopped before saving its cursor, and an object changed meanwhile.
    const { startAfter: _cursor, ...plan } = state.plan;
    await world().s3.send(
      new PutObjectCommand({
        Bucket: world().backupBucket,
        Key: stateKey,
        Body: JSON.stringify({
          ...state,
          plan: { ...plan, done: false, batches: 0, listedObjects: 0, listedBytes: 0 },
        }),
      }),
    );
    await putObjects(world().s3, set.sourceBucket, { 'data/w2': 'after' });

    const { last } = await untilDone(() => backup({ ...event, backupId: planned.backupId }, context()));

    expect(last.result.totals).toMatchObject({ objects: 4, copiedObjects: 1 });
    expect(relative((await restoreInto(set, last.backupId)).objects, 'restored/')).toEqual(
      b64({ ...objects, w2: 'after' }),
    );
  });

  it('does not copy by a batch file of an interrupted plan when the batch now has nothing to copy', async () => {
    const objects = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`v${i}`, `same ${i}`]));
    const set = await newSource(objects);
    await backupOf(set);
    await putObjects(world().s3, set.sourceBucket, { 'data/v1': 'changed for a while' });
    const event = { set, executionId: 'replan-back', startedAt: '2027-04-03T00:00:00Z' };
    const planned = await backup({ ...event, step: 'plan' }, context());
    const prefix = `backups/${set.name}/${planned.backupId}/`;
    const stateKey = `${prefix}work/state.json`;
    const state = JSON.parse(
      (await readAll(world().s3, world().backupBucket, stateKey)).get(stateKey)!.toString(),
    );
    expect(await listKeys(world().s3, world().backupBucket, `${prefix}work/batches/`)).toHaveLength(1);
    // As if the plan had stopped before saving its cursor, and the object went back as it was.
    const { startAfter: _cursor, ...plan } = state.plan;
    await world().s3.send(
      new PutObjectCommand({
        Bucket: world().backupBucket,
        Key: stateKey,
        Body: JSON.stringify({
          ...state,
          plan: { ...plan, done: false, batches: 0, listedObjects: 0, listedBytes: 0 },
        }),
      }),
    );
    await putObjects(world().s3, set.sourceBucket, { 'data/v1': 'same 1' });

    const { last } = await untilDone(() => backup({ ...event, backupId: planned.backupId }, context()));

    expect(last.result.totals).toMatchObject({ objects: 4, copiedObjects: 0, reusedObjects: 4 });
    expect(relative((await restoreInto(set, last.backupId)).objects, 'restored/')).toEqual(b64(objects));
  });
});

describe('re-runs and resumption', () => {
  it('returns the existing result when a finished backup id is run again, writing nothing', async () => {
    const set = await newSource({ 'a.txt': 'a', 'b.txt': 'b' });
    const done = await backupOf(set);
    const before = await listKeys(world().s3, world().backupBucket, `backups/${set.name}/`);

    const again = await backup({ set, backupId: done.backupId }, context());

    expect(again).toEqual({ done: true, backupId: done.backupId, result: done.result });
    expect(await listKeys(world().s3, world().backupBucket, `backups/${set.name}/`)).toEqual(before);
  });

  it('finishes a backup and its restore over many calls with a tiny time budget, storing each object once', async () => {
    const s3 = world().s3;
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: world().backupBucket,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    const objects = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`f${String(i).padStart(2, '0')}`, randomBytes(100 + i)]),
    );
    const set = await newSource(objects);

    const done = await backupOf(set, { timeBudgetMs: 1 });
    const versions = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: world().backupBucket,
        Prefix: `backups/${set.name}/${done.backupId}/`,
      }),
    );
    const storedVersions = (versions.Versions ?? []).filter((v) => /\/(objects|packs)\//.test(v.Key!));
    const parts = await readAll(
      s3,
      world().backupBucket,
      `backups/${set.name}/${done.backupId}/manifest-parts/`,
    );
    const entries = [...parts.values()].flatMap(
      (bytes) => partSchema.parse(JSON.parse(bytes.toString())).objects,
    );
    const restored = await restoreInto(set, done.backupId, { timeBudgetMs: 1 });

    expect(done.calls).toBeGreaterThan(3);
    expect(restored.calls).toBeGreaterThan(3);
    expect(done.result.totals).toMatchObject({ objects: 12, copiedObjects: 12 });
    // Each stored object (a pack, here: the objects are small) was written once, and every entry
    // points at a range of one of them that no other entry shares.
    expect(new Set(storedVersions.map((v) => v.Key)).size).toBe(storedVersions.length);
    expect(new Set(entries.map((e) => e.storedKey))).toEqual(new Set(storedVersions.map((v) => v.Key)));
    expect(new Set(entries.map((e) => `${e.storedKey}@${e.storedOffset}`)).size).toBe(12);
    expect(relative(restored.objects, 'restored/')).toEqual(b64(objects));
    expect(await listKeys(s3, world().backupBucket, `backups/${set.name}/${done.backupId}/work/`)).toEqual(
      [],
    );
  });

  it('verifies over many calls with a tiny time budget, passing the continuation along', async () => {
    const set = await newSource(
      Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`v${i}`, `value ${i}`])),
    );
    const done = await backupOf(set);

    const { last, calls } = await untilDone((previous: any) =>
      verify(
        { set: set.name, backupId: done.backupId, timeBudgetMs: 1, continuation: previous?.continuation },
        context(),
      ),
    );

    expect(calls).toBeGreaterThan(1);
    expect(last).toMatchObject({ ok: true, objectsChecked: 8, entriesChecked: 8 });
  });
});

describe('edge cases', () => {
  it('backs up an empty prefix to an empty manifest that verifies and restores to nothing', async () => {
    const set = await newSource({});

    const done = await backupOf(set);
    const verified = await verify({ set: set.name, backupId: done.backupId }, context());
    const { objects } = await restoreInto(set, done.backupId);

    expect(done.result.totals).toMatchObject({ objects: 0, parts: 0 });
    expect(verified).toMatchObject({ ok: true, objectsChecked: 0 });
    expect(objects.size).toBe(0);
  });

  it('records an object deleted between planning and copying as vanished instead of failing', async () => {
    const set = await newSource({ 'stays.txt': 'here', 'goes.txt': 'gone soon' });
    const event = { set, executionId: 'vanish', startedAt: '2027-02-01T00:00:00Z', timeBudgetMs: 1 };
    const first = await backup({ ...event, step: 'plan' }, context());
    await world().s3.send(new DeleteObjectCommand({ Bucket: set.sourceBucket, Key: 'data/goes.txt' }));

    const { last } = await untilDone(() => backup({ ...event, backupId: first.backupId }, context()));

    expect(last.result.totals).toMatchObject({ objects: 1, vanishedObjects: 1 });
    expect(await verify({ set: set.name, backupId: last.backupId }, context())).toMatchObject({ ok: true });
  });
});
