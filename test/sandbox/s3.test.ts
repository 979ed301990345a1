/**
 * The sandbox's S3 through the AWS SDK v3, configured only by environment (AWS_ENDPOINT_URL
 * etc. from sandbox.env()): buckets, objects, ranges, conditions, checksums, tagging, copy,
 * listing and versioning, with S3's real error codes.
 */
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketEncryptionCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { withSandbox } from '../support/sandbox.ts';

const sandbox = withSandbox([s3Service]);
let s3: S3Client;
let bucketCount = 0;

beforeAll(() => {
  s3 = new S3Client({});
});

async function newBucket(): Promise<string> {
  const Bucket = `bucket-${++bucketCount}-${process.pid}`;
  await s3.send(new CreateBucketCommand({ Bucket }));
  return Bucket;
}

async function text(Bucket: string, Key: string, extra: Record<string, string> = {}): Promise<string> {
  const result = await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return result.Body!.transformToString();
}

/** The rejection of a promise, for asserting on SDK error names and fields. */
async function failure(promise: Promise<unknown>): Promise<Record<string, unknown> & { name: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown> & { name: string };
  }
  throw new Error('expected the call to fail');
}

function status(error: Record<string, unknown>): number | undefined {
  return (error.$metadata as { httpStatusCode?: number }).httpStatusCode;
}

function md5(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

describe('configuration', () => {
  it('reaches the sandbox through AWS_ENDPOINT_URL alone', async () => {
    expect(process.env.AWS_ENDPOINT_URL).toBe(sandbox.sandbox.url);
    const Bucket = await newBucket();
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((bucket) => bucket.Name)).toContain(Bucket);
  });
});

describe('buckets', () => {
  it('heads an existing bucket with its region and reports us-east-1 as an empty location', async () => {
    const Bucket = await newBucket();
    const head = await s3.send(new HeadBucketCommand({ Bucket }));
    const location = await s3.send(new GetBucketLocationCommand({ Bucket }));
    expect(head.BucketRegion).toBe('us-east-1');
    expect(location.LocationConstraint).toBeUndefined();
  });

  it('creates a bucket in another region with a location constraint', async () => {
    const regional = new S3Client({ region: 'eu-west-1' });
    await regional.send(
      new CreateBucketCommand({
        Bucket: 'caretaker-eu',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: 'caretaker-eu' }));
    expect(location.LocationConstraint).toBe('eu-west-1');
  });

  it('answers BucketAlreadyOwnedByYou when re-creating an own bucket outside us-east-1', async () => {
    const regional = new S3Client({ region: 'eu-central-1' });
    const create = () =>
      regional.send(
        new CreateBucketCommand({
          Bucket: 'twice-eu',
          CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' },
        }),
      );
    await create();
    const error = await failure(create());
    expect(error.name).toBe('BucketAlreadyOwnedByYou');
    expect(status(error)).toBe(409);
  });

  it('keeps the legacy 200 for re-creating an own bucket in us-east-1', async () => {
    const Bucket = await newBucket();
    const again = await s3.send(new CreateBucketCommand({ Bucket }));
    expect(again.$metadata.httpStatusCode).toBe(200);
  });

  it('refuses a location constraint that does not match the regional endpoint', async () => {
    const regional = new S3Client({ region: 'eu-west-2' });
    const error = await failure(
      regional.send(
        new CreateBucketCommand({
          Bucket: 'mismatched',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      ),
    );
    expect(error.name).toBe('IllegalLocationConstraintException');
  });

  it('rejects invalid bucket names', async () => {
    const error = await failure(s3.send(new CreateBucketCommand({ Bucket: 'Not_Valid' })));
    expect(error.name).toBe('InvalidBucketName');
    expect(status(error)).toBe(400);
  });

  it('answers NoSuchBucket, and NotFound without a body for HEAD, for a missing bucket', async () => {
    const list = await failure(s3.send(new ListObjectsV2Command({ Bucket: 'missing-bucket' })));
    const head = await failure(s3.send(new HeadBucketCommand({ Bucket: 'missing-bucket' })));
    expect(list.name).toBe('NoSuchBucket');
    expect(list.BucketName).toBe('missing-bucket');
    expect(head.name).toBe('NotFound');
    expect(status(head)).toBe(404);
  });

  it('pages ListBuckets by prefix with max-buckets and continuation tokens', async () => {
    for (const name of ['paged-a', 'paged-b', 'paged-c'])
      await s3.send(new CreateBucketCommand({ Bucket: name }));
    const first = await s3.send(new ListBucketsCommand({ Prefix: 'paged-', MaxBuckets: 2 }));
    const second = await s3.send(
      new ListBucketsCommand({ Prefix: 'paged-', MaxBuckets: 2, ContinuationToken: first.ContinuationToken }),
    );
    expect(first.Buckets?.map((bucket) => bucket.Name)).toEqual(['paged-a', 'paged-b']);
    expect(second.Buckets?.map((bucket) => bucket.Name)).toEqual(['paged-c']);
    expect(second.ContinuationToken).toBeUndefined();
  });

  it('applies the bucket default encryption to new objects until it is deleted', async () => {
    const Bucket = await newBucket();
    const KMSMasterKeyID = 'arn:aws:kms:us-east-1:000000000000:key/00000000-1111-2222-3333-444444444444';
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID },
              BucketKeyEnabled: true,
            },
          ],
        },
      }),
    );
    const configured = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    const encrypted = await s3.send(new PutObjectCommand({ Bucket, Key: 'by-default', Body: 'x' }));
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket }));
    const plain = await s3.send(new PutObjectCommand({ Bucket, Key: 'after', Body: 'x' }));
    expect(
      configured.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID,
    });
    expect(encrypted).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: KMSMasterKeyID,
      BucketKeyEnabled: true,
    });
    expect(plain.ServerSideEncryption).toBe('AES256');
  });

  it('refuses to delete a non-empty bucket and deletes an empty one', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const error = await failure(s3.send(new DeleteBucketCommand({ Bucket })));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket }));
    expect(error.name).toBe('BucketNotEmpty');
    expect(status(error)).toBe(409);
    expect((await failure(s3.send(new HeadBucketCommand({ Bucket })))).name).toBe('NotFound');
  });
});

