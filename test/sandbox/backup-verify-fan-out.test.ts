/**
 * Verification fanned out over a backup's parts (plan → one child per range → finish), on the
 * sandbox with the real backup-verify handler: it finds what the whole-in-one-function
 * verification finds, names the damaged object, covers stray stored objects outside every part,
 * resumes a range across calls, and writes the same verification record.
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { partSchema } from '../../functions/common/backup/manifest.ts';
import {
  backup,
  context,
  putObjects,
  readAll,
  verify,
  verifyFannedOut,
  withBackupSandbox,
} from './backup-harness.ts';

// Three objects per batch, so eleven objects make four parts; small ones are packed, c.bin not.
const { world } = withBackupSandbox({ BACKUP_BATCH_OBJECTS: '3', BACKUP_PACK_OBJECT_KB: '64' });

let count = 0;

async function freshBackup() {
  const sourceBucket = await world().newBucket('source');
  const objects: Record<string, string | Buffer> = { 'data/c.bin': randomBytes(300 * 1024) };
  for (let i = 0; i < 10; i++) objects[`data/k${String(i).padStart(2, '0')}.txt`] = `object ${i}`;
  await putObjects(world().s3, sourceBucket, objects);
  const set = {
    name: `fan-${++count}`,
    sourceBucket,
    prefix: 'data/',
    mode: 'incremental' as const,
    fullEvery: 7,
  };
  const done = await backup(
    { set, executionId: `e${count}`, startedAt: new Date(Date.UTC(2026, 1, count)).toISOString() },
    context(),
  );
  return { set: set.name, backupId: done.backupId as string };
}

async function partEntries(set: string, backupId: string) {
  const parts = await readAll(world().s3, world().backupBucket, `backups/${set}/${backupId}/manifest-parts/`);
  return [...parts.values()].flatMap((bytes) => partSchema.parse(JSON.parse(bytes.toString())).objects);
}

async function failureOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('verification passed');
}

describe('fanned-out verification', () => {
  it('splits the parts into ranges and verifies every object once, writing the verification record', async () => {
    const { set, backupId } = await freshBackup();

    const { result, plan } = await verifyFannedOut({ set, backupId, partsPerItem: 1 });

    expect(plan.parts).toBe(4);
    expect(plan.items).toEqual([
      { from: 0, to: 1 },
      { from: 1, to: 2 },
      { from: 2, to: 3 },
      { from: 3, to: 4 },
    ]);
    expect(result).toMatchObject({
      done: true,
      ok: true,
      backupId,
      subset: 'all',
      objectsChecked: 11,
      entriesChecked: 11,
    });
    const records = await readAll(
      world().s3,
      world().backupBucket,
      `backups/${set}/${backupId}/verifications/`,
    );
    expect([...records.keys()]).toEqual([result.recordKey]);
  });

  it('counts the same as the verification in one function', async () => {
    const { set, backupId } = await freshBackup();

    const { result } = await verifyFannedOut({ set, backupId, partsPerItem: 2 });
    const whole = await verify({ set, backupId }, context());

    expect(whole.done).toBe(true);
    expect(result).toMatchObject({
      objectsChecked: whole.objectsChecked,
      entriesChecked: whole.entriesChecked,
      bytesChecked: whole.bytesChecked,
      manifestSha256: whole.manifestSha256,
    });
  });

  it('names a damaged object of a middle part, and every range reports its own findings', async () => {
    const { set, backupId } = await freshBackup();
    const entries = await partEntries(set, backupId);
    const big = entries.find((entry) => entry.key === 'data/c.bin')!;
    const got = await world().s3.send(
      new GetObjectCommand({ Bucket: world().backupBucket, Key: big.storedKey }),
    );
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    bytes[bytes.length >> 1]! ^= 1;
    await world().s3.send(
      new PutObjectCommand({ Bucket: world().backupBucket, Key: big.storedKey, Body: bytes }),
    );
    // The last part's first copy (its pack's members all go missing with it: one kept per range).
    const last = entries.find((entry) => entry.storedKey === entries.at(-1)!.storedKey)!;
    await world().s3.send(new DeleteObjectCommand({ Bucket: world().backupBucket, Key: last.storedKey }));

    const error = await failureOf(verifyFannedOut({ set, backupId, partsPerItem: 1 }));

    expect(error.name).toBe('IntegrityError');
    expect(error.message).toMatch(/tampered-object: object "data\/c\.bin"/);
    expect(error.details.problems.map((p: any) => [p.problem, p.key])).toEqual(
      expect.arrayContaining([
        ['tampered-object', 'data/c.bin'],
        ['missing-object', last.key],
      ]),
    );
    expect(error.details.problemCount).toBe(1 + entries.filter((e) => e.storedKey === last.storedKey).length);
  });

  it('finds objects no entry names, inside a batch folder and in a folder no part has', async () => {
    const { set, backupId } = await freshBackup();
    const base = `backups/${set}/${backupId}`;
    await putObjects(world().s3, world().backupBucket, {
      [`${base}/objects/00000001/99999`]: 'planted in a batch folder',
      [`${base}/objects/00000077/00000`]: 'planted in a folder of no part',
      [`${base}/packs/loose`]: 'planted beside the folders',
    });

    const error = await failureOf(verifyFannedOut({ set, backupId, partsPerItem: 1 }));

    expect(error.details.problemCount).toBe(3);
    expect(error.details.problems.map((p: any) => p.storedKey).sort()).toEqual(
      [`${base}/objects/00000001/99999`, `${base}/objects/00000077/00000`, `${base}/packs/loose`].sort(),
    );
    expect(new Set(error.details.problems.map((p: any) => p.problem))).toEqual(new Set(['extra-object']));
  });

  it('resumes a range across calls when its time budget runs out, with the same outcome', async () => {
    const { set, backupId } = await freshBackup();

    const { result, rangeCalls } = await verifyFannedOut(
      { set, backupId, partsPerItem: 4 },
      { timeBudgetMs: 1 },
    );

    expect(rangeCalls).toBeGreaterThan(1);
    expect(result).toMatchObject({ ok: true, objectsChecked: 11, entriesChecked: 11 });
  });

  it('refuses a finish whose ranges leave a part out', async () => {
    const { set, backupId } = await freshBackup();
    const plan = await verify({ step: 'plan', set, backupId, partsPerItem: 1 }, context());
    const summary = (from: number) => ({
      from,
      to: from + 1,
      entriesChecked: 3,
      objectsRead: 3,
      bytesRead: 3,
      problemCount: 0,
      problems: [],
    });

    const error = await failureOf(
      verify(
        {
          step: 'finish',
          set,
          backupId,
          subset: plan.subset,
          manifestSha256: plan.manifestSha256,
          startedAt: plan.startedAt,
          chainLinks: 0,
          results: [summary(0), summary(1), summary(3)],
        },
        context(),
      ),
    );

    expect(error.name).toBe('IntegrityError');
    expect(error.message).toMatch(/parts not verified exactly once: 2/);
  });

  it('rejects a range event with to not after from, naming the field', async () => {
    const error = await failureOf(
      verify(
        {
          step: 'range',
          set: 'fan-x',
          backupId: '20260101T000000Z-0000abcd',
          subset: 'all',
          manifestSha256: 'a'.repeat(64),
          from: 2,
          to: 2,
        },
        context(),
      ),
    );

    expect(error.name).toBe('ValidationError');
    expect(error.message).toMatch(/to: must be greater than from/);
  });
});
