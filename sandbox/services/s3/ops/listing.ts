/**
 * ListObjectsV2, ListObjects (v1) and ListObjectVersions: prefix, delimiter (CommonPrefixes),
 * max-keys, markers and continuation tokens, `encoding-type=url`, in UTF-8 key order.
 */
import { toXml, type XmlNode } from '../../../core/responses.ts';
import { bucketOf, type S3Call } from '../call.ts';
import { s3Errors } from '../errors.ts';
import { type Bucket, type ObjectVersion, OWNER } from '../model.ts';
import { compareKeys } from '../sorted-keys.ts';
import { sendS3Xml, sendXmlText } from '../xml.ts';
import { decodeToken, encodeToken } from './buckets.ts';

const DEFAULT_MAX_KEYS = 1000;

type Entry = { readonly key: string } | { readonly prefix: string };

/**
 * Walks keys after `after` (or from it, when `inclusive`) under `prefix`, rolling keys that
 * contain `delimiter` past the prefix into common prefixes. `visible` decides whether a key is
 * listed at all; a common prefix appears only if it holds a visible key, and never at or
 * before `after` (so resuming after a common prefix does not repeat it).
 */
function* walk(
  bucket: Bucket,
  prefix: string,
  delimiter: string,
  after: string | undefined,
  visible: (key: string) => boolean,
  inclusive = false,
): Generator<Entry> {
  const keys = bucket.keys;
  let index = after === undefined ? 0 : inclusive ? keys.lowerBound(after) : keys.upperBound(after);
  if (prefix !== '') index = Math.max(index, keys.lowerBound(prefix));
  while (index < keys.length) {
    const key = keys.at(index)!;
    if (!key.startsWith(prefix)) break;
    const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    if (cut !== -1) {
      const common = key.slice(0, cut + delimiter.length);
      const end = keys.endOfPrefix(common, index);
      let any = false;
      for (let scan = index; scan < end && !any; scan++) any = visible(keys.at(scan)!);
      index = end;
      if (any && (after === undefined || compareKeys(common, after) > 0)) yield { prefix: common };
      continue;
    }
    index++;
    if (visible(key)) yield { key };
  }
}

function maxKeysOf(call: S3Call): number {
  const raw = call.query.get('max-keys');
  if (raw === null) return DEFAULT_MAX_KEYS;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 2147483647) {
    throw s3Errors.invalidArgument(
      'Provided max-keys not an integer or within integer range',
      'max-keys',
      raw,
    );
  }
  return Math.min(value, DEFAULT_MAX_KEYS);
}

function encoderOf(call: S3Call): (value: string) => string {
  const type = call.query.get('encoding-type');
  if (type === null) return (value) => value;
  if (type !== 'url') {
    throw s3Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', type);
  }
  return (value) => encodeURIComponent(value).replace(/%2F/g, '/');
}

function liveOf(bucket: Bucket, key: string): ObjectVersion | undefined {
  const latest = bucket.objects.get(key)?.[0];
  return latest && !latest.deleteMarker ? latest : undefined;
}

function contentsOf(
  key: string,
  version: ObjectVersion,
  encode: (value: string) => string,
  owner: boolean,
): XmlNode {
  return {
    Key: encode(key),
    LastModified: new Date(version.lastModified),
    ETag: version.etag,
    ChecksumAlgorithm: version.checksum?.algorithm,
    ChecksumType: version.checksum?.type,
    Size: version.size,
    Owner: owner ? OWNER : undefined,
    StorageClass: version.headers.storageClass,
  };
}

/** Takes up to `max` entries, and says whether more remain. */
function page(entries: Generator<Entry>, max: number): { items: Entry[]; truncated: boolean } {
  const items: Entry[] = [];
  if (max === 0) return { items, truncated: false };
  for (const entry of entries) {
    if (items.length === max) return { items, truncated: true };
    items.push(entry);
  }
  return { items, truncated: false };
}

function lastMarker(items: Entry[]): string | undefined {
  const last = items[items.length - 1];
  return last === undefined ? undefined : 'key' in last ? last.key : last.prefix;
}

export async function listObjectsV2(call: S3Call): Promise<void> {
  const { query } = call;
  const bucket = bucketOf(call);
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = maxKeysOf(call);
  const encode = encoderOf(call);
  const token = query.get('continuation-token');
  const startAfter = query.get('start-after') ?? undefined;
  const after = token !== null ? decodeToken(token) : startAfter;
  const { items, truncated } = page(
    walk(bucket, prefix, delimiter, after, (key) => liveOf(bucket, key) !== undefined),
    maxKeys,
  );
  const fetchOwner = query.get('fetch-owner') === 'true';
  sendS3Xml(call.res, 'ListBucketResult', {
    Name: bucket.name,
    Prefix: encode(prefix),
    ContinuationToken: token ?? undefined,
    NextContinuationToken: truncated ? encodeToken(lastMarker(items)!) : undefined,
    KeyCount: items.length,
    MaxKeys: maxKeys,
    Delimiter: delimiter === '' ? undefined : encode(delimiter),
    EncodingType: query.get('encoding-type') ?? undefined,
    IsTruncated: truncated,
    StartAfter: startAfter === undefined ? undefined : encode(startAfter),
    Contents: items.flatMap((item) =>
      'key' in item ? [contentsOf(item.key, liveOf(bucket, item.key)!, encode, fetchOwner)] : [],
    ),
    CommonPrefixes: items.flatMap((item) => ('prefix' in item ? [{ Prefix: encode(item.prefix) }] : [])),
  });
}

