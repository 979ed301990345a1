/**
 * backup-restore's disaster-recovery actions on the sandbox (S3 + KMS), through the real handler:
 * `choose` takes the newest sealed and verified backup and says what it passed over (unverified,
 * dated in the future, a manifest that does not check out); `restore` tags what it writes with
 * its restore id; `teardown` removes exactly those objects — putting back what they replaced,
 * leaving everything else alone — and resumes across calls.
 */
import { GetObjectCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { manifestKey } from '../../functions/common/backup/layout.ts';
import {
  backup,
  context,
  putObjects,
  readAll,
  restore,
  untilDone,
  verify,
  withBackupSandbox,
} from './backup-harness.ts';

const { world } = withBackupSandbox();

const EXECUTION = 'arn:aws:states:us-east-1:000000000000:execution:Caretaker-test-DisasterRecovery:drill-1';
const STARTED_AT = '2026-04-01T05:00:00.000Z';
let sets = 0;
let day = 0;

async function newSet(objects: Record<string, string | Buffer>) {
  const sourceBucket = await world().newBucket('source');
  await putObjects(
    world().s3,
    sourceBucket,
    Object.fromEntries(Object.entries(objects).map(([key, body]) => [`data/${key}`, body])),
  );
  return { name: `dr-set-${++sets}`, sourceBucket, prefix: 'data/', mode: 'full' as const, fullEvery: 1 };
}

async function backupOf(set: object): Promise<string> {
  const event = {
    set,
    executionId: `nightly-${++day}`,
    startedAt: new Date(Date.UTC(2026, 2, day)).toISOString(),
  };
  return (await untilDone(() => backup(event, context()))).last.backupId;
}

async function verified(set: { name: string }, backupId: string): Promise<void> {
  await untilDone((previous: any) =>
    verify({ set: set.name, backupId, continuation: previous?.continuation }, context()),
  );
}

async function drRestore(
  set: { name: string },
  backupId: string,
  targetBucket: string,
  targetPrefix: string,
) {
  const event = {
    set: set.name,
    backupId,
    targetBucket,
    targetPrefix,
    executionId: EXECUTION,
    startedAt: STARTED_AT,
  };
  return (
    await untilDone((previous: any) => restore({ ...event, continuation: previous?.continuation }, context()))
  ).last;
}

async function teardown(
  set: { name: string },
  targetBucket: string,
  targetPrefix: string,
  extra: object = {},
) {
  const event = {
    action: 'teardown',
    set: set.name,
    targetBucket,
    targetPrefix,
    executionId: EXECUTION,
    startedAt: STARTED_AT,
    ...extra,
  };
  return untilDone((previous: any) => restore({ ...event, continuation: previous?.continuation }, context()));
}

async function text(bucket: string, key: string): Promise<string> {
  const got = await world().s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return got.Body!.transformToString();
}

describe('choose', () => {
  it('takes the newest sealed and verified backup, naming the newer ones it passed over and why', async () => {
    const set = await newSet({ 'a.txt': 'one' });
    const older = await backupOf(set);
    await verified(set, older);
    const tampered = await backupOf(set);
    await verified(set, tampered);
    const unverified = await backupOf(set);
    // A manifest edited after its seal: verified once, but it no longer checks out.
    const key = manifestKey(set.name, tampered);
    const manifest = JSON.parse(await text(world().backupBucket, key));
    await world().s3.send(
      new PutObjectCommand({
        Bucket: world().backupBucket,
        Key: key,
        Body: JSON.stringify({ ...manifest, createdAt: '2026-01-01T00:00:00.000Z' }),
      }),
    );
    // A folder dated in the future, with a manifest and a verification record of its own.
    const future = '20990101T000000Z-0a0b0c0d';
    await putObjects(world().s3, world().backupBucket, {
      [manifestKey(set.name, future)]: JSON.stringify(manifest),
      [`backups/${set.name}/${future}/verifications/20990101T000001Z.json`]: '{}',
    });

    const chosen = await restore({ action: 'choose', set: set.name, executionId: EXECUTION }, context());

    expect(chosen).toMatchObject({
      set: set.name,
      backupId: older,
      source: 'newest-verified',
      skipped: [
        { id: future, kind: 'future' },
        { id: unverified, kind: 'unverified' },
        { id: tampered, kind: 'integrity', why: expect.stringContaining('edited-manifest') },
      ],
      skippedCount: 3,
    });
    expect(chosen.verifiedAt).toEqual(expect.any(String));
    expect(chosen.reason).toContain(`${older} is the newest sealed and verified backup of ${set.name}`);
  });

  it('takes a given backup that was never verified, and says so', async () => {
    const set = await newSet({ 'a.txt': 'one' });
    const backupId = await backupOf(set);

    const chosen = await restore({ action: 'choose', set: set.name, backupId }, context());

    expect(chosen).toMatchObject({ backupId, source: 'given', verifiedAt: null });
    expect(chosen.reason).toContain('never verified: the restore reads back every object first');
  });

  it('refuses a given backup that does not exist, and one whose manifest does not check out', async () => {
    const set = await newSet({ 'a.txt': 'one' });
    const backupId = await backupOf(set);
    await world().s3.send(
      new PutObjectCommand({
        Bucket: world().backupBucket,
        Key: manifestKey(set.name, backupId),
        Body: '{}',
      }),
    );

    await expect(
      restore({ action: 'choose', set: set.name, backupId: '20260101T000000Z-00000000' }, context()),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(restore({ action: 'choose', set: set.name, backupId }, context())).rejects.toMatchObject({
      name: 'IntegrityError',
    });
  });

  it('finds nothing when no backup of the set is verified', async () => {
    const set = await newSet({ 'a.txt': 'one' });
    await backupOf(set);

    await expect(restore({ action: 'choose', set: set.name }, context())).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining('has no sealed, verified backup among 1'),
    });
  });
});