describe('objects', () => {
  it('stores and returns user metadata and content headers', async () => {
    const Bucket = await newBucket();
    await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'doc.json',
        Body: '{"a":1}',
        ContentType: 'application/json',
        ContentEncoding: 'identity',
        CacheControl: 'max-age=60',
        ContentDisposition: 'attachment; filename="doc.json"',
        Metadata: { 'caretaker-kind': 'backup', owner: 'ops' },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'doc.json' }));
    expect(await got.Body!.transformToString()).toBe('{"a":1}');
    expect(got).toMatchObject({
      ContentType: 'application/json',
      ContentEncoding: 'identity',
      CacheControl: 'max-age=60',
      ContentDisposition: 'attachment; filename="doc.json"',
      Metadata: { 'caretaker-kind': 'backup', owner: 'ops' },
      ContentLength: 7,
      ETag: `"${md5('{"a":1}')}"`,
    });
  });

  it('stores and echoes SSE-KMS headers on PUT, GET and HEAD', async () => {
    const Bucket = await newBucket();
    const sse = {
      ServerSideEncryption: 'aws:kms' as const,
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      BucketKeyEnabled: true,
    };
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'secret', Body: 'x', ...sse }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'secret' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'secret' }));
    expect(put).toMatchObject(sse);
    expect(got).toMatchObject(sse);
    expect(head).toMatchObject(sse);
  });

  it("refuses object ACLs, as buckets with S3's default object ownership do", async () => {
    const Bucket = await newBucket();
    const error = await failure(
      s3.send(new PutObjectCommand({ Bucket, Key: 'acl', Body: 'x', ACL: 'public-read' })),
    );
    const owner = await s3.send(
      new PutObjectCommand({ Bucket, Key: 'acl', Body: 'x', ACL: 'bucket-owner-full-control' }),
    );
    expect(error.name).toBe('AccessControlListNotSupported');
    expect(owner.$metadata.httpStatusCode).toBe(200);
  });

  it('reports AES256 server-side encryption by default, as S3 does for every new object', async () => {
    const Bucket = await newBucket();
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'x' }));
    expect(put.ServerSideEncryption).toBe('AES256');
  });

  it('answers NoSuchKey with the key for GET and a bodiless 404 for HEAD of a missing key', async () => {
    const Bucket = await newBucket();
    const get = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'nope/missing.txt' })));
    const head = await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'nope/missing.txt' })));
    expect(get.name).toBe('NoSuchKey');
    expect(get.Key).toBe('nope/missing.txt');
    expect(status(get)).toBe(404);
    expect(head.name).toBe('NotFound');
  });

  it('refuses to GET an archived (GLACIER) object with InvalidObjectState but still answers HEAD', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cold', Body: 'x', StorageClass: 'GLACIER' }));
    const error = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'cold' })));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold' }));
    expect(error.name).toBe('InvalidObjectState');
    expect(status(error)).toBe(403);
    expect(head.StorageClass).toBe('GLACIER');
  });

  it('serves keys with spaces, unicode and reserved characters', async () => {
    const Bucket = await newBucket();
    const Key = 'dir one/ünïcødé ✓/a+b=c&d?e#f%20g.txt';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'odd' }));
    expect(await text(Bucket, Key)).toBe('odd');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual([Key]);
  });

  it('keeps dot segments in keys literally', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a/../b', Body: 'dots' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual(['a/../b']);
  });

  it('deletes an object, and deleting a missing key still succeeds', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'gone', Body: 'x' }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'gone' }));
    const again = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'gone' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(again.$metadata.httpStatusCode).toBe(204);
    expect((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'gone' })))).name).toBe('NotFound');
  });

  it('deletes many objects at once, reporting each unless quiet', async () => {
    const Bucket = await newBucket();
    for (const Key of ['a', 'b', 'c', 'd']) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    const loud = await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }, { Key: 'never-was' }] },
      }),
    );
    const quiet = await s3.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'c' }, { Key: 'd' }], Quiet: true } }),
    );
    const left = await s3.send(new ListObjectsV2Command({ Bucket }));
    expect(loud.Deleted?.map((item) => item.Key).sort()).toEqual(['a', 'b', 'never-was']);
    expect(quiet.Deleted).toBeUndefined();
    expect(quiet.Errors).toBeUndefined();
    expect(left.KeyCount).toBe(0);
  });

  it('makes the last complete PUT win when two upload the same key concurrently', async () => {
    const Bucket = await newBucket();
    const first = Buffer.alloc(6 * 1024 * 1024, 1);
    const second = Buffer.alloc(6 * 1024 * 1024, 2);
    await Promise.all([
      s3.send(new PutObjectCommand({ Bucket, Key: 'raced', Body: first })),
      s3.send(new PutObjectCommand({ Bucket, Key: 'raced', Body: second })),
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'raced' }));
    const body = Buffer.from(await got.Body!.transformToByteArray());
    expect(body.equals(first) || body.equals(second)).toBe(true);
    expect(got.ETag).toBe(`"${md5(body)}"`);
  });
});

