/**
 * Backups under concurrency, and packs of small objects, on the sandbox through the real
 * handlers: every object's manifest entry and stored copy checked against the bytes the test
 * wrote (SHA-256, size, ETag, the copy decrypted with the stock Encryption SDK), packs laid out as
 * the format says, and every way a pack can be damaged found and named.
 */
import { createHash, randomBytes } from 'node:crypto';
import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ManifestEntry, partSchema } from '../../functions/common/backup/manifest.ts';
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

// Many objects in flight, small batches and 1 MiB packs, so batches hold several packs and
// copies stored alone between their members; 5 MiB parts, so the large objects are multipart.
const { world } = withBackupSandbox({
  BACKUP_CONCURRENCY: '32',
  BACKUP_BATCH_OBJECTS: '40',
  BACKUP_PACK_MB: '1',
  BACKUP_PART_SIZE_MB: '5',
  BACKUP_FRAME_KB: '64',
});

const stock = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

let count = 0;
let day = 0;

async function newSet(objects: Record<string, Buffer>) {
  const sourceBucket = await world().newBucket('source');
  await putObjects(world().s3, sourceBucket, objects);
  return {
    name: `packs-${++count}`,
    sourceBucket,
    prefix: 'data/',
    mode: 'incremental' as const,
    fullEvery: 7,
  };
}

async function backupOf(set: object, extra: object = {}) {
  const event = {
    set,
    executionId: `packs-${++day}`,
    startedAt: new Date(Date.UTC(2026, 2, day)).toISOString(),
  };
  return (await untilDone(() => backup({ ...event, ...extra }, context()))).last;
}

async function entriesOf(set: string, backupId: string): Promise<ManifestEntry[][]> {
  const parts = await readAll(world().s3, world().backupBucket, `backups/${set}/${backupId}/manifest-parts/`);
  return [...parts.values()].map((bytes) => partSchema.parse(JSON.parse(bytes.toString())).objects);
}

async function getBytes(key: string, range?: { start: number; length: number }): Promise<Buffer> {
  const got = await world().s3.send(
    new GetObjectCommand({
      Bucket: world().backupBucket,
      Key: key,
      ...(range ? { Range: `bytes=${range.start}-${range.start + range.length - 1}` } : {}),
    }),
  );
  return Buffer.from(await got.Body!.transformToByteArray());
}

async function putBytes(key: string, body: Buffer): Promise<void> {
  await world().s3.send(new PutObjectCommand({ Bucket: world().backupBucket, Key: key, Body: body }));
}

function copyOf(entry: ManifestEntry) {
  return getBytes(
    entry.storedKey,
    entry.storedOffset === undefined ? undefined : { start: entry.storedOffset, length: entry.storedSize },
  );
}

async function verifyFailure(set: { name: string }, backupId: string): Promise<any> {
  try {
    await untilDone((previous: any) =>
      verify({ set: set.name, backupId, continuation: previous?.continuation }, context()),
    );
  } catch (error) {
    return error;
  }
  throw new Error('verification passed');
}

