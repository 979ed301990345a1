/**
 * Multipart uploads: create, upload part (and part copy), complete (validated like S3: part
 * order, ETags, checksums, 5 MiB minimum for all but the last part), abort, list parts, list
 * uploads. A completed object keeps its part files as segments: completing copies nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { bucketOf, keysFor, type S3Call, sendEmpty } from '../call.ts';
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  checksumHeader,
  checksumMember,
  combineCrcs,
  compositeChecksum,
  decodeChecksum,
  parseAlgorithm,
  type StoredChecksum,
  supportsFullObject,
} from '../checksums.ts';
import { evaluateWriteConditions } from '../conditions.ts';
import { s3Errors } from '../errors.ts';
import {
  checkAcl,
  headerValue,
  objectHeadersFrom,
  setEncryptionHeaders,
  tagsFromHeader,
} from '../headers.ts';
import type { Bucket, Part, Upload } from '../model.ts';
import { payloadSpec, receivePayload } from '../payload.ts';
import { FileSink } from '../sinks.ts';
import { listOf, readXmlBody, sendS3Xml, textOf } from '../xml.ts';
import { copySourceHeader, copyVersionBytes, resolveCopySource } from './copy-source.ts';
import { commitVersion, liveVersion, setWriteHeaders } from './write.ts';

const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
/** S3's minimum size for every part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

function uploadOf(call: S3Call, bucket: Bucket): Upload {
  const uploadId = call.query.get('uploadId') ?? '';
  const upload = bucket.uploads.get(uploadId);
  if (!upload || upload.key !== call.key) throw s3Errors.noSuchUpload(uploadId);
  return upload;
}

function checksumOptions(call: S3Call): { algorithm?: ChecksumAlgorithm; type?: ChecksumType } {
  const rawAlgorithm = headerValue(call.req.headers, 'x-amz-checksum-algorithm');
  const rawType = headerValue(call.req.headers, 'x-amz-checksum-type');
  if (rawAlgorithm === undefined) {
    if (rawType !== undefined) {
      throw s3Errors.invalidRequest(
        'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
      );
    }
    return {};
  }
  const algorithm = parseAlgorithm(rawAlgorithm);
  if (!algorithm) {
    if (rawAlgorithm.toUpperCase() === 'CRC64NVME') throw s3Errors.notImplemented('CRC64NVME checksums');
    throw s3Errors.invalidRequest(
      'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, SHA1, SHA256]',
    );
  }
  const type = (rawType?.toUpperCase() ?? 'COMPOSITE') as ChecksumType;
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') {
    throw s3Errors.invalidRequest('Value for x-amz-checksum-type header is invalid.');
  }
  if (type === 'FULL_OBJECT' && !supportsFullObject(algorithm)) {
    throw s3Errors.invalidRequest(
      `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    );
  }
  return { algorithm, type };
}

export async function createMultipartUpload(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  checkAcl(call.req.headers, 'object');
  const { algorithm, type } = checksumOptions(call);
  const upload: Upload = {
    uploadId: randomBytes(48).toString('base64url'),
    key: call.key,
    initiated: Date.now(),
    headers: objectHeadersFrom(call.req.headers, bucket, keysFor(call, bucket)),
    tags: tagsFromHeader(call.req.headers),
    ...(algorithm ? { checksumAlgorithm: algorithm, checksumType: type } : {}),
    parts: new Map(),
  };
  bucket.uploads.set(upload.uploadId, upload);
  setEncryptionHeaders(call.res, upload.headers.encryption);
  if (algorithm && type) {
    call.res.setHeader('x-amz-checksum-algorithm', algorithm);
    call.res.setHeader('x-amz-checksum-type', type);
  }
  sendS3Xml(call.res, 'InitiateMultipartUploadResult', {
    Bucket: bucket.name,
    Key: call.key,
    UploadId: upload.uploadId,
  });
}

function partNumberOf(call: S3Call): number {
  const raw = call.query.get('partNumber') ?? '';
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 10000) {
    throw s3Errors.invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      raw,
    );
  }
  return value;
}

/** Stores a received part, replacing an earlier one with the same number. */
async function savePart(
  call: S3Call,
  bucket: Bucket,
  upload: Upload,
  tempPath: string,
  part: Omit<Part, 'file'>,
) {
  let file: string;
  try {
    file = await call.store.commitFile(tempPath);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  if (bucket.uploads.get(upload.uploadId) !== upload) {
    call.store.removeFiles([file]);
    throw s3Errors.noSuchUpload(upload.uploadId);
  }
  const previous = upload.parts.get(part.partNumber);
  upload.parts.set(part.partNumber, { ...part, file });
  if (previous) call.store.removeFiles([previous.file]);
}

export async function uploadPart(call: S3Call): Promise<void> {
  if (copySourceHeader(call) !== undefined) return uploadPartCopy(call);
  const { req, res, store } = call;
  const bucket = bucketOf(call);
  const upload = uploadOf(call, bucket);
  const partNumber = partNumberOf(call);
  const spec = payloadSpec(req.headers, MAX_PART_BYTES);
  const expected = upload.checksumAlgorithm;
  if (expected && spec.checksum && spec.checksum.algorithm !== expected) {
    throw s3Errors.invalidRequest(
      `Checksum Type mismatch occurred, expected checksum Type: ${expected.toLowerCase()}, actual checksum Type: ${spec.checksum.algorithm.toLowerCase()}`,
    );
  }
  const sink = new FileSink(store.tempPath());
  let received: Awaited<ReturnType<typeof receivePayload>>;
  try {
    received = await receivePayload(req, spec, sink, expected);
    await sink.close();
  } catch (error) {
    await sink.discard();
    throw error;
  }
  const etag = `"${received.md5.toString('hex')}"`;
  const checksum = received.checksum
    ? { algorithm: received.checksum.algorithm, value: received.checksum.digest.toString('base64') }
    : undefined;
  await savePart(call, bucket, upload, sink.path, {
    partNumber,
    size: received.size,
    etag,
    lastModified: Date.now(),
    ...(checksum ? { checksum } : {}),
  });
  if (checksum) res.setHeader(checksumHeader(checksum.algorithm), checksum.value);
  setEncryptionHeaders(res, upload.headers.encryption);
  res.setHeader('etag', etag);
  sendEmpty(res);
}

function copyRangeOf(call: S3Call, size: number): { start: number; end: number } {
  const raw = headerValue(call.req.headers, 'x-amz-copy-source-range');
  if (raw === undefined) return { start: 0, end: size - 1 };
  const match = /^bytes=(\d+)-(\d+)$/.exec(raw.trim());
  if (!match || Number(match[1]) > Number(match[2])) {
    throw s3Errors.invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      'x-amz-copy-source-range',
      raw,
    );
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end >= size) {
    throw s3Errors.invalidArgument(
      `Range specified is not valid for source object of size: ${size}`,
      'x-amz-copy-source-range',
      raw,
    );
  }
  return { start, end };
}

