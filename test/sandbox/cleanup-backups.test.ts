/**
 * cleanup over incremental backups on the sandbox (S3 + KMS), with backups made by the real
 * s3-backup handler: an aggressive policy deletes whole chains but keeps every backup a kept
 * backup chains to, a dry run deletes nothing, a remnant a crashed run left is finished, a backup
 * whose manifest seal does not verify (and everything a kept backup chains to through it) is left
 * alone and reported, objects a kept manifest references under a deleted backup stay — and
 * afterwards every kept backup still verifies and restores, and no kept manifest references a
 * deleted object. A fanned-out plan queues at most its capacity of folders, newest first.
 */
import { DeleteObjectsCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanBackups } from '../../functions/cleanup/backup-retention.ts';
import { FolderQueue } from '../../functions/cleanup/folder-queue.ts';
import { backupCrypto } from '../../functions/common/backup/crypto.ts';
import { isBackupId, manifestKey, sealKey } from '../../functions/common/backup/layout.ts';
import { manifestSchema, partSchema } from '../../functions/common/backup/manifest.ts';
import {
  backup,
  context,
  type Handler,
  listKeys,
  putObjects,
  readAll,
  restore,
  untilDone,
  verify,
  withBackupSandbox,
} from './backup-harness.ts';
import { sharingBackup } from './sharing-backup.ts';

const { world } = withBackupSandbox({ BACKUP_BATCH_OBJECTS: '5' });

let cleanup: Handler;

interface SetSpec {
  name: string;
  sourceBucket: string;
  prefix: string;
  mode: 'incremental';
  fullEvery: number;
}

/** Backups of `spec` on consecutive January days, changing one object and adding one each day. */
async function history(
  spec: SetSpec,
  days: number,
): Promise<{ ids: string[]; contents: Record<string, string>[] }> {
  const ids: string[] = [];
  const contents: Record<string, string>[] = [];
  const current: Record<string, string> = { 'keep.txt': 'never changes', 'change.txt': 'day 0' };
  for (let day = 1; day <= days; day++) {
    current['change.txt'] = `day ${day}`;
    current[`new-${day}.txt`] = `added on day ${day}`;
    await putObjects(
      world().s3,
      spec.sourceBucket,
      Object.fromEntries(Object.entries(current).map(([k, v]) => [`data/${k}`, v])),
    );
    const event = {
      set: spec,
      executionId: `${spec.name}-${day}`,
      startedAt: new Date(Date.UTC(2026, 0, day, 2)).toISOString(),
    };
    const { last } = await untilDone(() => backup(event, context()));
    ids.push(last.backupId);
    contents.push({ ...current });
  }
  return { ids, contents };
}

async function newSet(name: string, fullEvery: number): Promise<SetSpec> {
  return {
    name,
    sourceBucket: await world().newBucket(`src-${name}`),
    prefix: 'data/',
    mode: 'incremental',
    fullEvery,
  };
}

/** Stored keys referenced by the complete backups of a set that no longer exist. */
async function danglingReferences(set: string): Promise<string[]> {
  const { s3, backupBucket } = world();
  const manifests = (await listKeys(s3, backupBucket, `backups/${set}/`)).filter((key) =>
    key.endsWith('/manifest.json'),
  );
  const missing: string[] = [];
  for (const key of manifests) {
    const manifest = manifestSchema.parse(
      JSON.parse((await readAll(s3, backupBucket, key)).get(key)!.toString('utf8')),
    );
    for (const descriptor of manifest.parts) {
      const part = partSchema.parse(
        JSON.parse((await readAll(s3, backupBucket, descriptor.key)).get(descriptor.key)!.toString('utf8')),
      );
      for (const entry of part.objects) {
        await s3
          .send(new HeadObjectCommand({ Bucket: backupBucket, Key: entry.storedKey }))
          .catch(() => missing.push(entry.storedKey));
      }
    }
  }
  return missing;
}

const folders = async (set: string) =>
  [
    ...new Set(
      (await listKeys(world().s3, world().backupBucket, `backups/${set}/`))
        .map((key) => key.split('/')[2]!)
        .filter(isBackupId),
    ),
  ].sort();