export async function listObjects(call: S3Call): Promise<void> {
  const { query } = call;
  const bucket = bucketOf(call);
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const marker = query.get('marker') ?? '';
  const maxKeys = maxKeysOf(call);
  const encode = encoderOf(call);
  const { items, truncated } = page(
    walk(
      bucket,
      prefix,
      delimiter,
      marker === '' ? undefined : marker,
      (key) => liveOf(bucket, key) !== undefined,
    ),
    maxKeys,
  );
  sendS3Xml(call.res, 'ListBucketResult', {
    Name: bucket.name,
    Prefix: encode(prefix),
    Marker: encode(marker),
    NextMarker: truncated && delimiter !== '' ? encode(lastMarker(items)!) : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter === '' ? undefined : encode(delimiter),
    EncodingType: query.get('encoding-type') ?? undefined,
    IsTruncated: truncated,
    Contents: items.flatMap((item) =>
      'key' in item ? [contentsOf(item.key, liveOf(bucket, item.key)!, encode, true)] : [],
    ),
    CommonPrefixes: items.flatMap((item) => ('prefix' in item ? [{ Prefix: encode(item.prefix) }] : [])),
  });
}

export async function listObjectVersions(call: S3Call): Promise<void> {
  const { query } = call;
  const bucket = bucketOf(call);
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  const versionIdMarker = query.get('version-id-marker') ?? '';
  if (versionIdMarker !== '' && keyMarker === '') {
    throw s3Errors.invalidArgument(
      'A version-id marker cannot be specified without a key marker.',
      'version-id-marker',
      versionIdMarker,
    );
  }
  const maxKeys = maxKeysOf(call);
  const encode = encoderOf(call);
  // Resuming inside a key: list that key again, skipping versions up to the marker.
  const resumeInside = versionIdMarker !== '';
  const after = keyMarker === '' ? undefined : keyMarker;

  let body = '';
  let count = 0;
  let truncated = false;
  let nextKey: string | undefined;
  let nextVersion: string | undefined;
  const entries = walk(bucket, prefix, delimiter, after, () => true, resumeInside);
  outer: for (const entry of entries) {
    if ('prefix' in entry) {
      if (count === maxKeys) {
        truncated = true;
        break;
      }
      body += toXml({ CommonPrefixes: { Prefix: encode(entry.prefix) } });
      count++;
      nextKey = entry.prefix;
      nextVersion = undefined;
      continue;
    }
    const versions = bucket.objects.get(entry.key) ?? [];
    let skipping = resumeInside && entry.key === keyMarker;
    for (const [index, version] of versions.entries()) {
      if (skipping) {
        if (version.versionId === versionIdMarker) skipping = false;
        continue;
      }
      if (count === maxKeys) {
        truncated = true;
        break outer;
      }
      body += versionXml(entry.key, version, index === 0, encode);
      count++;
      nextKey = entry.key;
      nextVersion = version.versionId;
    }
  }
  const head: XmlNode = {
    Name: bucket.name,
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker),
    VersionIdMarker: versionIdMarker,
    NextKeyMarker: truncated && nextKey !== undefined ? encode(nextKey) : undefined,
    NextVersionIdMarker: truncated ? nextVersion : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter === '' ? undefined : encode(delimiter),
    EncodingType: query.get('encoding-type') ?? undefined,
    IsTruncated: truncated,
  };
  sendXmlText(call.res, 'ListVersionsResult', toXml(head) + body);
}

function versionXml(
  key: string,
  version: ObjectVersion,
  isLatest: boolean,
  encode: (value: string) => string,
): string {
  if (version.deleteMarker) {
    return toXml({
      DeleteMarker: {
        Key: encode(key),
        VersionId: version.versionId,
        IsLatest: isLatest,
        LastModified: new Date(version.lastModified),
        Owner: OWNER,
      },
    });
  }
  return toXml({
    Version: {
      Key: encode(key),
      VersionId: version.versionId,
      IsLatest: isLatest,
      LastModified: new Date(version.lastModified),
      ETag: version.etag,
      ChecksumAlgorithm: version.checksum?.algorithm,
      ChecksumType: version.checksum?.type,
      Size: version.size,
      StorageClass: version.headers.storageClass,
      Owner: OWNER,
    },
  });
}