describe('ranges and conditions', () => {
  const data = 'abcdefghijklmnopqrstuvwxyz0123456789';

  it('returns 206 with Content-Range for a byte range', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'r', Body: data }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'r', Range: 'bytes=10-19' }));
    expect(got.$metadata.httpStatusCode).toBe(206);
    expect(got.ContentRange).toBe(`bytes 10-19/${data.length}`);
    expect(got.ContentLength).toBe(10);
    expect(await got.Body!.transformToString()).toBe(data.slice(10, 20));
  });

  it('serves suffix and open-ended ranges', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'r', Body: data }));
    expect(await text(Bucket, 'r', { Range: 'bytes=-6' })).toBe(data.slice(-6));
    expect(await text(Bucket, 'r', { Range: 'bytes=30-' })).toBe(data.slice(30));
    expect(await text(Bucket, 'r', { Range: 'bytes=30-1000' })).toBe(data.slice(30));
  });

  it('answers InvalidRange (416) for a range past the end', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'r', Body: data }));
    const error = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'r', Range: 'bytes=100-200' })));
    expect(error.name).toBe('InvalidRange');
    expect(status(error)).toBe(416);
    expect(error.ActualObjectSize).toBe(String(data.length));
  });

  it('answers 304 to If-None-Match with the current ETag', async () => {
    const Bucket = await newBucket();
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'c', Body: data }));
    const error = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'c', IfNoneMatch: put.ETag })));
    expect(status(error)).toBe(304);
  });

  it('answers PreconditionFailed to If-Match with another ETag', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'c', Body: data }));
    const error = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'c', IfMatch: '"0123"' })));
    expect(error.name).toBe('PreconditionFailed');
    expect(error.Condition).toBe('If-Match');
    expect(status(error)).toBe(412);
  });

  it('creates only once with If-None-Match: * (conditional write)', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'first', IfNoneMatch: '*' }));
    const error = await failure(
      s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'second', IfNoneMatch: '*' })),
    );
    expect(error.name).toBe('PreconditionFailed');
    expect(await text(Bucket, 'once')).toBe('first');
  });

  it('replaces only the expected version with If-Match on PUT', async () => {
    const Bucket = await newBucket();
    const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'cas', Body: 'v1' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cas', Body: 'v2', IfMatch: first.ETag }));
    const stale = await failure(
      s3.send(new PutObjectCommand({ Bucket, Key: 'cas', Body: 'v3', IfMatch: first.ETag })),
    );
    expect(stale.name).toBe('PreconditionFailed');
    expect(await text(Bucket, 'cas')).toBe('v2');
  });
});

