/**
 * GetObject and HeadObject: version lookup, preconditions, ranges and part numbers, streaming
 * the body from disk.
 */
import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { bucketOf, type S3Call } from '../call.ts';
import { checksumHeader } from '../checksums.ts';
import { type ByteRange, evaluateReadConditions, parseRange } from '../conditions.ts';
import { s3Errors } from '../errors.ts';
import { ARCHIVED_CLASSES, headerValue, setObjectHeaders } from '../headers.ts';
import type { Bucket, ObjectVersion } from '../model.ts';
import { type S3Store, VERSION_ID } from '../store.ts';

const READ_CHUNK_BYTES = 1024 * 1024;

const RESPONSE_OVERRIDES: readonly [string, string][] = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];

/** Validates a `versionId` query value. */
export function checkVersionId(versionId: string): string {
  if (!VERSION_ID.test(versionId))
    throw s3Errors.invalidArgument('Invalid version id specified', 'versionId', versionId);
  return versionId;
}

/**
 * The version a read addresses (the latest, or `versionId`), with S3's delete-marker answers:
 * 404 NoSuchKey for a latest delete marker, 405 for one addressed by id (both flagged in headers).
 */
export function versionToRead(
  store: S3Store,
  bucket: Bucket,
  key: string,
  versionId: string | null,
  res: ServerResponse | undefined,
  method: string,
): ObjectVersion {
  if (versionId !== null) {
    const version = store.findVersion(bucket, key, checkVersionId(versionId));
    if (!version) throw s3Errors.noSuchVersion(key, versionId);
    if (version.deleteMarker) {
      res?.setHeader('x-amz-delete-marker', 'true');
      res?.setHeader('x-amz-version-id', version.versionId);
      res?.setHeader('last-modified', new Date(version.lastModified).toUTCString());
      throw s3Errors.methodNotAllowed(method, 'DeleteMarker');
    }
    return version;
  }
  const latest = store.latest(bucket, key);
  if (!latest) throw s3Errors.noSuchKey(key);
  if (latest.deleteMarker) {
    res?.setHeader('x-amz-delete-marker', 'true');
    res?.setHeader('x-amz-version-id', latest.versionId);
    throw s3Errors.noSuchKey(key);
  }
  return latest;
}

function partNumberOf(call: S3Call): number | undefined {
  const raw = call.query.get('partNumber');
  if (raw === null) return undefined;
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

/** Byte range of part `partNumber` (1-based) of a version. */
function partRange(version: ObjectVersion, partNumber: number): ByteRange {
  let start = 0;
  for (let index = 0; index < partNumber - 1; index++) start += version.segments[index]!.size;
  return { start, end: start + version.segments[partNumber - 1]!.size - 1 };
}

export const getObject = (call: S3Call): Promise<void> => readObject(call, false);
export const headObject = (call: S3Call): Promise<void> => readObject(call, true);

async function readObject(call: S3Call, head: boolean): Promise<void> {
  const { req, res, store, key, query } = call;
  const bucket = bucketOf(call);
  const version = versionToRead(store, bucket, key, query.get('versionId'), res, req.method);
  if (!head && ARCHIVED_CLASSES.has(version.headers.storageClass)) {
    throw s3Errors.invalidObjectState(version.headers.storageClass);
  }
  if (evaluateReadConditions(req.headers, version) === 'not-modified') {
    res.setHeader('etag', version.etag);
    res.setHeader('last-modified', new Date(version.lastModified).toUTCString());
    res.writeHead(304);
    res.end();
    return;
  }

  const partNumber = partNumberOf(call);
  const rangeHeader = headerValue(req.headers, 'range');
  let range: ByteRange | undefined;
  let partChecksum: string | undefined;
  if (partNumber !== undefined) {
    if (rangeHeader !== undefined) {
      throw s3Errors.invalidRequest('Cannot specify both Range header and partNumber query parameter');
    }
    const parts = version.multipart ? version.segments.length : 1;
    if (partNumber > parts) throw s3Errors.invalidPartNumber();
    if (version.multipart) {
      range = partRange(version, partNumber);
      partChecksum = version.segments[partNumber - 1]!.checksum;
      res.setHeader('x-amz-mp-parts-count', String(parts));
    }
  } else {
    range = parseRange(rangeHeader, version.size);
  }

  const checksumMode = headerValue(req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
  setObjectHeaders(res, bucket, version, { checksum: checksumMode && range === undefined });
  if (checksumMode && partChecksum !== undefined && version.checksum) {
    res.setHeader(checksumHeader(version.checksum.algorithm), partChecksum);
  }
  for (const [parameter, headerName] of RESPONSE_OVERRIDES) {
    const override = query.get(parameter);
    if (override === null) continue;
    if (/[^\t\x20-\x7e\x80-\xff]/.test(override)) {
      throw s3Errors.invalidArgument(`Invalid value for ${parameter}`, parameter, override);
    }
    res.setHeader(headerName, override);
  }
  const body = range ?? { start: 0, end: version.size - 1 };
  res.setHeader('content-length', String(body.end - body.start + 1));
  if (range) res.setHeader('content-range', `bytes ${range.start}-${range.end}/${version.size}`);
  res.writeHead(range ? 206 : 200);
  if (head) {
    res.end();
    return;
  }
  store.retain(version);
  try {
    await streamVersion(store, version, body, res);
  } finally {
    store.release(version);
  }
}

/** Streams bytes [range.start, range.end] of a version's segments to `res`, in one pipeline. */
async function streamVersion(
  store: S3Store,
  version: ObjectVersion,
  range: ByteRange,
  res: ServerResponse,
): Promise<void> {
  async function* segments(): AsyncGenerator<Buffer> {
    let position = 0;
    for (const segment of version.segments) {
      const first = position;
      const last = position + segment.size - 1;
      position += segment.size;
      if (last < range.start || first > range.end) continue;
      yield* createReadStream(store.filePath(segment.file), {
        start: Math.max(range.start, first) - first,
        end: Math.min(range.end, last) - first,
        highWaterMark: READ_CHUNK_BYTES,
      }) as AsyncIterable<Buffer>;
    }
  }
  try {
    await pipeline(segments, res);
  } catch (error) {
    // A client that hangs up mid-download is not a server fault.
    if (res.destroyed || (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw error;
  }
}
