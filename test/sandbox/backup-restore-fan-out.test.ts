/**
 * A restore fanned out over a backup's parts, as the DisasterRecovery flow runs it (plan → every
 * range verified → rollback point → every range restored → finish; after a failure, every range
 * rolled back → rolled-back), on the sandbox with the real backup-restore handler: a format-2
 * backup with packs comes back byte for byte, ranges resume call after call, a damaged backup is
 * refused before anything is written, and a failure mid-way is rolled back over every range while
 * what a concurrent writer wrote is left alone. (Format 1: backup-compat.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { manifestKey, ROLLBACK_POINT_SET } from '../../functions/common/backup/layout.ts';
import { partSchema } from '../../functions/common/backup/manifest.ts';
import {
  backup,
  context,
  putObjects,
  readAll,
  restore,
  restoreFannedOut,
  withBackupSandbox,
} from './backup-harness.ts';

// Three objects per batch, so twelve objects make four parts; all but z-big.bin are packed.
const { world } = withBackupSandbox({ BACKUP_BATCH_OBJECTS: '3', BACKUP_PACK_OBJECT_KB: '64' });

let count = 0;

function sourceObjects(): Record<string, Buffer> {
  const objects: Record<string, Buffer> = { 'data/z-big.bin': randomBytes(300 * 1024) };
  for (let i = 0; i < 10; i++)
    objects[`data/k${String(i).padStart(2, '0')}.txt`] = Buffer.from(`object ${i}`);
  return objects;
}

async function freshBackup() {
  const sourceBucket = await world().newBucket('source');
  const objects = sourceObjects();
  await putObjects(world().s3, sourceBucket, objects);
  await world().s3.send(
    new PutObjectCommand({
      Bucket: sourceBucket,
      Key: 'data/meta.json',
      Body: '{"m":1}',
      ContentType: 'application/json',
      CacheControl: 'max-age=60',
      Metadata: { owner: 'fan-out' },
    }),
  );
  objects['data/meta.json'] = Buffer.from('{"m":1}');
  const set = { name: `rfan-${++count}`, sourceBucket, prefix: 'data/', mode: 'full' as const, fullEvery: 1 };
  const done = await backup(
    { set, executionId: `r${count}`, startedAt: new Date(Date.UTC(2026, 2, count)).toISOString() },
    context(),
  );
  return { set: set.name, backupId: done.backupId as string, objects };
}

async function entriesOf(set: string, backupId: string) {
  const parts = await readAll(world().s3, world().backupBucket, `backups/${set}/${backupId}/manifest-parts/`);
  return [...parts.values()].flatMap((bytes) => partSchema.parse(JSON.parse(bytes.toString())).objects);
}

/** Flips one byte of the stored copy of `key` (inside its own bytes when it is in a pack). */
async function tamper(set: string, backupId: string, key: string) {
  const entry = (await entriesOf(set, backupId)).find((e) => e.key === key)!;
  const stored = await world().s3.send(
    new GetObjectCommand({ Bucket: world().backupBucket, Key: entry.storedKey }),
  );
  const bytes = Buffer.from(await stored.Body!.transformToByteArray());
  bytes[(entry.storedOffset ?? 0) + entry.storedSize - 3]! ^= 0x01;
  await world().s3.send(
    new PutObjectCommand({ Bucket: world().backupBucket, Key: entry.storedKey, Body: bytes }),
  );
}

/** The target's objects under `prefix`, keys relative to it. */
async function restored(bucket: string, prefix: string) {
  const all = await readAll(world().s3, bucket, prefix);
  return new Map([...all].map(([key, body]) => [key.slice(prefix.length), body]));
}

function expectSame(actual: Map<string, Buffer>, source: Record<string, Buffer>) {
  expect([...actual.keys()].sort()).toEqual(
    Object.keys(source)
      .map((key) => key.slice('data/'.length))
      .sort(),
  );
  for (const [key, body] of actual) expect(body.equals(source[`data/${key}`]!), key).toBe(true);
}