describe('checksums and digests', () => {
  it('rejects a wrong x-amz-checksum-crc32 with BadDigest and stores nothing', async () => {
    const Bucket = await newBucket();
    const error = await failure(
      s3.send(new PutObjectCommand({ Bucket, Key: 'bad', Body: 'payload', ChecksumCRC32: 'AAAAAA==' })),
    );
    expect(error.name).toBe('BadDigest');
    expect(error.message).toBe('The CRC32 you specified did not match the calculated checksum.');
    expect((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'bad' })))).name).toBe('NotFound');
  });

  it('rejects a wrong Content-MD5 with BadDigest', async () => {
    const Bucket = await newBucket();
    const error = await failure(
      s3.send(
        new PutObjectCommand({
          Bucket,
          Key: 'md5',
          Body: 'payload',
          ContentMD5: createHash('md5').update('other').digest('base64'),
        }),
      ),
    );
    expect(error.name).toBe('BadDigest');
    expect(error.message).toBe('The Content-MD5 you specified did not match what we received.');
  });

  it.each([
    ['CRC32C', 'ChecksumCRC32C'],
    ['SHA1', 'ChecksumSHA1'],
    ['SHA256', 'ChecksumSHA256'],
  ] as const)('computes, stores and returns %s checksums in checksum mode', async (algorithm, member) => {
    const Bucket = await newBucket();
    const put = await s3.send(
      new PutObjectCommand({ Bucket, Key: 'sum', Body: 'checksummed body', ChecksumAlgorithm: algorithm }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'sum', ChecksumMode: 'ENABLED' }));
    const plainHead = await s3.send(new HeadObjectCommand({ Bucket, Key: 'sum' }));
    expect(put[member]).toBeTruthy();
    expect(head[member]).toBe(put[member]);
    expect(head.ChecksumType).toBe('FULL_OBJECT');
    expect(plainHead[member]).toBeUndefined();
  });

  it('matches SHA-256 values computed independently', async () => {
    const Bucket = await newBucket();
    const sha = createHash('sha256').update('known body').digest('base64');
    const put = await s3.send(
      new PutObjectCommand({ Bucket, Key: 'sha', Body: 'known body', ChecksumSHA256: sha }),
    );
    expect(put.ChecksumSHA256).toBe(sha);
  });

  it('returns the CRC32 the SDK sends by default, and the SDK validates it on GET', async () => {
    const Bucket = await newBucket();
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'default', Body: 'default checksum' }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'default' }));
    expect(put.ChecksumCRC32).toBeTruthy();
    expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
    expect(await got.Body!.transformToString()).toBe('default checksum');
  });
});

