/**
 * Bucket versioning in the sandbox's S3 through the SDK: versions, delete markers,
 * version-addressed GET/HEAD/DELETE, ListObjectVersions paging, suspension and null versions.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { withSandbox } from '../support/sandbox.ts';

withSandbox([s3Service]);
let s3: S3Client;
let bucketCount = 0;

beforeAll(() => {
  s3 = new S3Client({});
});

async function versionedBucket(): Promise<string> {
  const Bucket = `versioned-${++bucketCount}`;
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return Bucket;
}

async function read(Bucket: string, Key: string, VersionId?: string): Promise<string> {
  const result = await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }));
  return result.Body!.transformToString();
}

async function failure(promise: Promise<unknown>): Promise<Record<string, unknown> & { name: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown> & { name: string };
  }
  throw new Error('expected the call to fail');
}

describe('versioning configuration', () => {
  it('reports no status before versioning is configured, then Enabled and Suspended', async () => {
    const Bucket = 'config-bucket';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const before = await s3.send(new GetBucketVersioningCommand({ Bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const enabled = await s3.send(new GetBucketVersioningCommand({ Bucket }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } }),
    );
    const suspended = await s3.send(new GetBucketVersioningCommand({ Bucket }));
    expect(before.Status).toBeUndefined();
    expect(enabled.Status).toBe('Enabled');
    expect(suspended.Status).toBe('Suspended');
  });
});

describe('versions', () => {
  it('keeps every PUT as a version, readable by id', async () => {
    const Bucket = await versionedBucket();
    const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'one' }));
    const second = await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'two' }));
    expect(first.VersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(second.VersionId).not.toBe(first.VersionId);
    expect(await read(Bucket, 'doc')).toBe('two');
    expect(await read(Bucket, 'doc', first.VersionId)).toBe('one');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'doc', VersionId: first.VersionId }));
    expect(head.VersionId).toBe(first.VersionId);
  });

  it('writes a delete marker on DELETE without a version id, hiding the key', async () => {
    const Bucket = await versionedBucket();
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'kept' }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'doc' }));
    const get = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'doc' })));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
    expect(deleted.DeleteMarker).toBe(true);
    expect(deleted.VersionId).toBeTruthy();
    expect(get.name).toBe('NoSuchKey');
    expect(listed.KeyCount).toBe(0);
    expect(await read(Bucket, 'doc', put.VersionId)).toBe('kept');
  });

  it('answers 405 MethodNotAllowed for a GET of a delete marker by version id', async () => {
    const Bucket = await versionedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'x' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'doc' }));
    const error = await failure(
      s3.send(new GetObjectCommand({ Bucket, Key: 'doc', VersionId: marker.VersionId })),
    );
    expect(error.name).toBe('MethodNotAllowed');
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(405);
  });

  it('restores the previous version when its delete marker is removed', async () => {
    const Bucket = await versionedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'back' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'doc' }));
    const removed = await s3.send(
      new DeleteObjectCommand({ Bucket, Key: 'doc', VersionId: marker.VersionId }),
    );
    expect(removed.DeleteMarker).toBe(true);
    expect(await read(Bucket, 'doc')).toBe('back');
  });

  it('removes one version for good with DELETE ?versionId', async () => {
    const Bucket = await versionedBucket();
    const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'two' }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'doc', VersionId: first.VersionId }));
    const error = await failure(
      s3.send(new GetObjectCommand({ Bucket, Key: 'doc', VersionId: first.VersionId })),
    );
    expect(error.name).toBe('NoSuchVersion');
    expect(await read(Bucket, 'doc')).toBe('two');
  });

  it('rejects a malformed version id', async () => {
    const Bucket = await versionedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'x' }));
    const error = await failure(
      s3.send(new GetObjectCommand({ Bucket, Key: 'doc', VersionId: 'not a version' })),
    );
    expect(error.name).toBe('InvalidArgument');
  });

  it('copies a specific source version', async () => {
    const Bucket = await versionedBucket();
    const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'old' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'new' }));
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: 'restored',
        CopySource: `${Bucket}/src?versionId=${first.VersionId}`,
      }),
    );
    expect(copied.CopySourceVersionId).toBe(first.VersionId);
    expect(await read(Bucket, 'restored')).toBe('old');
  });

  it('refuses to delete a bucket that still holds versions', async () => {
    const Bucket = await versionedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'doc' }));
    const error = await failure(s3.send(new DeleteBucketCommand({ Bucket })));
    expect(error.name).toBe('BucketNotEmpty');
  });
});

describe('ListObjectVersions', () => {
  it('lists versions newest first with IsLatest, and delete markers', async () => {
    const Bucket = await versionedBucket();
    const v1 = await s3.send(new PutObjectCommand({ Bucket, Key: 'a', Body: '1' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket, Key: 'a', Body: '22' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'a' }));
    const b = await s3.send(new PutObjectCommand({ Bucket, Key: 'b', Body: '3' }));
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect(
      listed.Versions?.map((version) => [version.Key, version.VersionId, version.IsLatest, version.Size]),
    ).toEqual([
      ['a', v2.VersionId, false, 2],
      ['a', v1.VersionId, false, 1],
      ['b', b.VersionId, true, 1],
    ]);
    expect(listed.DeleteMarkers?.map((entry) => [entry.Key, entry.VersionId, entry.IsLatest])).toEqual([
      ['a', marker.VersionId, true],
    ]);
  });

  it('pages with key and version-id markers without repeating or losing versions', async () => {
    const Bucket = await versionedBucket();
    const expected: string[] = [];
    for (const Key of ['k1', 'k2', 'k3']) {
      const ids: string[] = [];
      for (let index = 0; index < 3; index++) {
        const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: `${Key}-${index}` }));
        ids.unshift(`${Key}:${put.VersionId}`);
      }
      expected.push(...ids);
    }
    const seen: string[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(
        new ListObjectVersionsCommand({ Bucket, MaxKeys: 2, KeyMarker, VersionIdMarker }),
      );
      seen.push(...(page.Versions ?? []).map((version) => `${version.Key}:${version.VersionId}`));
      if (!page.IsTruncated) break;
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
    expect(seen).toEqual(expected);
  });

  it('lists unversioned objects with the null version id', async () => {
    const Bucket = 'plain-versions';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'x', Body: 'x' }));
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect(listed.Versions?.map((version) => version.VersionId)).toEqual(['null']);
  });
});

describe('suspended versioning', () => {
  it('overwrites the null version while keeping earlier versions', async () => {
    const Bucket = await versionedBucket();
    const kept = await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'versioned' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } }),
    );
    const nullOne = await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'null one' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'null two' }));
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect(nullOne.VersionId).toBe('null');
    expect(listed.Versions?.map((version) => version.VersionId)).toEqual(['null', kept.VersionId]);
    expect(await read(Bucket, 'doc')).toBe('null two');
    expect(await read(Bucket, 'doc', kept.VersionId)).toBe('versioned');
  });
});