describe('a backup of many objects of mixed sizes, 32 in flight', () => {
  const objects: Record<string, Buffer> = {};
  let set: Awaited<ReturnType<typeof newSet>>;
  let done: Awaited<ReturnType<typeof backupOf>>;
  let parts: ManifestEntry[][];

  beforeAll(async () => {
    const sizes = [
      ...Array.from({ length: 120 }, (_, i) => (i * 977) % 3001),
      ...Array.from({ length: 20 }, (_, i) => 200 * 1024 + i * 6 * 1024),
      ...Array.from({ length: 4 }, (_, i) => 1024 * 1024 + 1 + i),
      11 * 1024 * 1024 + 5,
      10 * 1024 * 1024,
    ];
    // Key order unrelated to size, so batches mix packed and lone copies.
    sizes.forEach((size, i) => {
      const name = createHash('sha1').update(String(i)).digest('hex').slice(0, 10);
      objects[`data/${name}-${i}.bin`] = randomBytes(size);
    });
    set = await newSet(objects);
    done = await backupOf(set);
    parts = await entriesOf(set.name, done.backupId);
  }, 120_000);

  it('records every object with the SHA-256, size and ETag of the bytes written, once', () => {
    const entries = parts.flat();

    expect(entries.map((entry) => entry.key).sort()).toEqual(Object.keys(objects).sort());
    for (const entry of entries) {
      const bytes = objects[entry.key]!;
      expect({ key: entry.key, size: entry.size, sha256: entry.sha256, etag: entry.etag }).toEqual({
        key: entry.key,
        size: bytes.length,
        sha256: sha256(bytes),
        etag: md5(bytes),
      });
      expect(entry.storedBackupId).toBe(done.backupId);
    }
    expect(done.result.totals).toMatchObject({ objects: 146, copiedObjects: 146, parts: 4 });
  });

  it('stores each copy as its own Encryption SDK message: the object, under set and backup', async () => {
    const keyring = new KmsKeyringNode({ keyIds: [world().keyArn] });

    for (const entry of parts.flat()) {
      const copy = await copyOf(entry);
      const { plaintext, messageHeader } = await stock.decrypt(keyring, copy);
      expect(copy.length).toBe(entry.storedSize);
      expect(Buffer.from(plaintext).equals(objects[entry.key]!), entry.key).toBe(true);
      expect(messageHeader.encryptionContext).toEqual({
        'caretaker:set': set.name,
        'caretaker:backup-id': done.backupId,
      });
    }
  });

  it('packs the small ones back to back, in order, and stores the others alone', async () => {
    const stored = new Set([
      ...(await listKeys(world().s3, world().backupBucket, `backups/${set.name}/${done.backupId}/objects/`)),
      ...(await listKeys(world().s3, world().backupBucket, `backups/${set.name}/${done.backupId}/packs/`)),
    ]);

    parts.forEach((entries, part) => {
      const batch = String(part + 1).padStart(8, '0');
      const packs = new Map<string, ManifestEntry[]>();
      entries.forEach((entry, index) => {
        if (entry.storedOffset === undefined) {
          expect(entry.storedKey).toMatch(new RegExp(`/objects/${batch}/${String(index).padStart(5, '0')}$`));
          expect(entry.size).toBeGreaterThan(256 * 1024);
        } else {
          expect(entry.storedKey).toMatch(new RegExp(`/packs/${batch}/\\d{5}$`));
          expect(entry.size).toBeLessThanOrEqual(256 * 1024);
          packs.set(entry.storedKey, [...(packs.get(entry.storedKey) ?? []), entry]);
        }
      });
      let previousLast = -1;
      for (const [key, members] of packs) {
        // Named by its first member; members follow each other in manifest order, packs too.
        const first = entries.indexOf(members[0]!);
        expect(key.endsWith(`/${String(first).padStart(5, '0')}`)).toBe(true);
        expect(first).toBeGreaterThan(previousLast);
        previousLast = entries.indexOf(members.at(-1)!);
        let offset = 0;
        for (const member of members) {
          expect(member.storedOffset).toBe(offset);
          offset += member.storedSize;
        }
      }
    });
    expect(stored).toEqual(new Set(parts.flat().map((entry) => entry.storedKey)));
    expect(parts.flat().filter((entry) => entry.storedOffset !== undefined).length).toBe(130);
  });

  it('verifies every object and restores byte for byte', async () => {
    const target = await world().newBucket('target');

    const verified = await verify({ set: set.name, backupId: done.backupId }, context());
    await untilDone((previous: any) =>
      restore(
        {
          set: set.name,
          backupId: done.backupId,
          targetBucket: target,
          targetPrefix: 'data/',
          continuation: previous?.continuation,
        },
        context(),
      ),
    );
    const restored = await readAll(world().s3, target, 'data/');

    expect(verified).toMatchObject({ ok: true, objectsChecked: 146, entriesChecked: 146 });
    expect(restored.size).toBe(146);
    for (const [key, bytes] of restored) expect(bytes.equals(objects[key]!), key).toBe(true);
  });
});

describe('objects that change between planning and copying', () => {
  it('stores one that grew past the small-object size alone, and records one deleted as vanished', async () => {
    const set = await newSet({
      'data/a': randomBytes(100),
      'data/grows': randomBytes(100),
      'data/goes': randomBytes(100),
      'data/z': randomBytes(100),
    });
    const event = { set, executionId: 'changes', startedAt: '2027-03-01T00:00:00Z' };
    const planned = await backup({ ...event, step: 'plan' }, context());
    const grown = randomBytes(2 * 1024 * 1024);
    await world().s3.send(new PutObjectCommand({ Bucket: set.sourceBucket, Key: 'data/grows', Body: grown }));
    await world().s3.send(new DeleteObjectCommand({ Bucket: set.sourceBucket, Key: 'data/goes' }));

    const { last } = await untilDone(() => backup({ ...event, backupId: planned.backupId }, context()));
    const [entries] = await entriesOf(set.name, last.backupId);

    expect(last.result.totals).toMatchObject({ objects: 3, vanishedObjects: 1 });
    expect(entries!.find((entry) => entry.key === 'data/grows')).toMatchObject({
      size: grown.length,
      sha256: sha256(grown),
      storedKey: expect.stringMatching(/\/objects\/00000001\/00002$/),
    });
    expect(entries!.find((entry) => entry.key === 'data/grows')!.storedOffset).toBeUndefined();
    expect(entries!.filter((entry) => entry.storedOffset !== undefined).map((entry) => entry.key)).toEqual([
      'data/a',
      'data/z',
    ]);
    expect(await verify({ set: set.name, backupId: last.backupId }, context())).toMatchObject({ ok: true });
  });
});

