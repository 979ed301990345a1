/**
 * No request can crash the sandbox's S3 or make it fail internally: random methods, paths,
 * sub-resources, S3 headers and bodies all get an S3-shaped answer below 500 (or 501).
 */
import { request } from 'node:http';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { withSandbox } from '../support/sandbox.ts';

const handle = withSandbox([s3Service]);
let s3: S3Client;

beforeAll(async () => {
  s3 = new S3Client({});
  await s3.send(new CreateBucketCommand({ Bucket: 'fuzz' }));
  await s3.send(new PutObjectCommand({ Bucket: 'fuzz', Key: 'existing', Body: 'present' }));
});

interface Attempt {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

function send({ method, path, headers, body }: Attempt): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${handle.sandbox.url}${path}`,
      {
        method,
        headers: {
          authorization:
            'AWS4-HMAC-SHA256 Credential=f/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0',
          'content-length': String(body.length),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(Buffer.from(body));
  });
}

const token = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '*',
    'null',
    'true',
    'AAAAAA==',
    '"abc"',
    'bytes=0-',
    'bytes=-5',
    '%zz',
    'ünï',
  ),
  fc.string({ maxLength: 12 }).filter((value) => !/[\r\n\0]/.test(value)),
);
const HEADER_NAMES = [
  'x-amz-content-sha256',
  'x-amz-decoded-content-length',
  'content-encoding',
  'content-md5',
  'x-amz-checksum-crc32',
  'x-amz-checksum-sha256',
  'x-amz-checksum-crc64nvme',
  'x-amz-sdk-checksum-algorithm',
  'x-amz-checksum-algorithm',
  'x-amz-checksum-type',
  'x-amz-trailer',
  'x-amz-copy-source',
  'x-amz-copy-source-range',
  'x-amz-metadata-directive',
  'x-amz-tagging',
  'x-amz-tagging-directive',
  'x-amz-storage-class',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-acl',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'x-amz-checksum-mode',
  'x-amz-meta-a',
];
const SUBRESOURCES = [
  '',
  'uploads',
  'uploadId=x',
  'partNumber=1&uploadId=x',
  'tagging',
  'versioning',
  'versions',
  'location',
  'encryption',
  'delete',
  'list-type=2',
  'versionId=null',
  'acl',
  'max-keys=abc',
  'continuation-token=%%',
];

const attempt: fc.Arbitrary<Attempt> = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD'),
  path: fc
    .tuple(
      fc.constantFrom(
        '/',
        '/fuzz',
        '/fuzz/',
        '/fuzz/existing',
        '/fuzz/new%20key',
        '/missing-bucket/k',
        '/Bad_Name',
        '/fuzz/%E2%9C',
      ),
      fc.constantFrom(...SUBRESOURCES),
    )
    .map(([path, query]) => (query ? `${path}?${query}` : path)),
  headers: fc.dictionary(fc.constantFrom(...HEADER_NAMES), token, { maxKeys: 4 }),
  body: fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom(
      Buffer.from('<Delete><Object><Key>existing</Key></Object></Delete>'),
      Buffer.from('<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>'),
      Buffer.from('5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'),
      Buffer.from(
        '<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>',
      ),
    ),
  ),
});

it('answers every malformed or unexpected request without an internal error', {
  timeout: 120_000,
}, async () => {
  await fc.assert(
    fc.asyncProperty(attempt, async (input) => {
      const response = await send(input);
      expect(response.status === 501 || response.status < 500, `${response.status} ${response.body}`).toBe(
        true,
      );
    }),
    { numRuns: 400 },
  );
  // The fuzzing may have deleted the bucket: check the server still works in a fresh one.
  const bucket = await send({ method: 'PUT', path: '/after-fuzz', headers: {}, body: new Uint8Array() });
  const put = await send({
    method: 'PUT',
    path: '/after-fuzz/k',
    headers: {},
    body: Buffer.from('still here'),
  });
  const get = await send({ method: 'GET', path: '/after-fuzz/k', headers: {}, body: new Uint8Array() });
  expect(bucket.status).toBe(200);
  expect(put.status).toBe(200);
  expect(get.body).toBe('still here');
});
