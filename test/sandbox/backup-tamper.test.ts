/**
 * Tamper evidence on the sandbox: every way a backup can be damaged makes backup-verify fail
 * with an IntegrityError naming the object (or manifest) and what is wrong, and restore refuses
 * such a backup. Each test damages a fresh backup.
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { backupCrypto } from '../../functions/common/backup/crypto.ts';
import { manifestKey, sealKey } from '../../functions/common/backup/layout.ts';
import { objectContext, partSchema } from '../../functions/common/backup/manifest.ts';
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

// Every copy stored alone, as large objects are (and as format 1 stored everything): each test
// damages one stored object and expects exactly that object named. backup-packs.test.ts damages
// packs of small objects.
const { world } = withBackupSandbox({ BACKUP_PACK_OBJECT_KB: '0' });

let count = 0;

interface Fixture {
  readonly set: {
    name: string;
    sourceBucket: string;
    prefix: string;
    mode: 'incremental';
    fullEvery: number;
  };
  readonly backupId: string;
  /** Stored key of each source key. */
  readonly stored: Map<string, string>;
}

/** A backup of five objects (two of equal size, so they can be swapped) and where each is stored. */
async function freshBackup(extra: Record<string, string | Buffer> = {}): Promise<Fixture> {
  const s3 = world().s3;
  const sourceBucket = await world().newBucket('source');
  await putObjects(s3, sourceBucket, {
    'data/a.txt': 'alpha-1',
    'data/b.txt': 'bravo-2',
    'data/c.bin': randomBytes(3 * 1024 * 1024),
    'data/d.txt': 'delta',
    'data/e.txt': 'echo',
    ...extra,
  });
  const set = {
    name: `tamper-${++count}`,
    sourceBucket,
    prefix: 'data/',
    mode: 'incremental' as const,
    fullEvery: 7,
  };
  const done = await backup(
    { set, executionId: `e${count}`, startedAt: new Date(Date.UTC(2026, 0, count)).toISOString() },
    context(),
  );
  return { set, backupId: done.backupId, stored: await storedKeys(set.name, done.backupId) };
}

async function storedKeys(set: string, backupId: string): Promise<Map<string, string>> {
  const s3 = world().s3;
  const parts = await readAll(s3, world().backupBucket, `backups/${set}/${backupId}/manifest-parts/`);
  const map = new Map<string, string>();
  for (const bytes of parts.values()) {
    for (const entry of partSchema.parse(JSON.parse(bytes.toString())).objects)
      map.set(entry.key, entry.storedKey);
  }
  return map;
}