describe('verification finds a damaged pack', () => {
  /** A backup of six small objects (one pack), the pack's key and its entries by source key. */
  async function packed() {
    const set = await newSet(
      Object.fromEntries(
        ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => [`data/${name}`, Buffer.from(`${name}-value`)]),
      ),
    );
    const done = await backupOf(set);
    const entries = new Map(
      (await entriesOf(set.name, done.backupId)).flat().map((entry) => [entry.key, entry]),
    );
    const packKey = entries.get('data/a')!.storedKey;
    expect(new Set([...entries.values()].map((entry) => entry.storedKey))).toEqual(new Set([packKey]));
    return { set, backupId: done.backupId as string, entries, packKey, pack: await getBytes(packKey) };
  }

  it('names exactly the member whose bytes were flipped', async () => {
    const fixture = await packed();
    const c = fixture.entries.get('data/c')!;
    const bytes = Buffer.from(fixture.pack);
    bytes[c.storedOffset! + c.storedSize - 20]! ^= 1;
    await putBytes(fixture.packKey, bytes);

    const error = await verifyFailure(fixture.set, fixture.backupId);

    expect(error.details.problems).toEqual([
      expect.objectContaining({ problem: 'tampered-object', key: 'data/c', storedKey: fixture.packKey }),
    ]);
  });

  it('finds two members of equal size swapped by their checksums', async () => {
    const fixture = await packed();
    const [b, e] = [fixture.entries.get('data/b')!, fixture.entries.get('data/e')!];
    expect(b.storedSize).toBe(e.storedSize);
    const bytes = Buffer.from(fixture.pack);
    fixture.pack.copy(bytes, b.storedOffset!, e.storedOffset!, e.storedOffset! + e.storedSize);
    fixture.pack.copy(bytes, e.storedOffset!, b.storedOffset!, b.storedOffset! + b.storedSize);
    await putBytes(fixture.packKey, bytes);

    const error = await verifyFailure(fixture.set, fixture.backupId);

    expect(error.details.problems).toHaveLength(2);
    expect(error.details.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ problem: 'checksum-mismatch', key: 'data/b' }),
        expect.objectContaining({ problem: 'checksum-mismatch', key: 'data/e' }),
      ]),
    );
  });

  it('finds a truncated pack at the member that no longer fits', async () => {
    const fixture = await packed();
    await putBytes(fixture.packKey, fixture.pack.subarray(0, fixture.pack.length - 3));

    const error = await verifyFailure(fixture.set, fixture.backupId);

    expect(error.details.problems).toEqual([
      expect.objectContaining({
        problem: 'truncated-object',
        key: 'data/f',
        actual: fixture.pack.length - 3,
      }),
    ]);
  });

  it('finds bytes appended to a pack', async () => {
    const fixture = await packed();
    await putBytes(fixture.packKey, Buffer.concat([fixture.pack, Buffer.from('extra')]));

    const error = await verifyFailure(fixture.set, fixture.backupId);

    expect(error.details.problems).toEqual([
      expect.objectContaining({
        problem: 'stored-size-mismatch',
        key: 'data/f',
        expected: fixture.pack.length,
        actual: fixture.pack.length + 5,
      }),
    ]);
  });

  it('finds every member of a deleted pack missing, and an extra pack', async () => {
    const fixture = await packed();
    const extraKey = fixture.packKey.replace(/\d{5}$/, '00099');
    await world().s3.send(new DeleteObjectCommand({ Bucket: world().backupBucket, Key: fixture.packKey }));
    await putBytes(extraKey, fixture.pack);

    const error = await verifyFailure(fixture.set, fixture.backupId);
    const problems = error.details.problems as Array<{ problem: string; key?: string; storedKey?: string }>;

    expect(problems.filter((p) => p.problem === 'missing-object').map((p) => p.key)).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => `data/${name}`),
    );
    expect(problems.filter((p) => p.problem === 'extra-object')).toEqual([
      expect.objectContaining({ storedKey: extraKey }),
    ]);
  });

  it('verifies a pack split across calls by a tiny time budget', async () => {
    const fixture = await packed();

    const { last, calls } = await untilDone((previous: any) =>
      verify(
        {
          set: fixture.set.name,
          backupId: fixture.backupId,
          timeBudgetMs: 1,
          continuation: previous?.continuation,
        },
        context(),
      ),
    );

    expect(calls).toBeGreaterThan(2);
    expect(last).toMatchObject({ ok: true, objectsChecked: 6, entriesChecked: 6 });
  });
});
