/**
 * Conditional requests (If-Match, If-None-Match, If-(Un)Modified-Since, and their copy-source
 * forms) and byte ranges, evaluated as S3 does (RFC 9110 precedence, second-precision dates).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { s3Errors } from './errors.ts';
import { headerValue } from './headers.ts';
import type { ObjectVersion } from './model.ts';

function bareEtag(value: string): string {
  return value.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** Whether an If-Match/If-None-Match list (or `*`) matches the object's ETag. */
function etagMatches(list: string, etag: string): boolean {
  const wanted = bareEtag(etag);
  return list.split(',').some((candidate) => candidate.trim() === '*' || bareEtag(candidate) === wanted);
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function dateHeader(headers: IncomingHttpHeaders, name: string): number | undefined {
  const value = headerValue(headers, name);
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

/**
 * Evaluates read preconditions. Returns 'not-modified' when a GET/HEAD should answer 304;
 * throws PreconditionFailed (412) when it must fail. With `prefix` `x-amz-copy-source-` it checks
 * a copy source, where every failed condition is a 412.
 */
export function evaluateReadConditions(
  headers: IncomingHttpHeaders,
  version: ObjectVersion,
  prefix = '',
): 'ok' | 'not-modified' {
  const ifMatch = headerValue(headers, `${prefix}if-match`);
  const ifNoneMatch = headerValue(headers, `${prefix}if-none-match`);
  const modified = seconds(version.lastModified);
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, version.etag))
      throw s3Errors.preconditionFailed(`${prefix ? 'x-amz-copy-source-' : ''}If-Match`);
  } else {
    const unmodifiedSince = dateHeader(headers, `${prefix}if-unmodified-since`);
    if (unmodifiedSince !== undefined && modified > seconds(unmodifiedSince)) {
      throw s3Errors.preconditionFailed(`${prefix ? 'x-amz-copy-source-' : ''}If-Unmodified-Since`);
    }
  }
  let notModified = false;
  if (ifNoneMatch !== undefined) {
    notModified = etagMatches(ifNoneMatch, version.etag);
  } else {
    const modifiedSince = dateHeader(headers, `${prefix}if-modified-since`);
    notModified = modifiedSince !== undefined && modified <= seconds(modifiedSince);
  }
  if (!notModified) return 'ok';
  if (prefix)
    throw s3Errors.preconditionFailed(
      `x-amz-copy-source-${ifNoneMatch !== undefined ? 'If-None-Match' : 'If-Modified-Since'}`,
    );
  return 'not-modified';
}

/**
 * Conditional writes: `If-None-Match: *` (only create) and `If-Match: <etag>` (only replace that
 * version). `current` is the key's live object (undefined when absent or a delete marker).
 */
export function evaluateWriteConditions(
  headers: IncomingHttpHeaders,
  key: string,
  current: ObjectVersion | undefined,
): void {
  const ifNoneMatch = headerValue(headers, 'if-none-match');
  const ifMatch = headerValue(headers, 'if-match');
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') throw s3Errors.notImplemented('If-None-Match on writes accepts only "*"');
    if (current) throw s3Errors.preconditionFailed('If-None-Match');
  }
  if (ifMatch !== undefined) {
    if (!current) throw s3Errors.noSuchKey(key);
    if (!etagMatches(ifMatch, current.etag)) throw s3Errors.preconditionFailed('If-Match');
  }
}

/**
 * A conditional delete (S3 general purpose buckets, DeleteObject's If-Match or a DeleteObjects
 * entry's ETag): `*` asks that the key exist; an ETag, that the current version has it.
 * `current` is the key's live object (undefined when absent or a delete marker).
 */
export function evaluateDeleteCondition(
  ifMatch: string | undefined,
  key: string,
  current: ObjectVersion | undefined,
): void {
  if (ifMatch === undefined) return;
  if (!current) throw s3Errors.noSuchKey(key);
  if (!etagMatches(ifMatch, current.etag)) throw s3Errors.preconditionFailed('If-Match');
}

export interface ByteRange {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
}

/**
 * Parses a single `bytes=` range against an object size. Returns undefined when the header is
 * absent or not a single well-formed range (S3 then sends the whole object); throws InvalidRange
 * (416) when it cannot be satisfied.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw s3Errors.invalidRange(value, size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) throw s3Errors.invalidRange(value, size);
  return { start, end };
}
