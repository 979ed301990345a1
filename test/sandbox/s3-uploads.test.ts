/**
 * Uploads into the sandbox's S3 as real clients send them: the SDK's defaults (aws-chunked
 * bodies with trailing CRC32, lib-storage multipart with composite checksums), explicit
 * multipart calls and their validation, and hand-made SigV4 streaming bodies.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { withSandbox } from '../support/sandbox.ts';

const MiB = 1024 * 1024;
const handle = withSandbox([s3Service]);
const Bucket = 'uploads';
let s3: S3Client;
let scratch: string;

beforeAll(async () => {
  s3 = new S3Client({});
  scratch = mkdtempSync(join(tmpdir(), 'caretaker-s3-uploads-'));
  await s3.send(new CreateBucketCommand({ Bucket }));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Deterministic pseudo-random bytes (incompressible, and different per seed). */
function bytes(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let state = seed * 2654435761;
  for (let index = 0; index < size; index += 4) {
    state = (state * 1664525 + 1013904223) >>> 0;
    out.writeUInt32LE(state, Math.min(index, size - 4));
  }
  return out;
}

function md5(data: Buffer): Buffer {
  return createHash('md5').update(data).digest();
}

function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString('base64');
}

async function download(Key: string, extra: Record<string, unknown> = {}): Promise<Buffer> {
  const result = await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return Buffer.from(await result.Body!.transformToByteArray());
}

async function failure(promise: Promise<unknown>): Promise<Record<string, unknown> & { name: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown> & { name: string };
  }
  throw new Error('expected the call to fail');
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

const AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00';

/**
 * Sends a hand-made request (any SigV4 credential scope is accepted by the sandbox); with
 * `querySigned` it carries no Authorization header, its path holding the X-Amz-* parameters.
 */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
  querySigned = false,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${handle.sandbox.url}${path}`,
      {
        method,
        headers: {
          ...(querySigned ? {} : { authorization: AUTHORIZATION }),
          'content-length': String(body?.length ?? 0),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const SIGNATURE = 'f'.repeat(64);

/** A STREAMING-AWS4-HMAC-SHA256-PAYLOAD body: signed chunks, optionally with trailers. */
function signedChunkedBody(data: Buffer, chunkSize: number, trailers: [string, string][] = []): Buffer {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    const chunk = data.subarray(offset, offset + chunkSize);
    pieces.push(
      Buffer.from(`${chunk.length.toString(16)};chunk-signature=${SIGNATURE}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    );
  }
  pieces.push(Buffer.from(`0;chunk-signature=${SIGNATURE}\r\n`));
  for (const [name, value] of trailers) pieces.push(Buffer.from(`${name}:${value}\r\n`));
  if (trailers.length > 0) pieces.push(Buffer.from(`x-amz-trailer-signature:${SIGNATURE}\r\n`));
  pieces.push(Buffer.from('\r\n'));
  return Buffer.concat(pieces);
}

