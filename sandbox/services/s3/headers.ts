/**
 * Object headers: read from a write request (PUT, CreateMultipartUpload, CopyObject REPLACE),
 * stored, and written back on GET/HEAD and write responses.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { checksumHeader } from './checksums.ts';
import { s3Errors } from './errors.ts';
import type { KeyResolver } from './kms-keys.ts';
import type { Bucket, Encryption, ObjectHeaders, ObjectVersion, Tag } from './model.ts';

export const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
]);
/** Classes whose objects must be restored before they can be read. */
export const ARCHIVED_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);
const SSE_ALGORITHMS = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);
const MAX_METADATA_BYTES = 2048;
const MAX_TAGS = 10;
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Content-Encoding as stored: the transport-only `aws-chunked` token removed. */
function storedContentEncoding(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const kept = value
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '' && token.toLowerCase() !== 'aws-chunked');
  return kept.length > 0 ? kept.join(',') : undefined;
}

/** How a write names its SSE-KMS key: resolved to an ARN, and the managed key when it names none. */
export interface KeyChoice {
  readonly resolve: KeyResolver;
  readonly managedKey: string;
}

/** Server-side encryption from request headers, else the bucket default (S3 encrypts everything). */
export function encryptionFrom(headers: IncomingHttpHeaders, bucket: Bucket, keys: KeyChoice): Encryption {
  if (headerValue(headers, 'x-amz-server-side-encryption-customer-algorithm') !== undefined) {
    throw s3Errors.notImplemented('SSE-C (customer-provided encryption keys)');
  }
  const algorithm = headerValue(headers, 'x-amz-server-side-encryption');
  const kmsKeyId = headerValue(headers, 'x-amz-server-side-encryption-aws-kms-key-id');
  const context = headerValue(headers, 'x-amz-server-side-encryption-context');
  const bucketKey = headerValue(headers, 'x-amz-server-side-encryption-bucket-key-enabled');
  if (algorithm === undefined) {
    if (kmsKeyId !== undefined) {
      throw s3Errors.invalidArgument(
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id',
        kmsKeyId,
      );
    }
    const inherited = bucket.encryption ?? { algorithm: 'AES256' };
    if (inherited.algorithm === 'AES256') return inherited;
    return {
      ...inherited,
      kmsKeyId: inherited.kmsKeyId === undefined ? keys.managedKey : keys.resolve(inherited.kmsKeyId),
    };
  }
  if (!SSE_ALGORITHMS.has(algorithm)) {
    throw s3Errors.invalidArgument(
      'The encryption method specified is not supported',
      'x-amz-server-side-encryption',
      algorithm,
    );
  }
  if (algorithm === 'AES256') {
    if (kmsKeyId !== undefined) {
      throw s3Errors.invalidArgument(
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        'x-amz-server-side-encryption',
        algorithm,
      );
    }
    return { algorithm };
  }
  const inherited = bucket.encryption?.algorithm === algorithm ? bucket.encryption : undefined;
  const namedKey = kmsKeyId ?? inherited?.kmsKeyId;
  return {
    algorithm,
    kmsKeyId: namedKey === undefined ? keys.managedKey : keys.resolve(namedKey),
    ...(context !== undefined ? { context } : {}),
    ...(bucketKey !== undefined
      ? { bucketKeyEnabled: bucketKey.toLowerCase() === 'true' }
      : inherited?.bucketKeyEnabled !== undefined
        ? { bucketKeyEnabled: inherited.bucketKeyEnabled }
        : {}),
  };
}

export function storageClassFrom(headers: IncomingHttpHeaders): string {
  const value = headerValue(headers, 'x-amz-storage-class') ?? 'STANDARD';
  if (!STORAGE_CLASSES.has(value)) throw s3Errors.invalidStorageClass(value);
  return value;
}

export function metadataFrom(headers: IncomingHttpHeaders): Record<string, string> {
  const metadata: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const key = name.slice('x-amz-meta-'.length);
    const text = Array.isArray(value) ? value.join(',') : value;
    metadata[key] = text;
    size += Buffer.byteLength(key) + Buffer.byteLength(text);
  }
  if (size > MAX_METADATA_BYTES) throw s3Errors.metadataTooLarge(size);
  return metadata;
}

/** Canned ACLs a bucket with Object Ownership "bucket owner enforced" (S3's default) still accepts. */
const ACCEPTED_ACLS = new Set(['private', 'bucket-owner-full-control']);

/**
 * Refuses ACLs as S3 does for buckets created with its defaults (ACLs disabled since April 2023):
 * only no ACL, `private` or `bucket-owner-full-control` are accepted on writes.
 */
export function checkAcl(headers: IncomingHttpHeaders, level: 'bucket' | 'object'): void {
  const acl = headerValue(headers, 'x-amz-acl');
  const grants = Object.keys(headers).some((name) => name.startsWith('x-amz-grant-'));
  if ((acl === undefined || ACCEPTED_ACLS.has(acl)) && !grants) return;
  throw level === 'bucket' ? s3Errors.bucketAclNotAllowed() : s3Errors.aclNotSupported();
}