async function get(key: string): Promise<Buffer> {
  const got = await world().s3.send(new GetObjectCommand({ Bucket: world().backupBucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

async function put(key: string, body: Buffer | string): Promise<void> {
  await world().s3.send(new PutObjectCommand({ Bucket: world().backupBucket, Key: key, Body: body }));
}

async function remove(key: string): Promise<void> {
  await world().s3.send(new DeleteObjectCommand({ Bucket: world().backupBucket, Key: key }));
}

/** The IntegrityError verification fails with. */
async function verifyFailure(fixture: Fixture, extra: object = {}): Promise<any> {
  try {
    await untilDone((previous: any) =>
      verify(
        { set: fixture.set.name, backupId: fixture.backupId, continuation: previous?.continuation, ...extra },
        context(),
      ),
    );
  } catch (error) {
    return error;
  }
  throw new Error('verification passed');
}

describe('verification detects', () => {
  it('one flipped byte in a stored object, naming the object', async () => {
    const fixture = await freshBackup();
    const key = fixture.stored.get('data/c.bin')!;
    const bytes = await get(key);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await put(key, bytes);

    const error = await verifyFailure(fixture);

    expect(error.name).toBe('IntegrityError');
    expect(error.details).toMatchObject({ problem: 'tampered-object', key: 'data/c.bin', problemCount: 1 });
    expect(error.message).toMatch(/tampered-object: object "data\/c\.bin"/);
  });

  it('a truncated stored object', async () => {
    const fixture = await freshBackup();
    const key = fixture.stored.get('data/c.bin')!;
    await put(key, (await get(key)).subarray(0, 1024 * 1024));

    const error = await verifyFailure(fixture);

    expect(error.details).toMatchObject({ problem: 'truncated-object', key: 'data/c.bin' });
  });

  it('a missing stored object', async () => {
    const fixture = await freshBackup();
    await remove(fixture.stored.get('data/d.txt')!);

    const error = await verifyFailure(fixture);

    expect(error.details).toMatchObject({ problem: 'missing-object', key: 'data/d.txt' });
  });

  it('an extra object added to the backup', async () => {
    const fixture = await freshBackup();
    const extra = `backups/${fixture.set.name}/${fixture.backupId}/objects/00000001/99999`;
    await put(extra, 'planted');

    const error = await verifyFailure(fixture);

    expect(error.details).toMatchObject({
      problem: 'extra-object',
      problems: [expect.objectContaining({ storedKey: extra })],
    });
  });

  it('two stored objects swapped (same size, both authentic ciphertext), by their checksums', async () => {
    const fixture = await freshBackup();
    const a = fixture.stored.get('data/a.txt')!;
    const b = fixture.stored.get('data/b.txt')!;
    const [bytesA, bytesB] = [await get(a), await get(b)];
    expect(bytesA.length).toBe(bytesB.length);
    await put(a, bytesB);
    await put(b, bytesA);

    const error = await verifyFailure(fixture);

    // Objects of one backup share their encryption context (format 2), so the sealed manifest's
    // SHA-256 is what tells them apart. Reads run concurrently: the findings come in either order.
    expect(error.details.problems).toHaveLength(2);
    expect(error.details.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ problem: 'checksum-mismatch', key: 'data/a.txt', storedKey: a }),
        expect.objectContaining({ problem: 'checksum-mismatch', key: 'data/b.txt', storedKey: b }),
      ]),
    );
  });

  it("another backup's authentic copy of the same object, by its encryption context", async () => {
    const victim = await freshBackup();
    const donor = await freshBackup();
    const key = victim.stored.get('data/d.txt')!;
    await put(key, await get(donor.stored.get('data/d.txt')!));

    const error = await verifyFailure(victim);

    // The plaintext is right; the copy was stored by another backup of another set.
    expect(error.details).toMatchObject({ problem: 'wrong-context', key: 'data/d.txt' });
    expect(error.details.problems).toEqual([
      expect.objectContaining({
        problem: 'wrong-context',
        key: 'data/d.txt',
        expected: victim.backupId,
        actual: `${donor.backupId} (set ${donor.set.name})`,
      }),
    ]);
  });

  it('an object re-encrypted under another key, even with the right encryption context', async () => {
    const fixture = await freshBackup();
    const key = fixture.stored.get('data/e.txt')!;
    const foreign = backupCrypto({ keyArn: await world().newKey() });
    const forged = await foreign.encryptObject(
      Buffer.from('echo'),
      objectContext(fixture.set.name, fixture.backupId),
    );
    expect(forged.length).toBe((await get(key)).length);
    await put(key, forged);

    const error = await verifyFailure(fixture);

    expect(error.details).toMatchObject({ problem: 'wrong-key', key: 'data/e.txt' });
  });

  it('an edited manifest', async () => {
    const fixture = await freshBackup();
    const key = manifestKey(fixture.set.name, fixture.backupId);
    await put(key, (await get(key)).toString().replace('"mode": "full"', '"mode": "incremental"'));

    const error = await verifyFailure(fixture);

    expect(error.details).toMatchObject({ problem: 'edited-manifest', backupId: fixture.backupId });
  });

  it('an edited manifest part (an entry changed to match a swapped object)', async () => {
    const fixture = await freshBackup();
    const [partKey] = await listKeys(
      world().s3,
      world().backupBucket,
      `backups/${fixture.set.name}/${fixture.backupId}/manifest-parts/`,
    );
    await put(partKey!, (await get(partKey!)).toString().replace('"size":5', '"size":6'));

    const error = await verifyFailure(fixture);

    expect(error.details).toMatchObject({
      problem: 'edited-part',
      problems: [expect.objectContaining({ storedKey: partKey })],
    });
  });

  it('a missing manifest, and a missing seal', async () => {
    const noManifest = await freshBackup();
    const noSeal = await freshBackup();
    await remove(manifestKey(noManifest.set.name, noManifest.backupId));
    await remove(sealKey(noSeal.set.name, noSeal.backupId));

    expect((await verifyFailure(noManifest)).details).toMatchObject({ problem: 'missing-manifest' });
    expect((await verifyFailure(noSeal)).details).toMatchObject({ problem: 'missing-seal' });
  });

  it('a manifest and seal copied over from another backup', async () => {
    const victim = await freshBackup();
    const donor = await freshBackup();
    await put(
      manifestKey(victim.set.name, victim.backupId),
      await get(manifestKey(donor.set.name, donor.backupId)),
    );
    await put(sealKey(victim.set.name, victim.backupId), await get(sealKey(donor.set.name, donor.backupId)));

    expect((await verifyFailure(victim)).details).toMatchObject({ problem: 'edited-manifest' });
  });

  it("a deleted or edited parent manifest, from the child's chain", async () => {
    const fixture = await freshBackup();
    await putObjects(world().s3, fixture.set.sourceBucket, { 'data/f.txt': 'foxtrot' });
    const childDone = await backup(
      { set: fixture.set, executionId: 'child', startedAt: '2027-01-01T00:00:00Z' },
      context(),
    );
    const child = { ...fixture, backupId: childDone.backupId };
    const parentKey = manifestKey(fixture.set.name, fixture.backupId);
    const parentBytes = await get(parentKey);

    await put(parentKey, Buffer.concat([parentBytes, Buffer.from('\n')]));
    const edited = await verifyFailure(child);
    await remove(parentKey);
    const missing = await verifyFailure(child);

    expect(edited.details).toMatchObject({
      problem: 'edited-parent',
      backupId: child.backupId,
      storedKey: parentKey,
    });
    expect(missing.details).toMatchObject({ problem: 'missing-parent', backupId: child.backupId });
  });
});