describe('SDK default uploads (aws-chunked with a trailing CRC32)', () => {
  it('uploads 12 MiB with lib-storage Upload as three parts with a composite checksum', async () => {
    const data = bytes(12 * MiB, 1);
    const result = await new Upload({
      client: s3,
      params: { Bucket, Key: 'lib-storage/12mib', Body: data },
    }).done();
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)];
    const expectedEtag = `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-3"`;
    const composite = `${crc32Base64(Buffer.concat(parts.map((part) => Buffer.from(crc32Base64(part), 'base64'))))}-3`;
    const head = await s3.send(
      new HeadObjectCommand({ Bucket, Key: 'lib-storage/12mib', ChecksumMode: 'ENABLED' }),
    );
    expect(result.ETag).toBe(expectedEtag);
    expect(head.ChecksumCRC32).toBe(composite);
    expect(head.ChecksumType).toBe('COMPOSITE');
    expect((await download('lib-storage/12mib')).equals(data)).toBe(true);
  });

  it('uploads a small body from a Readable stream byte for byte', async () => {
    const data = bytes(1000, 2);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'stream/small',
        Body: Readable.from([data]),
        ContentLength: data.length,
      }),
    );
    expect(put.ETag).toBe(`"${md5(data).toString('hex')}"`);
    expect(put.ChecksumCRC32).toBe(crc32Base64(data));
    expect((await download('stream/small')).equals(data)).toBe(true);
  });

  it('uploads a multi-MiB file stream byte for byte, with the trailing CRC32 stored', async () => {
    const data = bytes(20 * MiB + 123, 3);
    const path = join(scratch, 'twenty.bin');
    writeFileSync(path, data);
    const put = await s3.send(
      new PutObjectCommand({ Bucket, Key: 'stream/large', Body: createReadStream(path) }),
    );
    const head = await s3.send(
      new HeadObjectCommand({ Bucket, Key: 'stream/large', ChecksumMode: 'ENABLED' }),
    );
    expect(put.ETag).toBe(`"${md5(data).toString('hex')}"`);
    expect(head.ChecksumCRC32).toBe(crc32Base64(data));
    expect(head.ContentLength).toBe(data.length);
    expect((await download('stream/large')).equals(data)).toBe(true);
  });

  it('rejects chunks under 8 KiB before the last with InvalidChunkSizeError, as S3 does', async () => {
    const pieces = Array.from({ length: 6 }, (_, index) => bytes(4096, 10 + index));
    const error = await failure(
      s3.send(
        new PutObjectCommand({
          Bucket,
          Key: 'stream/tiny-chunks',
          Body: Readable.from(pieces),
          ContentLength: 6 * 4096,
        }),
      ),
    );
    expect(error.name).toBe('InvalidChunkSizeError');
  });

  it('accepts small stream chunks once the SDK buffers them (requestStreamBufferSize)', async () => {
    const buffered = new S3Client({ requestStreamBufferSize: 64 * 1024 });
    const pieces = Array.from({ length: 6 }, (_, index) => bytes(4096, 20 + index));
    await buffered.send(
      new PutObjectCommand({
        Bucket,
        Key: 'stream/buffered',
        Body: Readable.from(pieces),
        ContentLength: 6 * 4096,
      }),
    );
    expect((await download('stream/buffered')).equals(Buffer.concat(pieces))).toBe(true);
  });
});