async function restoredContents(set: string, backupId: string): Promise<Record<string, string>> {
  const target = await world().newBucket('restore');
  const event = { set, backupId, targetBucket: target, targetPrefix: 'out/' };
  await untilDone((previous: any) => restore({ ...event, continuation: previous?.continuation }, context()));
  const objects = await readAll(world().s3, target, 'out/');
  return Object.fromEntries(
    [...objects].map(([key, body]) => [key.slice('out/'.length), body.toString('utf8')]),
  );
}

let photos: { ids: string[]; contents: Record<string, string>[] };
let docs: { ids: string[] };
let shared: { ids: string[] };
let capped: { ids: string[] };

beforeAll(async () => {
  Object.assign(process.env, {
    BACKUP_SETS: JSON.stringify([
      { name: 'photos', retention: 'aggressive' },
      { name: 'docs', retention: 'aggressive' },
      { name: 'shared', retention: 'aggressive' },
      { name: 'capped', retention: 'aggressive' },
    ]),
    RETENTION_POLICIES: JSON.stringify({ aggressive: { keepLast: 1 } }),
  });
  cleanup = (await import('../../functions/cleanup/handler.ts')).handler as Handler;

  // photos: two chains of three (full every 2 incrementals): F1 I2 I3 F4 I5 I6.
  photos = await history(await newSet('photos', 2), 6);
  for (const id of [photos.ids[2], photos.ids[5]]) {
    await untilDone((previous: any) =>
      verify({ set: 'photos', backupId: id, continuation: previous?.continuation }, context()),
    );
  }
  // docs: one chain whose middle backup's seal was replaced by one that does not open.
  docs = await history(await newSet('docs', 7), 3);
  await world().s3.send(
    new PutObjectCommand({
      Bucket: world().backupBucket,
      Key: sealKey('docs', docs.ids[1]!),
      Body: Buffer.from('not a seal'),
    }),
  );
  // capped: a full backup after every incremental: F1 I2 F3, of which F1 and I2 go.
  capped = await history(await newSet('capped', 1), 3);
  // shared: a full backup, then a hand-made newer full backup whose manifest points at the first one's objects.
  shared = await history(await newSet('shared', 7), 1);
  shared.ids.push(
    await sharingBackup(
      { s3: world().s3, bucket: world().backupBucket, keyArn: world().keyArn },
      'shared',
      shared.ids[0]!,
      '20260105T020000Z-0000beef',
    ),
  );
}, 120_000);