describe('subset verification', () => {
  it('finds a damaged object in exactly one of the t groups, so t runs cover everything', async () => {
    const fixture = await freshBackup();
    await remove(fixture.stored.get('data/b.txt')!);
    await remove(fixture.stored.get('data/b.txt')!);
    const key = fixture.stored.get('data/c.bin')!;
    const bytes = await get(key);
    bytes[100]! ^= 0x80;
    await put(key, bytes);

    const outcomes = [];
    for (let n = 1; n <= 3; n++) {
      try {
        await verify({ set: fixture.set.name, backupId: fixture.backupId, subset: `${n}/3` }, context());
        outcomes.push('ok');
      } catch (error: any) {
        outcomes.push(error.details.problems.map((p: any) => p.problem).join(','));
      }
    }

    // A missing object is found by the listing in every run; the altered bytes only when read.
    expect(outcomes.filter((outcome) => outcome.includes('tampered-object'))).toHaveLength(1);
    expect(outcomes.every((outcome) => outcome.includes('missing-object'))).toBe(true);
  });
});

describe('restore', () => {
  it('refuses a tampered backup and writes nothing to the target', async () => {
    const fixture = await freshBackup();
    const key = fixture.stored.get('data/e.txt')!;
    const bytes = await get(key);
    bytes[bytes.length - 1]! ^= 0x01;
    await put(key, bytes);
    const target = await world().newBucket('target');
    await putObjects(world().s3, target, { 'restored/e.txt': 'current' });

    const error = await restore(
      { set: fixture.set.name, backupId: fixture.backupId, targetBucket: target, targetPrefix: 'restored/' },
      context(),
    ).catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: 'IntegrityError',
      details: { problem: 'tampered-object', key: 'data/e.txt' },
    });
    expect([...(await readAll(world().s3, target))].map(([k, v]) => [k, v.toString()])).toEqual([
      ['restored/e.txt', 'current'],
    ]);
  });

  it('puts the target back as it was when a tampered object is only discovered midway', async () => {
    const fixture = await freshBackup({ 'data/z-last.txt': 'last object, tampered' });
    const key = fixture.stored.get('data/z-last.txt')!;
    const bytes = await get(key);
    bytes[bytes.length - 3]! ^= 0x01;
    await put(key, bytes);
    const target = await world().newBucket('target');
    await putObjects(world().s3, target, {
      'restored/a.txt': 'old alpha',
      'restored/d.txt': 'old delta',
      'restored/unrelated.txt': 'untouched',
    });
    const before = await readAll(world().s3, target);

    const error = await restore(
      {
        set: fixture.set.name,
        backupId: fixture.backupId,
        targetBucket: target,
        targetPrefix: 'restored/',
        verifyFirst: 'manifest',
      },
      context(),
    ).catch((e: unknown) => e);
    const after = await readAll(world().s3, target);

    expect(error).toMatchObject({
      name: 'IntegrityError',
      message: expect.stringMatching(/failed and was rolled back/),
      details: {
        problem: 'tampered-object',
        key: 'data/z-last.txt',
        rolledBack: true,
        restoredBeforeFailure: 5,
      },
    });
    expect(error.details.objectsPutBack).toBe(2);
    expect(error.details.objectsDeleted).toBe(3);
    expect([...after].map(([k, v]) => [k, v.toString('base64')])).toEqual(
      [...before].map(([k, v]) => [k, v.toString('base64')]),
    );
  });
});

describe('the next backup', () => {
  it('refuses to chain an incremental onto a tampered manifest, and starts a new chain when forced', async () => {
    const fixture = await freshBackup();
    const key = manifestKey(fixture.set.name, fixture.backupId);
    await put(key, (await get(key)).toString().replace('"objects": 5', '"objects": 4'));
    const next = { set: fixture.set, executionId: 'next', startedAt: '2027-06-01T00:00:00Z' };

    const refused = await backup(next, context()).catch((e: unknown) => e);
    const forced = await backup({ ...next, executionId: 'forced', forceFull: true }, context());

    expect(refused).toMatchObject({
      name: 'IntegrityError',
      message: expect.stringMatching(/Refusing to take an incremental backup .* onto/),
      details: { problem: 'edited-manifest', parentBackupId: fixture.backupId },
    });
    expect(forced.result).toMatchObject({ mode: 'full', parentBackupId: null });
  });
});