async function uploadPartCopy(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  const upload = uploadOf(call, bucket);
  const partNumber = partNumberOf(call);
  const source = resolveCopySource(call, copySourceHeader(call)!);
  const range = copyRangeOf(call, source.version.size);
  const copied = await copyVersionBytes(call.store, source.version, range, upload.checksumAlgorithm);
  const etag = `"${copied.md5.toString('hex')}"`;
  const lastModified = Date.now();
  const checksum =
    upload.checksumAlgorithm && copied.checksum
      ? { algorithm: upload.checksumAlgorithm, value: copied.checksum.toString('base64') }
      : undefined;
  await savePart(call, bucket, upload, copied.tempPath, {
    partNumber,
    size: copied.size,
    etag,
    lastModified,
    ...(checksum ? { checksum } : {}),
  });
  if (source.bucket.versioning !== undefined) {
    call.res.setHeader('x-amz-copy-source-version-id', source.version.versionId);
  }
  setEncryptionHeaders(call.res, upload.headers.encryption);
  sendS3Xml(call.res, 'CopyPartResult', {
    ETag: etag,
    LastModified: new Date(lastModified),
    ...(checksum ? { [checksumMember(checksum.algorithm)]: checksum.value } : {}),
  });
}

function bareEtag(value: string): string {
  return value.trim().replace(/^"|"$/g, '');
}

