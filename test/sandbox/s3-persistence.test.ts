/**
 * A sandbox restarted on the same data directory finds its buckets, objects, versions and
 * uploads again, and drops files left behind by interrupted uploads.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, expect, it } from 'vitest';
import { startSandbox } from '../../sandbox/core/server.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'caretaker-s3-persist-'));

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function clientFor(url: string): S3Client {
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
}

it('keeps buckets, versions and uploads across a restart on the same data directory', async () => {
  const first = await startSandbox({ dataDir, services: [s3Service] });
  const before = clientFor(first.url);
  await before.send(new CreateBucketCommand({ Bucket: 'kept' }));
  await before.send(
    new PutBucketVersioningCommand({ Bucket: 'kept', VersioningConfiguration: { Status: 'Enabled' } }),
  );
  const v1 = await before.send(new PutObjectCommand({ Bucket: 'kept', Key: 'doc', Body: 'one' }));
  await before.send(new PutObjectCommand({ Bucket: 'kept', Key: 'doc', Body: 'two', Metadata: { m: '1' } }));
  const upload = await before.send(new CreateMultipartUploadCommand({ Bucket: 'kept', Key: 'big' }));
  await first.stop();
  writeFileSync(join(dataDir, 's3', 'objects', 'orphan-from-a-crash'), 'junk');

  const second = await startSandbox({ dataDir, services: [s3Service] });
  const after = clientFor(second.url);
  const latest = await after.send(new GetObjectCommand({ Bucket: 'kept', Key: 'doc' }));
  const old = await after.send(new GetObjectCommand({ Bucket: 'kept', Key: 'doc', VersionId: v1.VersionId }));
  const versions = await after.send(new ListObjectVersionsCommand({ Bucket: 'kept' }));
  const uploads = await after.send(new ListMultipartUploadsCommand({ Bucket: 'kept' }));
  const latestText = await latest.Body!.transformToString();
  const oldText = await old.Body!.transformToString();
  await second.stop();

  expect(latestText).toBe('two');
  expect(latest.Metadata).toEqual({ m: '1' });
  expect(oldText).toBe('one');
  expect(versions.Versions).toHaveLength(2);
  expect(uploads.Uploads?.map((item) => item.UploadId)).toEqual([upload.UploadId]);
  expect(existsSync(join(dataDir, 's3', 'objects', 'orphan-from-a-crash'))).toBe(false);
  expect(readdirSync(join(dataDir, 's3', 'objects'))).toHaveLength(2);
});