describe('tagging', () => {
  it('stores x-amz-tagging from PUT and reports the tag count on GET', async () => {
    const Bucket = await newBucket();
    await s3.send(
      new PutObjectCommand({ Bucket, Key: 't', Body: 'x', Tagging: 'caretaker%3Amanaged=true&kind=backup' }),
    );
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 't' }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 't' }));
    expect(tags.TagSet).toEqual([
      { Key: 'caretaker:managed', Value: 'true' },
      { Key: 'kind', Value: 'backup' },
    ]);
    expect(got.TagCount).toBe(2);
  });

  it('replaces and deletes tags through the tagging API', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 't', Body: 'x', Tagging: 'a=1' }));
    await s3.send(
      new PutObjectTaggingCommand({ Bucket, Key: 't', Tagging: { TagSet: [{ Key: 'b', Value: '2' }] } }),
    );
    const replaced = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 't' }));
    await s3.send(new DeleteObjectTaggingCommand({ Bucket, Key: 't' }));
    const deleted = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 't' }));
    expect(replaced.TagSet).toEqual([{ Key: 'b', Value: '2' }]);
    expect(deleted.TagSet).toEqual([]);
  });

  it('rejects more than ten tags', async () => {
    const Bucket = await newBucket();
    const Tagging = Array.from({ length: 11 }, (_, index) => `k${index}=v`).join('&');
    const error = await failure(s3.send(new PutObjectCommand({ Bucket, Key: 't', Body: 'x', Tagging })));
    expect(error.name).toBe('BadRequest');
  });
});

describe('copy', () => {
  it('copies a URL-encoded source keeping metadata and tags (COPY directives)', async () => {
    const Bucket = await newBucket();
    const source = 'src dir/ä+b.txt';
    await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: source,
        Body: 'copy me',
        Metadata: { origin: 'src' },
        Tagging: 'k=v',
      }),
    );
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: 'dest.txt',
        CopySource: `${Bucket}/${encodeURIComponent(source)}`,
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'dest.txt' }));
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'dest.txt' }));
    expect(copied.CopyObjectResult?.ETag).toBe(`"${md5('copy me')}"`);
    expect(await got.Body!.transformToString()).toBe('copy me');
    expect(got.Metadata).toEqual({ origin: 'src' });
    expect(tags.TagSet).toEqual([{ Key: 'k', Value: 'v' }]);
  });

  it('replaces metadata and tags with REPLACE directives', async () => {
    const Bucket = await newBucket();
    await s3.send(
      new PutObjectCommand({ Bucket, Key: 's', Body: 'x', Metadata: { old: '1' }, Tagging: 'old=1' }),
    );
    await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: 'd',
        CopySource: `/${Bucket}/s`,
        MetadataDirective: 'REPLACE',
        Metadata: { fresh: '2' },
        ContentType: 'text/plain',
        TaggingDirective: 'REPLACE',
        Tagging: 'fresh=2',
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'd' }));
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'd' }));
    expect(head.Metadata).toEqual({ fresh: '2' });
    expect(head.ContentType).toBe('text/plain');
    expect(tags.TagSet).toEqual([{ Key: 'fresh', Value: '2' }]);
  });

  it('refuses to copy an object onto itself without changes', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'self', Body: 'x' }));
    const error = await failure(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'self', CopySource: `${Bucket}/self` })),
    );
    expect(error.name).toBe('InvalidRequest');
  });

  it('answers NoSuchKey for a missing copy source', async () => {
    const Bucket = await newBucket();
    const error = await failure(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'd', CopySource: `${Bucket}/absent` })),
    );
    expect(error.name).toBe('NoSuchKey');
  });

  it('applies copy-source preconditions', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 's', Body: 'x' }));
    const error = await failure(
      s3.send(
        new CopyObjectCommand({ Bucket, Key: 'd', CopySource: `${Bucket}/s`, CopySourceIfMatch: '"other"' }),
      ),
    );
    expect(error.name).toBe('PreconditionFailed');
  });
});

