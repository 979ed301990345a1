/**
 * ListParts and ListMultipartUploads, with their markers and limits.
 */
import { bucketOf, type S3Call } from '../call.ts';
import { checksumMember } from '../checksums.ts';
import { s3Errors } from '../errors.ts';
import { OWNER, type Upload } from '../model.ts';
import { compareKeys } from '../sorted-keys.ts';
import { sendS3Xml } from '../xml.ts';

const DEFAULT_LIMIT = 1000;

function limitOf(call: S3Call, name: string): number {
  const raw = call.query.get(name);
  if (raw === null) return DEFAULT_LIMIT;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 2147483647) {
    throw s3Errors.invalidArgument(`Argument ${name} must be an integer between 0 and 2147483647`, name, raw);
  }
  return Math.min(value, DEFAULT_LIMIT);
}

export async function listParts(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  const uploadId = call.query.get('uploadId') ?? '';
  const upload = bucket.uploads.get(uploadId);
  if (!upload || upload.key !== call.key) throw s3Errors.noSuchUpload(uploadId);
  const maxParts = limitOf(call, 'max-parts');
  const markerRaw = call.query.get('part-number-marker') ?? '0';
  if (!/^\d+$/.test(markerRaw)) {
    throw s3Errors.invalidArgument(
      'Argument partNumberMarker must be an integer.',
      'part-number-marker',
      markerRaw,
    );
  }
  const marker = Number(markerRaw);
  const parts = [...upload.parts.values()]
    .filter((part) => part.partNumber > marker)
    .sort((a, b) => a.partNumber - b.partNumber);
  const page = parts.slice(0, maxParts);
  const truncated = parts.length > page.length;
  sendS3Xml(call.res, 'ListPartsResult', {
    Bucket: bucket.name,
    Key: upload.key,
    UploadId: upload.uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length > 0 ? page[page.length - 1]!.partNumber : undefined,
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map((part) => ({
      PartNumber: part.partNumber,
      LastModified: new Date(part.lastModified),
      ETag: part.etag,
      Size: part.size,
      ...(part.checksum ? { [checksumMember(part.checksum.algorithm)]: part.checksum.value } : {}),
    })),
    Initiator: OWNER,
    Owner: OWNER,
    StorageClass: upload.headers.storageClass,
    ChecksumAlgorithm: upload.checksumAlgorithm,
    ChecksumType: upload.checksumType,
  });
}

function compareUploads(a: Upload, b: Upload): number {
  return compareKeys(a.key, b.key) || a.initiated - b.initiated || (a.uploadId < b.uploadId ? -1 : 1);
}

export async function listMultipartUploads(call: S3Call): Promise<void> {
  const { query } = call;
  const bucket = bucketOf(call);
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  const uploadIdMarker = query.get('upload-id-marker') ?? '';
  const maxUploads = limitOf(call, 'max-uploads');
  const encodingType = query.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url') {
    throw s3Errors.invalidArgument(
      'Invalid Encoding Method specified in Request',
      'encoding-type',
      encodingType,
    );
  }
  const encode =
    encodingType === 'url'
      ? (value: string) => encodeURIComponent(value).replace(/%2F/g, '/')
      : (value: string) => value;
  const all = [...bucket.uploads.values()]
    .filter((upload) => upload.key.startsWith(prefix))
    .sort(compareUploads);
  const markerUpload = uploadIdMarker === '' ? undefined : bucket.uploads.get(uploadIdMarker);
  const remaining = all.filter((upload) => {
    if (keyMarker === '') return true;
    const order = compareKeys(upload.key, keyMarker);
    if (order !== 0) return order > 0;
    return markerUpload !== undefined && compareUploads(upload, markerUpload) > 0;
  });

  const uploads: Upload[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let lastKey: string | undefined;
  let lastUploadId: string | undefined;
  for (const upload of remaining) {
    const cut = delimiter === '' ? -1 : upload.key.indexOf(delimiter, prefix.length);
    const common = cut === -1 ? undefined : upload.key.slice(0, cut + delimiter.length);
    if (common !== undefined && prefixes[prefixes.length - 1] === common) continue;
    // A common prefix returned on an earlier page (it was that page's key marker) is not repeated.
    if (common !== undefined && keyMarker !== '' && compareKeys(common, keyMarker) <= 0) continue;
    if (uploads.length + prefixes.length === maxUploads) {
      truncated = true;
      break;
    }
    if (common !== undefined) {
      prefixes.push(common);
      lastKey = common;
      lastUploadId = undefined;
    } else {
      uploads.push(upload);
      lastKey = upload.key;
      lastUploadId = upload.uploadId;
    }
  }
  sendS3Xml(call.res, 'ListMultipartUploadsResult', {
    Bucket: bucket.name,
    KeyMarker: encode(keyMarker),
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker: truncated && lastKey !== undefined ? encode(lastKey) : undefined,
    NextUploadIdMarker: truncated ? lastUploadId : undefined,
    Delimiter: delimiter === '' ? undefined : encode(delimiter),
    Prefix: encode(prefix),
    EncodingType: encodingType ?? undefined,
    MaxUploads: maxUploads,
    IsTruncated: truncated,
    Upload: uploads.map((upload) => ({
      Key: encode(upload.key),
      UploadId: upload.uploadId,
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: upload.headers.storageClass,
      Initiated: new Date(upload.initiated),
      ChecksumAlgorithm: upload.checksumAlgorithm,
      ChecksumType: upload.checksumType,
    })),
    CommonPrefixes: prefixes.map((value) => ({ Prefix: encode(value) })),
  });
}
