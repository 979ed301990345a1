/**
 * Stores one source object in the backup bucket, streaming end to end:
 * S3 GetObject body → SHA-256 and size of the plaintext → Encryption SDK → multipart upload
 * (part-upload.ts: parts filled in reused buffers, several on the wire while the next is
 * encrypted). Memory per object is bounded by the frame length and the upload's part buffers,
 * whatever the object's size.
 */
import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { NetworkError } from '../runtime/errors.ts';
import type { BackupCrypto } from './crypto.ts';
import { type ManifestEntry, objectContext } from './manifest.ts';
import { uploadSink } from './part-upload.ts';
import { getStream, type ObjectHead, putBytes, type UploadTuning } from './s3-io.ts';

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

/** An object's entry but for where its copy is (filled in once the copy is written). */
export type UnplacedEntry = Omit<ManifestEntry, 'storedKey' | 'storedSize' | 'storedOffset'>;

/** A small object read, hashed and encrypted, waiting to be written into a pack. */
export interface SealedObject {
  readonly entry: UnplacedEntry;
  readonly message: Buffer;
}

function unplaced(request: StoreRequest, head: ObjectHead, size: number, sha256: string): UnplacedEntry {
  if (size !== head.size) {
    throw new NetworkError(
      `Read ${size} of ${head.size} bytes of s3://${request.sourceBucket}/${request.key}`,
      {
        key: request.key,
        expected: head.size,
        read: size,
      },
    );
  }
  const { etag, versionId, lastModified, size: _size, ...http } = head;
  return {
    key: request.key,
    size,
    sha256,
    etag,
    ...(versionId ? { versionId } : {}),
    lastModified,
    storedBackupId: request.backupId,
    ...http,
  };
}

/** The entry with where its copy is, fields in the order format 1 wrote them (parts stay diffable). */
function placed(
  entry: UnplacedEntry,
  storedKey: string,
  storedSize: number,
  storedOffset?: number,
): ManifestEntry {
  const { key, size, sha256, etag, versionId, lastModified, storedBackupId, ...http } = entry;
  return {
    key,
    size,
    sha256,
    etag,
    ...(versionId ? { versionId } : {}),
    lastModified,
    storedKey,
    storedBackupId,
    storedSize,
    ...(storedOffset === undefined ? {} : { storedOffset }),
    ...http,
  };
}

/** Reads, hashes and encrypts a whole small body (the common case by count): one buffer in, one message out. */
async function sealBody(
  target: StoreTarget,
  request: StoreRequest,
  source: { head: ObjectHead; body: Readable },
): Promise<SealedObject> {
  const plaintext = await readBody(source.body, SMALL_OBJECT_BYTES);
  const message = await target.crypto.encryptObject(plaintext, objectContext(request.set, request.backupId));
  const sha256 = createHash('sha256').update(plaintext).digest('hex');
  return { entry: unplaced(request, source.head, plaintext.length, sha256), message };
}

/** Streams a body of any size through hashing and encryption into its own stored object. */
async function storeStreamed(
  target: StoreTarget,
  request: StoreRequest,
  source: { head: ObjectHead; body: Readable },
): Promise<ManifestEntry> {
  const plain = new Meter(true);
  const encrypt = target.crypto.encryptObjectStream(
    objectContext(request.set, request.backupId),
    source.head.size,
  );
  const upload = uploadSink(target.s3, target.bucket, request.storedKey, {
    ...writeOf(target),
    tuning: target.tuning,
  });
  await pipeline(source.body, plain, encrypt, upload.sink);
  return placed(
    unplaced(request, source.head, plain.bytes, plain.digest()),
    request.storedKey,
    upload.uploaded().bytes,
  );
}

function writeOf(target: StoreTarget) {
  return { tags: target.tags, sseKeyArn: target.crypto.keyArn, contentType: 'application/octet-stream' };
}

/**
 * Copies one object into the backup, encrypted, as its own stored object at `storedKey`, and
 * returns its manifest entry — or `vanished` when the object was deleted since it was listed.
 */
export async function storeObject(
  target: StoreTarget,
  request: StoreRequest,
): Promise<ManifestEntry | 'vanished'> {
  const source = await getStream(target.s3, request.sourceBucket, request.key);
  if (!source) return 'vanished';
  if (source.head.size > SMALL_OBJECT_BYTES) return storeStreamed(target, request, source);
  const { entry, message } = await sealBody(target, request, source);
  await putBytes(target.s3, target.bucket, request.storedKey, message, writeOf(target));
  return placed(entry, request.storedKey, message.length);
}

/**
 * Reads and encrypts one object for a pack. An object that grew past the small-object size since
 * it was listed is stored on its own at `storedKey` instead (its entry comes back placed).
 */
export async function sealObject(
  target: StoreTarget,
  request: StoreRequest,
): Promise<SealedObject | ManifestEntry | 'vanished'> {
  const source = await getStream(target.s3, request.sourceBucket, request.key);
  if (!source) return 'vanished';
  if (source.head.size > SMALL_OBJECT_BYTES) return storeStreamed(target, request, source);
  return sealBody(target, request, source);
}

/** The entry of a sealed object written into a pack at `offset`. */
export function packedEntry(sealed: SealedObject, packKey: string, offset: number): ManifestEntry {
  return placed(sealed.entry, packKey, sealed.message.length, offset);
}
