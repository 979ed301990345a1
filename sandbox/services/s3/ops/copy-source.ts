/**
 * Shared by CopyObject and UploadPartCopy: resolving `x-amz-copy-source` (URL-encoded
 * bucket/key, optional versionId) and copying bytes of a stored version into a new file while
 * hashing them.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import type { S3Call } from '../call.ts';
import { type ChecksumAlgorithm, createHasher } from '../checksums.ts';
import { type ByteRange, evaluateReadConditions } from '../conditions.ts';
import { s3Errors } from '../errors.ts';
import { ARCHIVED_CLASSES, headerValue } from '../headers.ts';
import type { Bucket, ObjectVersion } from '../model.ts';
import { FileSink } from '../sinks.ts';
import type { S3Store } from '../store.ts';
import { checkVersionId } from './read.ts';

export const MAX_COPY_BYTES = 5 * 1024 * 1024 * 1024;

export interface CopySource {
  readonly bucket: Bucket;
  readonly key: string;
  /** The versionId the request named, if any. */
  readonly requestedVersionId?: string;
  readonly version: ObjectVersion;
}

/** Resolves and checks the copy source (existence, storage class, copy-source preconditions). */
export function resolveCopySource(call: S3Call, value: string): CopySource {
  let path = value;
  let versionId: string | undefined;
  const query = value.indexOf('?');
  if (query !== -1) {
    versionId = new URLSearchParams(value.slice(query + 1)).get('versionId') ?? undefined;
    path = value.slice(0, query);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw invalidCopySource(value);
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw invalidCopySource(value);
  const bucket = call.store.bucket(decoded.slice(0, slash));
  const key = decoded.slice(slash + 1);
  let version: ObjectVersion | undefined;
  if (versionId !== undefined) {
    version = call.store.findVersion(bucket, key, checkVersionId(versionId));
    if (!version) throw s3Errors.noSuchVersion(key, versionId);
    if (version.deleteMarker) {
      throw s3Errors.invalidRequest(
        'The source of a copy request may not specifically refer to a delete marker by version id.',
      );
    }
  } else {
    version = call.store.latest(bucket, key);
    if (!version || version.deleteMarker) throw s3Errors.noSuchKey(key);
  }
  if (ARCHIVED_CLASSES.has(version.headers.storageClass)) {
    throw s3Errors.invalidObjectState(version.headers.storageClass);
  }
  evaluateReadConditions(call.req.headers, version, 'x-amz-copy-source-');
  return { bucket, key, version, ...(versionId !== undefined ? { requestedVersionId: versionId } : {}) };
}

function invalidCopySource(value: string) {
  return s3Errors.invalidArgument(
    'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
    'x-amz-copy-source',
    value,
  );
}

/** The copy source header, if the request has one. */
export function copySourceHeader(call: S3Call): string | undefined {
  return headerValue(call.req.headers, 'x-amz-copy-source');
}

export interface CopiedBytes {
  readonly tempPath: string;
  readonly size: number;
  readonly md5: Buffer;
  readonly checksum?: Buffer;
}

/**
 * Copies `range` of a version into a new temporary file, computing its MD5 and (optionally) a
 * checksum. A whole single-file version whose MD5 is already known is copied by the kernel.
 */
export async function copyVersionBytes(
  store: S3Store,
  version: ObjectVersion,
  range: ByteRange,
  algorithm: ChecksumAlgorithm | undefined,
): Promise<CopiedBytes> {
  const tempPath = store.tempPath();
  const size = range.end - range.start + 1;
  store.retain(version);
  try {
    const whole = range.start === 0 && size === version.size;
    const [only] = version.segments;
    if (whole && !version.multipart && algorithm === undefined && version.segments.length <= 1) {
      if (only) await copyFile(store.filePath(only.file), tempPath);
      else await new FileSink(tempPath).close();
      return { tempPath, size, md5: Buffer.from(version.etag.slice(1, -1), 'hex') };
    }
    const md5 = createHash('md5');
    const hasher = algorithm ? createHasher(algorithm) : undefined;
    const sink = new FileSink(tempPath);
    try {
      let position = 0;
      for (const segment of version.segments) {
        const first = position;
        const last = position + segment.size - 1;
        position += segment.size;
        if (last < range.start || first > range.end) continue;
        const stream = createReadStream(store.filePath(segment.file), {
          start: Math.max(range.start, first) - first,
          end: Math.min(range.end, last) - first,
          highWaterMark: 1024 * 1024,
        });
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          md5.update(chunk);
          hasher?.update(chunk);
          if (!sink.write(chunk)) await sink.drain();
        }
      }
      await sink.close();
    } catch (error) {
      await sink.discard();
      throw error;
    }
    return { tempPath, size, md5: md5.digest(), ...(hasher ? { checksum: hasher.digest() } : {}) };
  } finally {
    store.release(version);
  }
}
