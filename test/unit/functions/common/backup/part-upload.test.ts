import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { uploadBody, uploadSink } from '../../../../../functions/common/backup/part-upload.ts';
import { putBytes } from '../../../../../functions/common/backup/s3-io.ts';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const PART = 5 * 1024 * 1024;
const options = {
  tags: { 'caretaker:managed': 'true' },
  sseKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k',
  tuning: { partSize: PART, queueSize: 2 },
};

/** `total` deterministic bytes in chunks of `chunk`. */
function body(total: number, chunk = 64 * 1024): { chunks: Buffer[]; whole: Buffer } {
  const whole = Buffer.alloc(total);
  for (let i = 0; i < total; i++) whole[i] = (i * 31 + (i >> 13)) & 0xff;
  const chunks: Buffer[] = [];
  for (let at = 0; at < total; at += chunk) chunks.push(whole.subarray(at, Math.min(total, at + chunk)));
  return { chunks, whole };
}

/** Part bodies as sent (copied at call time: the uploader reuses its buffers). */
function recordParts() {
  const parts = new Map<number, Buffer>();
  const buffers = new Set<ArrayBufferLike>();
  s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u-1' });
  s3Mock.on(UploadPartCommand).callsFake(async (input) => {
    const part = input.Body as Buffer;
    buffers.add(part.buffer);
    parts.set(input.PartNumber, Buffer.from(part));
    await new Promise((resolve) => setTimeout(resolve, 2));
    return { ETag: `"e${input.PartNumber}"`, ChecksumCRC32: `c${input.PartNumber}` };
  });
  s3Mock.on(CompleteMultipartUploadCommand).resolves({});
  return { parts, buffers };
}

beforeEach(() => {
  s3Mock.reset();
});

describe('uploadBody', () => {
  it('sends a body that fits one part as a single PUT with the write headers', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const { chunks, whole } = body(PART);

    const uploaded = await uploadBody(s3, 'bucket', 'key', Readable.from(chunks), options);

    const [put] = s3Mock.commandCalls(PutObjectCommand);
    expect(uploaded).toEqual({ bytes: PART });
    expect(Buffer.from(put!.args[0].input.Body as Buffer).equals(whole)).toBe(true);
    expect(put!.args[0].input).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      Tagging: 'caretaker%3Amanaged=true',
    });
    expect(s3Mock.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  it('sends a larger body as full parts in order, from a few reused buffers, and completes it', async () => {
    const { parts, buffers } = recordParts();
    const { chunks, whole } = body(4 * PART + 123, 70_000);

    const uploaded = await uploadBody(s3, 'bucket', 'key', Readable.from(chunks), options);

    const complete = s3Mock.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input;
    expect(uploaded).toEqual({ bytes: whole.length });
    expect([...parts.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(Buffer.concat([1, 2, 3, 4, 5].map((n) => parts.get(n)!)).equals(whole)).toBe(true);
    expect(parts.get(5)!.length).toBe(123);
    expect(complete.MultipartUpload?.Parts).toEqual(
      [1, 2, 3, 4, 5].map((n) => ({ PartNumber: n, ETag: `"e${n}"`, ChecksumCRC32: `c${n}` })),
    );
    // Two parts in flight and one filling: five parts never needed more than three buffers.
    expect(buffers.size).toBeLessThanOrEqual(3);
  });

  it('aborts the multipart upload and completes nothing when a part fails', async () => {
    recordParts();
    s3Mock
      .on(UploadPartCommand, { PartNumber: 2 })
      .rejects(Object.assign(new Error('part 2 lost'), { name: 'InternalError' }));
    s3Mock.on(AbortMultipartUploadCommand).resolves({});

    const failing = uploadBody(s3, 'bucket', 'key', Readable.from(body(4 * PART).chunks), options);

    await expect(failing).rejects.toThrow('part 2 lost');
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'bucket',
      Key: 'key',
      UploadId: 'u-1',
    });
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('aborts the multipart upload when the body fails midway', async () => {
    recordParts();
    s3Mock.on(AbortMultipartUploadCommand).resolves({});
    async function* broken() {
      yield* body(2 * PART).chunks;
      throw new Error('source reset');
    }

    await expect(uploadBody(s3, 'bucket', 'key', broken(), options)).rejects.toThrow('source reset');
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });
});

describe('writes into the backup bucket', () => {
  it('go out with an unsigned payload and a CRC32 checksum, so the SDK does not hash the body for SigV4', async () => {
    s3Mock.restore();
    const sent: Array<Record<string, string>> = [];
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      requestHandler: {
        handle: async (request: { headers: Record<string, string> }) => {
          sent.push({ ...request.headers });
          return { response: { statusCode: 200, headers: { etag: '"x"' }, body: Readable.from([]) } };
        },
      },
    });

    await putBytes(client, 'bucket', 'key', Buffer.from('ciphertext'), { tags: {} });

    expect(sent[0]).toMatchObject({
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amz-checksum-crc32': expect.any(String),
    });
    s3Mock.reset();
  });
});

describe('uploadSink', () => {
  it('uploads what a pipeline pipes into it and reports the bytes', async () => {
    const { parts } = recordParts();
    const { chunks, whole } = body(2 * PART + 7);
    const upload = uploadSink(s3, 'bucket', 'key', options);

    await pipeline(Readable.from(chunks), upload.sink);

    expect(upload.uploaded()).toEqual({ bytes: whole.length });
    expect(Buffer.concat([1, 2, 3].map((n) => parts.get(n)!)).equals(whole)).toBe(true);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(1);
  });

  it('aborts the multipart upload when the pipeline fails upstream', async () => {
    recordParts();
    s3Mock.on(AbortMultipartUploadCommand).resolves({});
    const upload = uploadSink(s3, 'bucket', 'key', options);
    async function* broken() {
      yield* body(2 * PART).chunks;
      throw new Error('decryption failed');
    }

    await expect(pipeline(Readable.from(broken()), upload.sink)).rejects.toThrow('decryption failed');
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(() => upload.uploaded()).toThrow(/did not finish/);
  });
});