describe('listing', () => {
  it('pages through more than 1000 keys with continuation tokens', async () => {
    const Bucket = await newBucket();
    const keys = Array.from({ length: 1205 }, (_, index) => `item/${String(index).padStart(5, '0')}`);
    for (let start = 0; start < keys.length; start += 50) {
      await Promise.all(
        keys.slice(start, start + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }))),
      );
    }
    const seen: string[] = [];
    const pages: number[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, ContinuationToken }));
      pages.push(page.KeyCount ?? 0);
      seen.push(...(page.Contents ?? []).map((object) => object.Key!));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    expect(pages).toEqual([1000, 205]);
    expect(seen).toEqual(keys);
  });

  it('rolls keys up into CommonPrefixes with a delimiter, counting both in KeyCount', async () => {
    const Bucket = await newBucket();
    for (const Key of ['backups/a/1', 'backups/a/2', 'backups/b/1', 'backups/top', 'other']) {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'backups/', Delimiter: '/' }));
    expect(listed.CommonPrefixes?.map((prefix) => prefix.Prefix)).toEqual(['backups/a/', 'backups/b/']);
    expect(listed.Contents?.map((object) => object.Key)).toEqual(['backups/top']);
    expect(listed.KeyCount).toBe(3);
  });

  it('does not repeat a common prefix across pages', async () => {
    const Bucket = await newBucket();
    for (const Key of ['a/1', 'a/2', 'b/1', 'c'])
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
    const first = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/', MaxKeys: 1 }));
    const second = await s3.send(
      new ListObjectsV2Command({
        Bucket,
        Delimiter: '/',
        MaxKeys: 2,
        ContinuationToken: first.NextContinuationToken,
      }),
    );
    expect(first.CommonPrefixes?.map((prefix) => prefix.Prefix)).toEqual(['a/']);
    expect(first.IsTruncated).toBe(true);
    expect(second.CommonPrefixes?.map((prefix) => prefix.Prefix)).toEqual(['b/']);
    expect(second.Contents?.map((object) => object.Key)).toEqual(['c']);
    expect(second.IsTruncated).toBe(false);
  });

  it('starts after a key and limits with max-keys', async () => {
    const Bucket = await newBucket();
    for (const Key of ['k1', 'k2', 'k3', 'k4'])
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, StartAfter: 'k1', MaxKeys: 2 }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual(['k2', 'k3']);
    expect(listed.IsTruncated).toBe(true);
    expect(listed.StartAfter).toBe('k1');
  });

  it('lists in UTF-8 byte order', async () => {
    const Bucket = await newBucket();
    const keys = ['z', 'é', '\u{1F600}', '\uFF21', 'A'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(listed.Contents?.map((object) => object.Key)).toEqual(byBytes);
  });

  it('URL-encodes keys when asked with encoding-type=url', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a b+c', Body: 'x' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, EncodingType: 'url' }));
    expect(listed.Contents?.[0]?.Key).toBe('a%20b%2Bc');
  });

  it('pages ListObjects (v1) with markers', async () => {
    const Bucket = await newBucket();
    for (const Key of ['m1', 'm2', 'm3']) await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
    const first = await s3.send(new ListObjectsCommand({ Bucket, MaxKeys: 2 }));
    const second = await s3.send(new ListObjectsCommand({ Bucket, Marker: first.Contents?.at(-1)?.Key }));
    expect(first.Contents?.map((object) => object.Key)).toEqual(['m1', 'm2']);
    expect(first.IsTruncated).toBe(true);
    expect(first.Contents?.[0]?.Owner?.ID).toBeTruthy();
    expect(second.Contents?.map((object) => object.Key)).toEqual(['m3']);
    expect(second.IsTruncated).toBe(false);
  });
});
