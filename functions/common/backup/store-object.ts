/**
 * Stores one source object in the backup bucket, streaming end to end:
 * S3 GetObject body → SHA-256 and size of the plaintext → Encryption SDK → multipart upload.
 * Memory per object is bounded by the frame length and the upload's part buffers, whatever the
 * object's size.
 */
import { createHash } from 'node:crypto';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { NetworkError } from '../errors.ts';
import type { BackupCrypto } from './crypto.ts';
import { type ManifestEntry, objectContext } from './manifest.ts';
import { getStream, putBytes, type UploadTuning, uploadStream } from './s3-io.ts';

export interface StoreTarget {
  readonly s3: S3Client;
  readonly crypto: BackupCrypto;
  /** The backup bucket. */
  readonly bucket: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly tuning: UploadTuning;
}

export interface StoreRequest {
  readonly sourceBucket: string;
  readonly key: string;
  readonly set: string;
  readonly backupId: string;
  readonly storedKey: string;
}

/** Objects up to this size are read, encrypted and written as single buffers. */
export const SMALL_OBJECT_BYTES = 1024 * 1024;

/** Reads a whole (small) body; more than `limit` bytes means the object grew since its HEAD. */
async function readBody(body: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += (chunk as Buffer).length;
    if (length > limit) throw new NetworkError(`The object is larger than the ${limit} bytes it announced`);
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
}

/** Counts (and optionally hashes) the bytes passing through. */
export class Meter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly hashing: boolean) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ) {
    this.bytes += chunk.length;
    if (this.hashing) this.hash.update(chunk);
    callback(null, chunk);
  }

  /** The SHA-256 (hex) of everything that passed; call once, after the end. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Runs a writing pipeline and an upload reading its end; waits for both to settle either way. */
export async function pipeIntoUpload(
  piping: (sink: PassThrough) => Promise<void>,
  upload: (body: PassThrough) => Promise<void>,
): Promise<void> {
  const sink = new PassThrough({ highWaterMark: 1024 * 1024 });
  const results = await Promise.allSettled([
    piping(sink),
    upload(sink).catch((error: unknown) => {
      sink.destroy(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }),
  ]);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}

/**
 * Copies one object into the backup, encrypted, and returns its manifest entry — or `vanished`
 * when the object was deleted since it was listed.
 */
export async function storeObject(
  target: StoreTarget,
  request: StoreRequest,
): Promise<ManifestEntry | 'vanished'> {
  const source = await getStream(target.s3, request.sourceBucket, request.key);
  if (!source) return 'vanished';
  const context = objectContext(request.set, request.backupId, request.key);
  const write = {
    tags: target.tags,
    sseKeyArn: target.crypto.keyArn,
    contentType: 'application/octet-stream',
  };
  let plaintextBytes: number;
  let sha256: string;
  let storedSize: number;
  if (source.head.size <= SMALL_OBJECT_BYTES) {
    // Small objects (the common case by count) skip the streaming machinery: one buffer in,
    // one message out, one PUT with a known length. Memory stays bounded by the threshold.
    const plaintext = await readBody(source.body, SMALL_OBJECT_BYTES);
    const message = await target.crypto.encrypt(plaintext, context);
    await putBytes(target.s3, target.bucket, request.storedKey, message, write);
    plaintextBytes = plaintext.length;
    sha256 = createHash('sha256').update(plaintext).digest('hex');
    storedSize = message.length;
  } else {
    const plain = new Meter(true);
    const stored = new Meter(false);
    const encrypt = target.crypto.encryptStream(context);
    await pipeIntoUpload(
      (sink) => pipeline(source.body, plain, encrypt, stored, sink),
      (body) =>
        uploadStream(target.s3, target.bucket, request.storedKey, body, { ...write, tuning: target.tuning }),
    );
    plaintextBytes = plain.bytes;
    sha256 = plain.digest();
    storedSize = stored.bytes;
  }
  if (plaintextBytes !== source.head.size) {
    throw new NetworkError(
      `Read ${plaintextBytes} of ${source.head.size} bytes of s3://${request.sourceBucket}/${request.key}`,
      { key: request.key, expected: source.head.size, read: plaintextBytes },
    );
  }
  const { etag, versionId, lastModified, size: _size, ...http } = source.head;
  return {
    key: request.key,
    size: plaintextBytes,
    sha256,
    etag,
    ...(versionId ? { versionId } : {}),
    lastModified,
    storedKey: request.storedKey,
    storedBackupId: request.backupId,
    storedSize,
    ...http,
  };
}