describe('multipart uploads', () => {
  async function startUpload(Key: string, extra: Record<string, unknown> = {}): Promise<string> {
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ...extra }));
    return created.UploadId!;
  }

  async function uploadParts(Key: string, UploadId: string, parts: Buffer[]) {
    const uploaded = [];
    for (const [index, Body] of parts.entries()) {
      const part = await s3.send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: index + 1, Body }),
      );
      uploaded.push({ PartNumber: index + 1, ETag: part.ETag!, ChecksumCRC32: part.ChecksumCRC32 });
    }
    return uploaded;
  }

  it('lists uploads and parts, then completes with the md5-of-md5s ETag', async () => {
    const parts = [bytes(5 * MiB, 30), bytes(1024, 31)];
    const UploadId = await startUpload('mpu/listed');
    const uploaded = await uploadParts('mpu/listed', UploadId, parts);
    const listedParts = await s3.send(new ListPartsCommand({ Bucket, Key: 'mpu/listed', UploadId }));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'mpu/listed' }));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'mpu/listed',
        UploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
    expect(listedParts.Parts?.map((part) => [part.PartNumber, part.Size, part.ETag])).toEqual([
      [1, 5 * MiB, `"${md5(parts[0]!).toString('hex')}"`],
      [2, 1024, `"${md5(parts[1]!).toString('hex')}"`],
    ]);
    expect(uploads.Uploads?.map((upload) => upload.UploadId)).toEqual([UploadId]);
    expect(done.ETag).toBe(
      `"${createHash('md5')
        .update(Buffer.concat(parts.map(md5)))
        .digest('hex')}-2"`,
    );
    expect((await download('mpu/listed')).equals(Buffer.concat(parts))).toBe(true);
  });

  it('serves one part of a multipart object with ?partNumber', async () => {
    const parts = [bytes(5 * MiB, 32), bytes(2048, 33)];
    const UploadId = await startUpload('mpu/parts');
    const uploaded = await uploadParts('mpu/parts', UploadId, parts);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'mpu/parts',
        UploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
    const second = await s3.send(new GetObjectCommand({ Bucket, Key: 'mpu/parts', PartNumber: 2 }));
    expect(second.$metadata.httpStatusCode).toBe(206);
    expect(second.PartsCount).toBe(2);
    expect(Buffer.from(await second.Body!.transformToByteArray()).equals(parts[1]!)).toBe(true);
  });

  it('serves a byte range that spans two parts of a multipart object', async () => {
    const parts = [bytes(5 * MiB, 46), bytes(MiB, 47)];
    const UploadId = await startUpload('mpu/range');
    const uploaded = await uploadParts('mpu/range', UploadId, parts);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'mpu/range',
        UploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
    const start = 5 * MiB - 1000;
    const end = 5 * MiB + 999;
    const ranged = await download('mpu/range', { Range: `bytes=${start}-${end}` });
    expect(ranged.equals(Buffer.concat(parts).subarray(start, end + 1))).toBe(true);
  });

  it('refuses parts out of order with InvalidPartOrder', async () => {
    const UploadId = await startUpload('mpu/order');
    const uploaded = await uploadParts('mpu/order', UploadId, [bytes(5 * MiB, 34), bytes(10, 35)]);
    const error = await failure(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'mpu/order',
          UploadId,
          MultipartUpload: { Parts: [...uploaded].reverse() },
        }),
      ),
    );
    expect(error.name).toBe('InvalidPartOrder');
  });

  it('refuses a wrong part ETag with InvalidPart', async () => {
    const UploadId = await startUpload('mpu/etag');
    await uploadParts('mpu/etag', UploadId, [bytes(100, 36)]);
    const error = await failure(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'mpu/etag',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] },
        }),
      ),
    );
    expect(error.name).toBe('InvalidPart');
  });

  it('refuses a non-last part under 5 MiB with EntityTooSmall', async () => {
    const UploadId = await startUpload('mpu/small');
    const uploaded = await uploadParts('mpu/small', UploadId, [bytes(5 * MiB - 1, 37), bytes(10, 38)]);
    const error = await failure(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'mpu/small',
          UploadId,
          MultipartUpload: { Parts: uploaded },
        }),
      ),
    );
    expect(error.name).toBe('EntityTooSmall');
    expect(error.PartNumber).toBe('1');
  });

  it('forgets an aborted upload (NoSuchUpload afterwards)', async () => {
    const UploadId = await startUpload('mpu/aborted');
    await uploadParts('mpu/aborted', UploadId, [bytes(10, 39)]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'mpu/aborted', UploadId }));
    const list = await failure(s3.send(new ListPartsCommand({ Bucket, Key: 'mpu/aborted', UploadId })));
    const part = await failure(
      s3.send(new UploadPartCommand({ Bucket, Key: 'mpu/aborted', UploadId, PartNumber: 2, Body: 'late' })),
    );
    expect(list.name).toBe('NoSuchUpload');
    expect(part.name).toBe('NoSuchUpload');
  });

  it('copies a byte range of another object as a part (UploadPartCopy)', async () => {
    const source = bytes(6 * MiB, 40);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'mpu/copy-source', Body: source }));
    const UploadId = await startUpload('mpu/copied');
    const first = await s3.send(
      new UploadPartCopyCommand({
        Bucket,
        Key: 'mpu/copied',
        UploadId,
        PartNumber: 1,
        CopySource: `${Bucket}/mpu/copy-source`,
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    );
    const second = await s3.send(
      new UploadPartCopyCommand({
        Bucket,
        Key: 'mpu/copied',
        UploadId,
        PartNumber: 2,
        CopySource: `${Bucket}/mpu/copy-source`,
        CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'mpu/copied',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.CopyPartResult!.ETag! },
            { PartNumber: 2, ETag: second.CopyPartResult!.ETag! },
          ],
        },
      }),
    );
    expect(first.CopyPartResult?.ETag).toBe(`"${md5(source.subarray(0, 5 * MiB)).toString('hex')}"`);
    expect((await download('mpu/copied')).equals(source)).toBe(true);
  });

  it('combines part CRC32s into a FULL_OBJECT checksum equal to the whole body CRC32', async () => {
    const parts = [bytes(5 * MiB, 41), bytes(3 * MiB + 7, 42)];
    const UploadId = await startUpload('mpu/full', {
      ChecksumAlgorithm: 'CRC32',
      ChecksumType: 'FULL_OBJECT',
    });
    const uploaded = await uploadParts('mpu/full', UploadId, parts);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'mpu/full',
        UploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
    expect(done.ChecksumCRC32).toBe(crc32Base64(Buffer.concat(parts)));
    expect(done.ChecksumType).toBe('FULL_OBJECT');
  });

  it('checks the full-object CRC32 a client sends with CompleteMultipartUpload', async () => {
    const parts = [bytes(5 * MiB, 44), bytes(100, 45)];
    const whole = crc32Base64(Buffer.concat(parts));
    const complete = async (Key: string, ChecksumCRC32: string) => {
      const UploadId = await startUpload(Key, { ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' });
      const uploaded = await uploadParts(Key, UploadId, parts);
      return s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          ChecksumCRC32,
          ChecksumType: 'FULL_OBJECT',
          MultipartUpload: { Parts: uploaded },
        }),
      );
    };
    const good = await complete('mpu/full-checked', whole);
    const bad = await failure(complete('mpu/full-wrong', 'AAAAAA=='));
    expect(good.ChecksumCRC32).toBe(whole);
    expect(bad.name).toBe('BadDigest');
  });

  it('requires every part checksum when completing a COMPOSITE upload', async () => {
    const UploadId = await startUpload('mpu/composite', { ChecksumAlgorithm: 'CRC32' });
    const uploaded = await uploadParts('mpu/composite', UploadId, [bytes(100, 43)]);
    const error = await failure(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'mpu/composite',
          UploadId,
          MultipartUpload: { Parts: uploaded.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
        }),
      ),
    );
    expect(error.name).toBe('InvalidRequest');
    expect(error.message).toBe(
      'The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.',
    );
  });
});