describe('fanned-out restore', () => {
  it('restores a format-2 backup with packs byte for byte, one child per range, headers, metadata and provenance kept', async () => {
    const { set, backupId, objects } = await freshBackup();
    const target = await world().newBucket('target');

    const run = await restoreFannedOut({ set, backupId, targetBucket: target, targetPrefix: 'restored/' });

    const entries = await entriesOf(set, backupId);
    expect(entries.filter((e) => e.storedOffset !== undefined)).toHaveLength(11);
    expect(run.plan.items).toEqual([
      { from: 0, to: 1 },
      { from: 1, to: 2 },
      { from: 2, to: 3 },
      { from: 3, to: 4 },
    ]);
    expect(run.calls).toMatchObject({
      plan: 1,
      'verify-range': 4,
      'rollback-point': 1,
      'restore-range': 4,
      finish: 1,
    });
    expect(run.result).toMatchObject({
      done: true,
      set,
      backupId,
      target: { bucket: target, prefix: 'restored/' },
      restoreId: run.plan.restoreId,
      rollbackPointId: run.plan.rollbackPointId,
      verified: 'objects',
      objects: 12,
      bytes: Object.values(objects).reduce((n, body) => n + body.length, 0),
    });
    expectSame(await restored(target, 'restored/'), objects);
    const meta = await world().s3.send(new HeadObjectCommand({ Bucket: target, Key: 'restored/meta.json' }));
    expect(meta).toMatchObject({
      ContentType: 'application/json',
      CacheControl: 'max-age=60',
      Metadata: { owner: 'fan-out' },
    });
    const tags = await world().s3.send(
      new GetObjectTaggingCommand({ Bucket: target, Key: 'restored/k03.txt' }),
    );
    expect(tags.TagSet).toContainEqual({ Key: 'caretaker:restore', Value: run.plan.restoreId });
  });

  it('resumes every range call after call when each call may take only one object, restoring the same', async () => {
    const { set, backupId, objects } = await freshBackup();
    const target = await world().newBucket('target');

    const run = await restoreFannedOut(
      { set, backupId, targetBucket: target, targetPrefix: 'restored/', partsPerItem: 2 },
      { timeBudgetMs: 1 },
    );

    expect(run.plan.items).toEqual([
      { from: 0, to: 2 },
      { from: 2, to: 4 },
    ]);
    expect(run.calls['restore-range']).toBe(12);
    expect(run.result).toMatchObject({ objects: 12 });
    expectSame(await restored(target, 'restored/'), objects);
  });

  it('refuses a backup a range finds damaged before anything is written: no rollback point, target untouched', async () => {
    const { set, backupId } = await freshBackup();
    await tamper(set, backupId, 'data/k04.txt');
    const target = await world().newBucket('target');
    await putObjects(world().s3, target, { 'restored/k04.txt': 'before' });

    const run = await restoreFannedOut({ set, backupId, targetBucket: target, targetPrefix: 'restored/' });

    expect(run.failure).toMatchObject({ name: 'IntegrityError', details: { key: 'data/k04.txt' } });
    expect(run.calls['restore-range']).toBeUndefined();
    expect([...(await readAll(world().s3, target))].map(([k, v]) => [k, v.toString()])).toEqual([
      ['restored/k04.txt', 'before'],
    ]);
    const point = await world()
      .s3.send(
        new HeadObjectCommand({
          Bucket: world().backupBucket,
          Key: manifestKey(ROLLBACK_POINT_SET, run.plan.rollbackPointId),
        }),
      )
      .then(
        () => 'exists',
        () => 'absent',
      );
    expect(point).toBe('absent');
  });

  it("rolls a failure mid-way back over every range, leaving a concurrent writer's objects alone", async () => {
    const { set, backupId } = await freshBackup();
    const target = await world().newBucket('target');
    await putObjects(world().s3, target, {
      'restored/k00.txt': 'old k00',
      'restored/k05.txt': 'old k05',
      'restored/unrelated.txt': 'untouched',
    });

    const run = await restoreFannedOut(
      { set, backupId, targetBucket: target, targetPrefix: 'restored/' },
      {
        // The stored copy of the last part's big object goes bad between verification and restore.
        afterVerify: () => tamper(set, backupId, 'data/z-big.bin'),
        // Meanwhile someone writes over a key the target had (k00) and one the restore created (k01).
        beforeRollback: () =>
          putObjects(world().s3, target, {
            'restored/k00.txt': 'writer k00',
            'restored/k01.txt': 'writer k01',
          }),
      },
    );

    expect(run.calls).toMatchObject({ 'restore-range': 4, 'rollback-range': 4, 'rolled-back': 1 });
    expect(run.calls.finish).toBeUndefined();
    expect(run.failure).toMatchObject({
      name: 'States.ExceedToleratedFailureThreshold',
      message: expect.stringMatching(/failed and was rolled back .*2 object\(s\) changed by someone else/),
    });
    expect(run.failure.message).toContain('z-big.bin');
    expect(
      Object.fromEntries([...(await readAll(world().s3, target))].map(([k, v]) => [k, v.toString()])),
    ).toEqual({
      'restored/k00.txt': 'writer k00',
      'restored/k01.txt': 'writer k01',
      'restored/k05.txt': 'old k05',
      'restored/unrelated.txt': 'untouched',
    });
  });

  it('names the bad field of a fanned-out action before doing anything', async () => {
    const fields = async (event: Record<string, unknown>) => {
      try {
        await restore(event, context());
      } catch (error) {
        return { name: (error as Error).name, message: (error as Error).message };
      }
      throw new Error('accepted');
    };
    const execution = { executionId: 'bad-input', startedAt: '2026-04-01T05:00:00.000Z' };
    const planned = {
      set: 'uploads',
      backupId: '20260401T050000Z-0a0b0c0d',
      manifestSha256: 'ab'.repeat(32),
      targetBucket: 'target-bucket',
      targetPrefix: 'restored/',
      ...execution,
    };

    expect(await fields({ action: 'restore-range', ...planned, from: 3, to: 3, cursor: null })).toMatchObject(
      {
        name: 'ValidationError',
        message: expect.stringMatching(/\bto\b.*greater than from/),
      },
    );
    expect(
      await fields({
        action: 'plan',
        set: 'uploads',
        targetBucket: world().backupBucket,
        targetPrefix: 'x/',
        ...execution,
      }),
    ).toMatchObject({ name: 'ValidationError', message: expect.stringContaining('targetBucket') });
    expect(
      await fields({
        action: 'rolled-back',
        set: 'uploads',
        backupId: planned.backupId,
        targetBucket: 'target-bucket',
        targetPrefix: 'restored/',
        ...execution,
        parts: 1,
        results: [],
      }),
    ).toMatchObject({ name: 'ValidationError', message: expect.stringContaining('failure') });
    expect(await fields({ action: 'finish', ...planned, plannedAt: 'yesterday', results: [] })).toMatchObject(
      {
        name: 'ValidationError',
        message: expect.stringContaining('plannedAt'),
      },
    );
  });
});