export async function completeMultipartUpload(call: S3Call): Promise<void> {
  const { res, store } = call;
  const bucket = bucketOf(call);
  const upload = uploadOf(call, bucket);
  const request = await readXmlBody(call.req, 'CompleteMultipartUpload', true);
  const requested = listOf(request, 'Part');
  if (requested.length === 0) throw s3Errors.malformedXml();
  const algorithm = upload.checksumAlgorithm;
  const chosen: Part[] = [];
  let previousNumber = 0;
  for (const item of requested) {
    const numberText = textOf(item, 'PartNumber');
    const etagText = textOf(item, 'ETag');
    if (numberText === undefined || etagText === undefined || !/^\d+$/.test(numberText.trim())) {
      throw s3Errors.malformedXml();
    }
    const partNumber = Number(numberText.trim());
    if (partNumber <= previousNumber) throw s3Errors.invalidPartOrder();
    previousNumber = partNumber;
    const part = upload.parts.get(partNumber);
    if (!part || bareEtag(part.etag) !== bareEtag(etagText)) {
      throw s3Errors.invalidPart(upload.uploadId, partNumber, etagText);
    }
    if (algorithm) {
      const sent = textOf(item, checksumMember(algorithm));
      if (sent === undefined && upload.checksumType === 'COMPOSITE') {
        throw s3Errors.invalidRequest(
          `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${partNumber} in the request.`,
        );
      }
      if (sent !== undefined && sent.trim() !== part.checksum?.value) {
        throw s3Errors.invalidPart(upload.uploadId, partNumber, etagText);
      }
    }
    chosen.push(part);
  }
  for (const [index, part] of chosen.entries()) {
    if (index < chosen.length - 1 && part.size < MIN_PART_BYTES) {
      throw s3Errors.entityTooSmall(part.size, MIN_PART_BYTES, part.partNumber, part.etag);
    }
  }

  const checksum = algorithm ? finalChecksum(call, upload, algorithm, chosen) : undefined;
  const md5s = chosen.map((part) => Buffer.from(bareEtag(part.etag), 'hex'));
  const etag = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${chosen.length}"`;
  // Checked before the upload is closed, so a failed condition leaves it open (to retry or abort);
  // commitVersion checks again in this same synchronous step.
  evaluateWriteConditions(call.req.headers, call.key, liveVersion(call, bucket));
  bucket.uploads.delete(upload.uploadId);
  const version = commitVersion(call, bucket, {
    size: chosen.reduce((sum, part) => sum + part.size, 0),
    etag,
    segments: chosen.map((part) => ({
      file: part.file,
      size: part.size,
      ...(part.checksum ? { checksum: part.checksum.value } : {}),
    })),
    multipart: true,
    headers: upload.headers,
    tags: upload.tags,
    ...(checksum ? { checksum } : {}),
  });
  const used = new Set(chosen);
  store.removeFiles([...upload.parts.values()].filter((part) => !used.has(part)).map((part) => part.file));
  setWriteHeaders(res, bucket, version, false);
  sendS3Xml(res, 'CompleteMultipartUploadResult', {
    Location: `${call.context.endpoint}/${encodeURIComponent(bucket.name)}/${encodeURIComponent(call.key).replace(/%2F/g, '/')}`,
    Bucket: bucket.name,
    Key: call.key,
    ETag: etag,
    ...(checksum
      ? { [checksumMember(checksum.algorithm)]: checksum.value, ChecksumType: checksum.type }
      : {}),
  });
}

function finalChecksum(
  call: S3Call,
  upload: Upload,
  algorithm: ChecksumAlgorithm,
  parts: Part[],
): StoredChecksum {
  const digests = parts.map((part) => {
    const digest = part.checksum && decodeChecksum(algorithm, part.checksum.value);
    if (!digest) throw s3Errors.invalidPart(upload.uploadId, part.partNumber, part.etag);
    return digest;
  });
  if (upload.checksumType !== 'FULL_OBJECT') {
    return { algorithm, type: 'COMPOSITE', value: compositeChecksum(algorithm, digests) };
  }
  const value = combineCrcs(
    algorithm,
    parts.map((part, index) => ({ digest: digests[index]!, size: part.size })),
  ).toString('base64');
  const sent = headerValue(call.req.headers, checksumHeader(algorithm));
  if (sent !== undefined && sent !== value) throw s3Errors.badChecksum(algorithm);
  return { algorithm, type: 'FULL_OBJECT', value };
}

export async function abortMultipartUpload(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  const upload = uploadOf(call, bucket);
  bucket.uploads.delete(upload.uploadId);
  call.store.removeFiles([...upload.parts.values()].map((part) => part.file));
  sendEmpty(call.res, 204);
}