describe('hand-made SigV4 streaming bodies', () => {
  it('de-chunks a signed body with a trailing checksum', async () => {
    const data = bytes(200 * 1024 + 5, 50);
    const response = await raw(
      'PUT',
      `/${Bucket}/raw/signed-trailer`,
      {
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      signedChunkedBody(data, 64 * 1024, [['x-amz-checksum-crc32', crc32Base64(data)]]),
    );
    expect(response.status).toBe(200);
    expect(response.headers['x-amz-checksum-crc32']).toBe(crc32Base64(data));
    expect((await download('raw/signed-trailer')).equals(data)).toBe(true);
  });

  it('de-chunks a signed body without trailers and keeps other content encodings', async () => {
    const data = bytes(100 * 1024, 51);
    const response = await raw(
      'PUT',
      `/${Bucket}/raw/signed`,
      {
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked,gzip',
        'x-amz-decoded-content-length': String(data.length),
      },
      signedChunkedBody(data, 16 * 1024),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'raw/signed' }));
    expect(response.status).toBe(200);
    expect(head.ContentEncoding).toBe('gzip');
    expect((await download('raw/signed')).equals(data)).toBe(true);
  });

  it('rejects a wrong trailing checksum with BadDigest', async () => {
    const data = bytes(10 * 1024, 52);
    const response = await raw(
      'PUT',
      `/${Bucket}/raw/bad-trailer`,
      {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      Buffer.concat([
        Buffer.from(`${data.length.toString(16)}\r\n`),
        data,
        Buffer.from('\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'),
      ]),
    );
    expect(response.status).toBe(400);
    expect(response.body).toContain('<Code>BadDigest</Code>');
    expect((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'raw/bad-trailer' })))).name).toBe(
      'NotFound',
    );
  });

  it('answers IncompleteBody when the chunks carry fewer bytes than declared', async () => {
    const data = bytes(9000, 53);
    const response = await raw(
      'PUT',
      `/${Bucket}/raw/short`,
      {
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length + 100),
      },
      signedChunkedBody(data, 9000),
    );
    expect(response.status).toBe(400);
    expect(response.body).toContain('<Code>IncompleteBody</Code>');
  });

  it('answers MissingContentLength for a streaming body without x-amz-decoded-content-length', async () => {
    const response = await raw(
      'PUT',
      `/${Bucket}/raw/no-length`,
      { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'content-encoding': 'aws-chunked' },
      signedChunkedBody(Buffer.from('abc'), 3),
    );
    expect(response.status).toBe(411);
    expect(response.body).toContain('<Code>MissingContentLength</Code>');
  });

  it('answers XAmzContentSHA256Mismatch when the signed payload hash is wrong', async () => {
    const response = await raw(
      'PUT',
      `/${Bucket}/raw/sha`,
      { 'x-amz-content-sha256': createHash('sha256').update('something else').digest('hex') },
      Buffer.from('payload'),
    );
    expect(response.status).toBe(400);
    expect(response.body).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
  });

  it('accepts a correct signed payload hash with Content-MD5, as awscli sends', async () => {
    const body = Buffer.from('awscli style');
    const response = await raw(
      'PUT',
      `/${Bucket}/raw/awscli`,
      {
        'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
        'content-md5': md5(body).toString('base64'),
      },
      body,
    );
    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe(`"${md5(body).toString('hex')}"`);
  });
});