/** Everything an object stores from its write request's headers. */
export function objectHeadersFrom(
  headers: IncomingHttpHeaders,
  bucket: Bucket,
  keys: KeyChoice,
): ObjectHeaders {
  const optional = (name: string) => headerValue(headers, name);
  const contentEncoding = storedContentEncoding(optional('content-encoding'));
  const fields: Record<string, string | undefined> = {
    contentType: optional('content-type') ?? 'binary/octet-stream',
    contentEncoding,
    contentLanguage: optional('content-language'),
    contentDisposition: optional('content-disposition'),
    cacheControl: optional('cache-control'),
    expires: optional('expires'),
    websiteRedirectLocation: optional('x-amz-website-redirect-location'),
  };
  const present = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return {
    ...present,
    metadata: metadataFrom(headers),
    storageClass: storageClassFrom(headers),
    encryption: encryptionFrom(headers, bucket, keys),
  };
}

/** Checks a tag set as S3 does (count, lengths, characters, duplicates, reserved prefix). */
export function validateTags(tags: readonly Tag[]): readonly Tag[] {
  if (tags.length > MAX_TAGS) throw s3Errors.tooManyTags();
  const seen = new Set<string>();
  for (const { Key, Value } of tags) {
    if ([...Key].length < 1 || [...Key].length > 128 || !TAG_CHARACTERS.test(Key)) {
      throw s3Errors.invalidTag('The TagKey you have provided is invalid');
    }
    if ([...Value].length > 256 || !TAG_CHARACTERS.test(Value)) {
      throw s3Errors.invalidTag('The TagValue you have provided is invalid');
    }
    if (Key.startsWith('aws:')) throw s3Errors.invalidTag('Your TagKey cannot be prefixed with aws:');
    if (seen.has(Key)) throw s3Errors.invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(Key);
  }
  return tags;
}

/** Tags from the `x-amz-tagging` header (URL query encoding). */
export function tagsFromHeader(headers: IncomingHttpHeaders): readonly Tag[] {
  const value = headerValue(headers, 'x-amz-tagging');
  if (value === undefined || value === '') return [];
  const tags = [...new URLSearchParams(value)].map(([Key, Value]) => ({ Key, Value }));
  return validateTags(tags);
}

/** Writes the encryption headers S3 echoes on writes and reads. */
export function setEncryptionHeaders(res: ServerResponse, encryption: Encryption): void {
  res.setHeader('x-amz-server-side-encryption', encryption.algorithm);
  if (encryption.kmsKeyId !== undefined) {
    res.setHeader('x-amz-server-side-encryption-aws-kms-key-id', encryption.kmsKeyId);
  }
  if (encryption.context !== undefined)
    res.setHeader('x-amz-server-side-encryption-context', encryption.context);
  if (encryption.bucketKeyEnabled) res.setHeader('x-amz-server-side-encryption-bucket-key-enabled', 'true');
}

/** Writes the headers of a stored object for GET/HEAD (not Content-Length or Range). */
export function setObjectHeaders(
  res: ServerResponse,
  bucket: Bucket,
  version: ObjectVersion,
  options: { checksum: boolean },
): void {
  const { headers } = version;
  res.setHeader('etag', version.etag);
  res.setHeader('last-modified', new Date(version.lastModified).toUTCString());
  res.setHeader('accept-ranges', 'bytes');
  if (headers.contentType !== undefined) res.setHeader('content-type', headers.contentType);
  if (headers.contentEncoding !== undefined) res.setHeader('content-encoding', headers.contentEncoding);
  if (headers.contentLanguage !== undefined) res.setHeader('content-language', headers.contentLanguage);
  if (headers.contentDisposition !== undefined)
    res.setHeader('content-disposition', headers.contentDisposition);
  if (headers.cacheControl !== undefined) res.setHeader('cache-control', headers.cacheControl);
  if (headers.expires !== undefined) res.setHeader('expires', headers.expires);
  if (headers.websiteRedirectLocation !== undefined) {
    res.setHeader('x-amz-website-redirect-location', headers.websiteRedirectLocation);
  }
  for (const [name, value] of Object.entries(headers.metadata)) res.setHeader(`x-amz-meta-${name}`, value);
  if (headers.storageClass !== 'STANDARD') res.setHeader('x-amz-storage-class', headers.storageClass);
  setEncryptionHeaders(res, headers.encryption);
  if (bucket.versioning !== undefined) res.setHeader('x-amz-version-id', version.versionId);
  if (version.tags.length > 0) res.setHeader('x-amz-tagging-count', String(version.tags.length));
  if (options.checksum && version.checksum) {
    res.setHeader(checksumHeader(version.checksum.algorithm), version.checksum.value);
    res.setHeader('x-amz-checksum-type', version.checksum.type);
  }
}
