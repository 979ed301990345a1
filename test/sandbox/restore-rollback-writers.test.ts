/**
 * A restore's rollback and a disaster-recovery teardown never undo someone else's write
 * (docs/security.md), on the sandbox (S3 + KMS) through the real handlers: a writer changes
 * objects in the target while a restore that is going to fail runs; the rollback puts back and
 * deletes only what the restore wrote and names what it left alone. And the writes themselves are
 * conditional on the ETag seen (If-Match, which the sandbox's S3 enforces on PUT and DELETE): a
 * write that lands between the look and the undo wins.
 */
import { randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { backupCrypto } from '../../functions/common/backup/crypto.ts';
import { partSchema } from '../../functions/common/backup/manifest.ts';
import { DEFAULT_UPLOAD_TUNING } from '../../functions/common/backup/s3-io.ts';
import { undoRestoredObject } from '../../functions/common/backup/undo-write.ts';
import { backup, context, putObjects, readAll, restore, withBackupSandbox } from './backup-harness.ts';

const { world } = withBackupSandbox();

let sets = 0;

/** A backup of a..e and z-last (tampered, so a restore fails on it after writing the others). */
async function backupFailingAtTheEnd() {
  const sourceBucket = await world().newBucket('source');
  await putObjects(world().s3, sourceBucket, {
    'data/a.txt': 'alpha-1',
    'data/b.txt': 'bravo-2',
    'data/c.bin': randomBytes(64 * 1024),
    'data/d.txt': 'delta',
    'data/e.txt': 'echo',
    'data/z-last.txt': 'last object, tampered',
  });
  const set = {
    name: `writers-${++sets}`,
    sourceBucket,
    prefix: 'data/',
    mode: 'full' as const,
    fullEvery: 1,
  };
  const done = await backup(
    { set, executionId: `w${sets}`, startedAt: new Date(Date.UTC(2026, 5, sets)).toISOString() },
    context(),
  );
  const parts = await readAll(
    world().s3,
    world().backupBucket,
    `backups/${set.name}/${done.backupId}/manifest-parts/`,
  );
  const entry = [...parts.values()]
    .flatMap((bytes) => partSchema.parse(JSON.parse(bytes.toString())).objects)
    .find((e) => e.key === 'data/z-last.txt')!;
  const stored = await world().s3.send(
    new GetObjectCommand({ Bucket: world().backupBucket, Key: entry.storedKey }),
  );
  const bytes = Buffer.from(await stored.Body!.transformToByteArray());
  bytes[bytes.length - 3]! ^= 0x01;
  await world().s3.send(
    new PutObjectCommand({ Bucket: world().backupBucket, Key: entry.storedKey, Body: bytes }),
  );
  return { set, backupId: done.backupId };
}

const text = async (bucket: string) =>
  Object.fromEntries(
    [...(await readAll(world().s3, bucket))].map(([key, body]) => [key, body.toString('utf8')]),
  );

describe('a restore rollback with a concurrent writer', () => {
  it('leaves alone, and names, what someone else wrote during the restore; undoes only its own writes', async () => {
    const { set, backupId } = await backupFailingAtTheEnd();
    const target = await world().newBucket('target');
    await putObjects(world().s3, target, {
      'restored/a.txt': 'old alpha',
      'restored/d.txt': 'old delta',
      'restored/unrelated.txt': 'untouched',
    });
    const event = {
      set: set.name,
      backupId,
      targetBucket: target,
      targetPrefix: 'restored/',
      verifyFirst: 'manifest',
      timeBudgetMs: 1,
    };

    // The restore, call after call; once it has failed (rollback pending), the writer changes
    // an object the target had before (a) and one the restore created (b).
    let previous: any;
    let failure: any;
    let wrote = false;
    for (let call = 0; call < 200 && !failure; call++) {
      try {
        previous = await restore({ ...event, continuation: previous?.continuation }, context());
      } catch (error) {
        failure = error;
        break;
      }
      if (previous.phase === 'rollback' && !wrote) {
        await putObjects(world().s3, target, {
          'restored/a.txt': 'writer alpha',
          'restored/b.txt': 'writer bravo',
        });
        wrote = true;
      }
    }

    expect(wrote).toBe(true);
    expect(failure).toMatchObject({
      name: 'IntegrityError',
      message: expect.stringMatching(
        /2 object\(s\) changed by someone else during the restore were left as they are/,
      ),
      details: {
        rolledBack: true,
        objectsLeftAlone: 2,
        leftAloneKeys: ['restored/a.txt', 'restored/b.txt'],
        objectsPutBack: 1,
        objectsDeleted: 2,
      },
    });
    expect(await text(target)).toEqual({
      'restored/a.txt': 'writer alpha',
      'restored/b.txt': 'writer bravo',
      'restored/d.txt': 'old delta',
      'restored/unrelated.txt': 'untouched',
    });
  });
});

describe('an undo racing a writer', () => {
  it('does not delete or overwrite an object rewritten after it was looked at, even one that kept the restore tag', async () => {
    const target = await world().newBucket('race');
    const tagged = 'caretaker%3Arestore=restore-x';
    await world().s3.send(
      new PutObjectCommand({ Bucket: target, Key: 'k', Body: 'the restore wrote this', Tagging: tagged }),
    );
    const seen = await world().s3.send(new HeadObjectCommand({ Bucket: target, Key: 'k' }));
    // A writer that preserves tags (a copy in place, a sync tool) rewrites it.
    await world().s3.send(
      new PutObjectCommand({ Bucket: target, Key: 'k', Body: 'a newer write', Tagging: tagged }),
    );
    const crypto = backupCrypto({ keyArn: world().keyArn });
    const source = { s3: world().s3, bucket: world().backupBucket, crypto };

    const outcome = await undoRestoredObject(
      source,
      { s3: world().s3, bucket: target, tuning: DEFAULT_UPLOAD_TUNING },
      { set: '_rollback-points', backupId: '20260601T000000Z-00000000', frameLength: 1024 * 1024 },
      'k',
      undefined,
      'restore-x',
      { etag: seen.ETag!.replaceAll('"', '') },
    );

    expect(outcome).toBe('left-alone');
    expect(await text(target)).toEqual({ k: 'a newer write' });
  });
});

describe("the sandbox's conditional deletes", () => {
  it('delete on a matching ETag, refuse a stale one with 412, and judge each key of DeleteObjects', async () => {
    const bucket = await world().newBucket('conditional');
    await putObjects(world().s3, bucket, { a: 'one', b: 'two', c: 'three' });
    const etagOf = async (Key: string) =>
      (await world().s3.send(new HeadObjectCommand({ Bucket: bucket, Key }))).ETag!;
    const [a, b] = [await etagOf('a'), await etagOf('b')];

    const stale = await world()
      .s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a', IfMatch: b }))
      .catch((error: Error) => error);
    await world().s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a', IfMatch: a }));
    const many = await world().s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: {
          Objects: [
            { Key: 'b', ETag: b },
            { Key: 'c', ETag: b },
          ],
          Quiet: true,
        },
      }),
    );

    expect(stale).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    expect(many.Errors?.map((e) => [e.Key, e.Code])).toEqual([['c', 'PreconditionFailed']]);
    expect(Object.keys(await text(bucket))).toEqual(['c']);
  });
});
