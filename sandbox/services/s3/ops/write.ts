/**
 * PutObject and CopyObject: bodies stream to a temporary file while hashed, then become the
 * key's newest version in one synchronous step (last complete write wins, never a torn file).
 */
import { rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { bucketOf, keysFor, type S3Call, sendEmpty } from '../call.ts';
import {
  type ChecksumAlgorithm,
  checksumHeader,
  checksumMember,
  parseAlgorithm,
  type StoredChecksum,
} from '../checksums.ts';
import { evaluateWriteConditions } from '../conditions.ts';
import { s3Errors } from '../errors.ts';
import {
  checkAcl,
  encryptionFrom,
  headerValue,
  objectHeadersFrom,
  setEncryptionHeaders,
  storageClassFrom,
  tagsFromHeader,
} from '../headers.ts';
import type { Bucket, ObjectHeaders, ObjectVersion, Segment, Tag } from '../model.ts';
import { payloadSpec, receivePayload } from '../payload.ts';
import { FileSink } from '../sinks.ts';
import { sendS3Xml } from '../xml.ts';
import { copySourceHeader, copyVersionBytes, MAX_COPY_BYTES, resolveCopySource } from './copy-source.ts';

export const MAX_PUT_BYTES = 5 * 1024 * 1024 * 1024;

/** The key's live object: its newest version unless that is a delete marker. */
export function liveVersion(call: S3Call, bucket: Bucket): ObjectVersion | undefined {
  const latest = call.store.latest(bucket, call.key);
  return latest && !latest.deleteMarker ? latest : undefined;
}

export interface NewObject {
  readonly size: number;
  readonly etag: string;
  readonly segments: readonly Segment[];
  readonly multipart: boolean;
  readonly headers: ObjectHeaders;
  readonly tags: readonly Tag[];
  readonly checksum?: StoredChecksum;
}

/**
 * Makes committed files the key's newest version, after re-checking (synchronously, so no other
 * write can interleave) that the bucket still exists and the write conditions still hold.
 */
export function commitVersion(call: S3Call, bucket: Bucket, object: NewObject): ObjectVersion {
  const files = object.segments.map((segment) => segment.file);
  try {
    if (call.store.buckets.get(bucket.name) !== bucket) throw s3Errors.noSuchBucket(bucket.name);
    evaluateWriteConditions(call.req.headers, call.key, liveVersion(call, bucket));
  } catch (error) {
    call.store.removeFiles(files);
    throw error;
  }
  const version: ObjectVersion = {
    ...object,
    versionId: call.store.nextVersionId(bucket),
    deleteMarker: false,
    lastModified: Date.now(),
  };
  call.store.addVersion(bucket, call.key, version);
  return version;
}

/**
 * Headers write responses carry: version id, encryption, and (for PUT, whose response has no
 * body) the checksum; CopyObject and CompleteMultipartUpload return it in their XML instead.
 */
export function setWriteHeaders(
  res: ServerResponse,
  bucket: Bucket,
  version: ObjectVersion,
  checksumInHeaders = true,
): void {
  if (bucket.versioning !== undefined) res.setHeader('x-amz-version-id', version.versionId);
  if (version.checksum && checksumInHeaders) {
    res.setHeader(checksumHeader(version.checksum.algorithm), version.checksum.value);
    res.setHeader('x-amz-checksum-type', version.checksum.type);
  }
  setEncryptionHeaders(res, version.headers.encryption);
}

export async function putObject(call: S3Call): Promise<void> {
  if (copySourceHeader(call) !== undefined) return copyObject(call);
  const { req, res, store } = call;
  const bucket = bucketOf(call);
  checkAcl(req.headers, 'object');
  const spec = payloadSpec(req.headers, MAX_PUT_BYTES);
  const headers = objectHeadersFrom(req.headers, bucket, keysFor(call, bucket));
  const tags = tagsFromHeader(req.headers);
  evaluateWriteConditions(req.headers, call.key, liveVersion(call, bucket));

  const sink = new FileSink(store.tempPath());
  let received: Awaited<ReturnType<typeof receivePayload>>;
  try {
    received = await receivePayload(req, spec, sink);
    await sink.close();
  } catch (error) {
    await sink.discard();
    throw error;
  }
  let file: string;
  try {
    file = await store.commitFile(sink.path);
  } catch (error) {
    await sink.discard();
    throw error;
  }
  const version = commitVersion(call, bucket, {
    size: received.size,
    etag: `"${received.md5.toString('hex')}"`,
    segments: [{ file, size: received.size }],
    multipart: false,
    headers,
    tags,
    ...(received.checksum
      ? {
          checksum: {
            algorithm: received.checksum.algorithm,
            type: 'FULL_OBJECT',
            value: received.checksum.digest.toString('base64'),
          },
        }
      : {}),
  });
  setWriteHeaders(res, bucket, version);
  res.setHeader('etag', version.etag);
  sendEmpty(res);
}

function directive(call: S3Call, name: string, label: string): 'COPY' | 'REPLACE' {
  const value = headerValue(call.req.headers, name) ?? 'COPY';
  if (value !== 'COPY' && value !== 'REPLACE')
    throw s3Errors.invalidArgument(`Unknown ${label} directive.`, name, value);
  return value;
}

export async function copyObject(call: S3Call): Promise<void> {
  const { req, res, store } = call;
  const bucket = bucketOf(call);
  checkAcl(req.headers, 'object');
  const source = resolveCopySource(call, copySourceHeader(call)!);
  const metadataDirective = directive(call, 'x-amz-metadata-directive', 'metadata');
  const taggingDirective = directive(call, 'x-amz-tagging-directive', 'tagging');
  const sourceVersion = source.version;
  if (sourceVersion.size > MAX_COPY_BYTES) {
    throw s3Errors.invalidRequest(
      `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_COPY_BYTES}`,
    );
  }
  const changesSomething =
    metadataDirective === 'REPLACE' ||
    headerValue(req.headers, 'x-amz-storage-class') !== undefined ||
    headerValue(req.headers, 'x-amz-server-side-encryption') !== undefined ||
    headerValue(req.headers, 'x-amz-website-redirect-location') !== undefined;
  const sameObject =
    source.bucket === bucket && source.key === call.key && sourceVersion === store.latest(bucket, call.key);
  if (sameObject && !changesSomething) {
    throw s3Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }

  const headers: ObjectHeaders =
    metadataDirective === 'REPLACE'
      ? objectHeadersFrom(req.headers, bucket, keysFor(call, bucket))
      : {
          ...sourceVersion.headers,
          storageClass: storageClassFrom(req.headers),
          encryption: encryptionFrom(req.headers, bucket, keysFor(call, bucket)),
        };
  const tags = taggingDirective === 'REPLACE' ? tagsFromHeader(req.headers) : sourceVersion.tags;

  const requested = headerValue(req.headers, 'x-amz-checksum-algorithm');
  let algorithm: ChecksumAlgorithm | undefined = sourceVersion.checksum?.algorithm;
  if (requested !== undefined) {
    algorithm = parseAlgorithm(requested);
    if (!algorithm) {
      throw s3Errors.invalidRequest(
        'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, SHA1, SHA256]',
      );
    }
  }
  // A FULL_OBJECT checksum of the same algorithm carries over; anything else is computed while copying.
  const reusable =
    sourceVersion.checksum?.type === 'FULL_OBJECT' &&
    sourceVersion.checksum.algorithm === algorithm &&
    !sourceVersion.multipart;
  const copied = await copyVersionBytes(
    store,
    sourceVersion,
    { start: 0, end: sourceVersion.size - 1 },
    reusable ? undefined : algorithm,
  );
  let file: string;
  try {
    file = await store.commitFile(copied.tempPath);
  } catch (error) {
    await rm(copied.tempPath, { force: true });
    throw error;
  }
  const checksumValue = reusable ? sourceVersion.checksum?.value : copied.checksum?.toString('base64');
  const version = commitVersion(call, bucket, {
    size: copied.size,
    etag: `"${copied.md5.toString('hex')}"`,
    segments: [{ file, size: copied.size }],
    multipart: false,
    headers,
    tags,
    ...(algorithm && checksumValue
      ? { checksum: { algorithm, type: 'FULL_OBJECT', value: checksumValue } }
      : {}),
  });
  setWriteHeaders(res, bucket, version, false);
  if (source.bucket.versioning !== undefined)
    res.setHeader('x-amz-copy-source-version-id', sourceVersion.versionId);
  sendS3Xml(res, 'CopyObjectResult', {
    ETag: version.etag,
    LastModified: new Date(version.lastModified),
    ...(version.checksum
      ? {
          ChecksumType: version.checksum.type,
          [checksumMember(version.checksum.algorithm)]: version.checksum.value,
        }
      : {}),
  });
}