describe('cleanup of incremental backups', () => {
  it('reports in a dry run which backups would go and why, keeping the chain of the kept one, deleting nothing', async () => {
    const before = await listKeys(world().s3, world().backupBucket, 'backups/photos/');

    const report = await cleanup({ dryRun: true, targets: ['photos'] }, context());

    const [target] = report.targets;
    expect(target.deletions.map((d: any) => [d.id, d.outcome, d.reasons])).toEqual(
      [2, 1, 0].map((i) => [photos.ids[i], 'would-delete', ['not kept by any rule']]),
    );
    expect(target.decisions.find((d: any) => d.id === photos.ids[4])).toEqual({
      id: photos.ids[4],
      action: 'keep',
      reasons: [`chain of ${photos.ids[5]}`],
    });
    expect(target.notes).toContain('2 backup(s) the policy would delete are kept as links of a kept chain');
    expect(await listKeys(world().s3, world().backupBucket, 'backups/photos/')).toEqual(before);
  });

  it('finishes a remnant a crashed run left and deletes the rest of the old chain', async () => {
    // A run that crashed right after deleting the oldest backup's verification records and manifest.
    await world().s3.send(
      new DeleteObjectsCommand({
        Bucket: world().backupBucket,
        Delete: { Objects: [{ Key: manifestKey('photos', photos.ids[0]!) }] },
      }),
    );

    const report = await cleanup({ dryRun: false, targets: ['photos'] }, context());

    const [target] = report.targets;
    expect(target.status).toBe('done');
    expect(target.deletions.map((d: any) => [d.id, d.outcome])).toEqual([
      [photos.ids[2], 'deleted'],
      [photos.ids[1], 'deleted'],
      [photos.ids[0], 'deleted'],
    ]);
    expect(target.deletions[2].reasons).toEqual([
      'remnant of a deleted backup (no manifest, no work in progress)',
    ]);
    expect(await folders('photos')).toEqual(photos.ids.slice(3));
  });

  it('leaves every kept backup verifiable and restorable, with no reference to a deleted object', async () => {
    for (const id of photos.ids.slice(3)) {
      const { last } = await untilDone((previous: any) =>
        verify({ set: 'photos', backupId: id, continuation: previous?.continuation }, context()),
      );
      expect(last).toMatchObject({ ok: true, backupId: id });
    }
    expect(await restoredContents('photos', photos.ids[3]!)).toEqual(photos.contents[3]);
    expect(await restoredContents('photos', photos.ids[5]!)).toEqual(photos.contents[5]);
    expect(await danglingReferences('photos')).toEqual([]);
  });

  it('never touches a backup whose seal does not verify, nor the backups a kept one chains to through it', async () => {
    const before = await listKeys(world().s3, world().backupBucket, 'backups/docs/');

    const report = await cleanup({ dryRun: false, targets: ['docs'] }, context());

    const decisions = Object.fromEntries(report.targets[0].decisions.map((d: any) => [d.id, d.reasons]));
    expect(decisions).toEqual({
      [docs.ids[0]!]: [`chain of ${docs.ids[2]}`],
      [docs.ids[2]!]: ['last (1 of 1)'],
    });
    expect(report.targets[0].deletions).toEqual([]);
    expect(report.targets[0].tampering).toEqual([
      expect.objectContaining({ kind: 'unsealed-manifest', backupId: docs.ids[1] }),
    ]);
    expect(await listKeys(world().s3, world().backupBucket, 'backups/docs/')).toEqual(before);
  });

  it('keeps objects of a deleted backup that a kept manifest references', async () => {
    const [older, newer] = shared.ids as [string, string];
    // Copies stored alone and packs of small ones (7 small objects: one pack).
    const storedBefore = [
      ...(await listKeys(world().s3, world().backupBucket, `backups/shared/${older}/objects/`)),
      ...(await listKeys(world().s3, world().backupBucket, `backups/shared/${older}/packs/`)),
    ];
    expect(storedBefore.length).toBeGreaterThan(0);

    const report = await cleanup({ dryRun: false, targets: ['shared'] }, context());
    const again = await cleanup({ dryRun: false, targets: ['shared'] }, context());

    expect(report.targets[0].deletions).toEqual([
      expect.objectContaining({ id: older, outcome: 'deleted', objectsReferenced: storedBefore.length }),
    ]);
    expect(await listKeys(world().s3, world().backupBucket, `backups/shared/${older}/`)).toEqual(
      storedBefore,
    );
    expect(await danglingReferences('shared')).toEqual([]);
    expect(again.targets[0]).toMatchObject({ status: 'done', deletions: [] });
    expect(await folders('shared')).toEqual([older, newer]);
  });

  it('queues at most the capacity of folders for the fan-out, newest first, and leaves the rest with their manifest', async () => {
    // Prepare
    const queue = new FolderQueue(1);
    const crypto = backupCrypto({ keyArn: world().keyArn });

    // Act
    const report = await cleanBackups(
      world().s3,
      crypto,
      world().backupBucket,
      'capped',
      'aggressive',
      { keepLast: 1, timeZone: 'UTC', minKeep: 1 },
      {
        dryRun: false,
        now: new Date(),
        deadline: Number.MAX_SAFE_INTEGER,
        fanOut: queue,
      },
    );

    // Assess
    expect(queue.items).toEqual([
      { set: 'capped', id: capped.ids[1], kind: 'backup', reasons: ['not kept by any rule'], deleted: 1 },
    ]);
    expect(report.deletions).toEqual([
      {
        id: capped.ids[0],
        reasons: ['not kept by any rule'],
        outcome: 'skipped',
        detail: 'more than 1 folders to empty in this run: the next run deletes it',
      },
    ]);
    expect(report.status).toBe('incomplete');
    const keys = await listKeys(world().s3, world().backupBucket, 'backups/capped/');
    expect(keys).not.toContain(manifestKey('capped', capped.ids[1]!));
    expect(keys).toContain(manifestKey('capped', capped.ids[0]!));
  });
});