describe('teardown', () => {
  it('removes what the restore wrote, puts back what it overwrote, and leaves the rest alone', async () => {
    const set = await newSet({ 'a.txt': 'restored-a', 'b.txt': 'restored-b', 'c.txt': 'restored-c' });
    const backupId = await backupOf(set);
    const target = await world().newBucket('dr');
    await putObjects(world().s3, target, {
      'dr/a.txt': 'was-here-before',
      'dr/other.txt': 'not the restore’s',
    });

    await drRestore(set, backupId, target, 'dr/');
    const tags = await world().s3.send(new GetObjectTaggingCommand({ Bucket: target, Key: 'dr/b.txt' }));
    // Someone changes a restored object after the restore: it is no longer the restore's.
    await putObjects(world().s3, target, { 'dr/c.txt': 'changed since' });
    const { last } = await teardown(set, target, 'dr/');
    const left = await readAll(world().s3, target, 'dr/');

    expect(Object.fromEntries(tags.TagSet!.map((tag) => [tag.Key, tag.Value]))).toMatchObject({
      'caretaker:restore': expect.stringMatching(/^restore-20260401T050000Z-[0-9a-f]{8}$/),
      'caretaker:execution': EXECUTION,
    });
    expect(last).toMatchObject({ done: true, deleted: 1, putBack: 1, kept: 2 });
    expect(Object.fromEntries([...left].map(([key, body]) => [key, body.toString()]))).toEqual({
      'dr/a.txt': 'was-here-before',
      'dr/c.txt': 'changed since',
      'dr/other.txt': 'not the restore’s',
    });
  });

  it("leaves another execution's restore alone", async () => {
    const set = await newSet({ 'a.txt': 'restored-a' });
    const backupId = await backupOf(set);
    const target = await world().newBucket('dr');
    await drRestore(set, backupId, target, 'dr/');

    const { last } = await teardown(set, target, 'dr/', { executionId: `${EXECUTION}-other` });

    expect(last).toMatchObject({ deleted: 0, putBack: 0, kept: 1 });
    expect([...(await readAll(world().s3, target, 'dr/')).keys()]).toEqual(['dr/a.txt']);
  });

  it('resumes across calls when a call runs out of time, and is done at once when run again', async () => {
    const objects = Object.fromEntries(Array.from({ length: 205 }, (_, i) => [`f${i}.txt`, `body-${i}`]));
    const set = await newSet(objects);
    const backupId = await backupOf(set);
    const target = await world().newBucket('dr');
    await drRestore(set, backupId, target, 'dr/');

    const first = await teardown(set, target, 'dr/', { timeBudgetMs: 1 });
    const again = await teardown(set, target, 'dr/');

    expect(first.calls).toBe(2);
    expect(first.last).toMatchObject({ deleted: 205, putBack: 0, kept: 0 });
    expect(again.last).toMatchObject({ deleted: 0, putBack: 0, kept: 0 });
    expect(await readAll(world().s3, target, 'dr/')).toEqual(new Map());
  });

  it('refuses to tear down in the backup bucket', async () => {
    await expect(
      restore(
        {
          action: 'teardown',
          set: 'any',
          targetBucket: world().backupBucket,
          targetPrefix: '',
          executionId: EXECUTION,
          startedAt: STARTED_AT,
        },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