describe('query-signed (presigned) requests', () => {
  it('accepts a presigned PUT and GET with no Authorization header', async () => {
    const query =
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20260101%2Fus-east-1%2Fs3%2Faws4_request' +
      '&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=00';
    const put = await raw('PUT', `/${Bucket}/presigned.txt?${query}`, {}, Buffer.from('signed'), true);
    const get = await raw('GET', `/${Bucket}/presigned.txt?${query}`, {}, undefined, true);
    expect(put.status).toBe(200);
    expect(get.status).toBe(200);
    expect(get.body).toBe('signed');
  });
});

describe('robustness', () => {
  it('answers MalformedXML to a broken XML body', async () => {
    const response = await raw(
      'PUT',
      `/${Bucket}?versioning`,
      {},
      Buffer.from('<VersioningConfiguration><Status>'),
    );
    expect(response.status).toBe(400);
    expect(response.body).toContain('<Code>MalformedXML</Code>');
  });

  it('answers NotImplemented to an operation the sandbox does not emulate', async () => {
    const response = await raw('GET', `/${Bucket}?policy`, {});
    expect(response.status).toBe(501);
    expect(response.body).toContain('<Code>NotImplemented</Code>');
  });

  it('answers InvalidArgument to a response header override that cannot be a header', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'override', Body: 'x' }));
    const response = await raw('GET', `/${Bucket}/override?response-content-type=text%0Aplain`, {});
    expect(response.status).toBe(400);
    expect(response.body).toContain('<Code>InvalidArgument</Code>');
  });

  it('answers InvalidURI to a key with broken percent-encoding', async () => {
    const response = await raw('GET', `/${Bucket}/bad%zzkey`, {});
    expect(response.status).toBe(400);
    expect(response.body).toContain('<Code>InvalidURI</Code>');
  });

  it('keeps serving after a client abandons an upload midway', async () => {
    await new Promise<void>((resolve) => {
      const req = request(`${handle.sandbox.url}/${Bucket}/abandoned`, {
        method: 'PUT',
        headers: {
          authorization:
            'AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0',
          'content-length': String(10 * MiB),
        },
      });
      req.on('error', () => resolve());
      req.write(bytes(MiB, 60), () => {
        req.destroy();
        resolve();
      });
    });
    const head = await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'abandoned' })));
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'after-abandon', Body: 'fine' }));
    expect(head.name).toBe('NotFound');
    expect(put.$metadata.httpStatusCode).toBe(200);
  });
});
