/**
 * Bucket operations: create, delete, head, list, location, versioning, default encryption.
 */
import { bucketOf, type S3Call, sendEmpty } from '../call.ts';
import { s3Errors } from '../errors.ts';
import { checkAcl } from '../headers.ts';
import { type Bucket, type Encryption, OWNER } from '../model.ts';
import { SortedKeys } from '../sorted-keys.ts';
import {
  childOf,
  listOf,
  parseXml,
  readSmallBody,
  readXmlBody,
  sendS3Xml,
  sendXmlText,
  textOf,
} from '../xml.ts';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const LEGACY_REGION = 'us-east-1';

/** S3's naming rules for new general purpose buckets. */
export function isValidBucketName(name: string): boolean {
  return (
    BUCKET_NAME.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--') &&
    !name.startsWith('sthree-') &&
    !name.endsWith('-s3alias') &&
    !name.endsWith('--ol-s3')
  );
}

export async function createBucket(call: S3Call): Promise<void> {
  const { req, res, store, bucketName } = call;
  if (!isValidBucketName(bucketName)) throw s3Errors.invalidBucketName(bucketName);
  checkAcl(req.headers, 'bucket');
  if (req.headers['x-amz-bucket-object-lock-enabled']?.toString().toLowerCase() === 'true') {
    throw s3Errors.notImplemented('S3 Object Lock');
  }
  const body = await readSmallBody(req);
  const constraint =
    body.length > 0 ? textOf(parseXml(body, 'CreateBucketConfiguration'), 'LocationConstraint') : undefined;
  const region = bucketRegion(constraint || undefined, req.region);
  const existing = store.buckets.get(bucketName);
  if (existing) {
    // S3 keeps answering 200 to re-creating your own bucket in us-east-1, for legacy compatibility.
    if (existing.region === LEGACY_REGION && region === LEGACY_REGION) {
      res.setHeader('location', `/${bucketName}`);
      sendEmpty(res);
      return;
    }
    throw s3Errors.bucketAlreadyOwnedByYou(bucketName);
  }
  store.buckets.set(bucketName, {
    name: bucketName,
    region,
    createdAt: Date.now(),
    objects: new Map(),
    keys: new SortedKeys(),
    uploads: new Map(),
  });
  res.setHeader('location', `/${bucketName}`);
  sendEmpty(res);
}

function bucketRegion(constraint: string | undefined, signingRegion: string): string {
  if (constraint === undefined) {
    if (signingRegion !== LEGACY_REGION) {
      throw s3Errors.illegalLocationConstraint(
        'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
      );
    }
    return LEGACY_REGION;
  }
  if (constraint === LEGACY_REGION || !REGION.test(constraint))
    throw s3Errors.invalidLocationConstraint(constraint);
  if (signingRegion !== LEGACY_REGION && constraint !== signingRegion) {
    throw s3Errors.illegalLocationConstraint(
      `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    );
  }
  return constraint;
}

export async function deleteBucket(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  if (bucket.objects.size > 0) throw s3Errors.bucketNotEmpty(bucket.name, bucket.versioning !== undefined);
  call.store.dropBucket(bucket);
  sendEmpty(call.res, 204);
}

export async function headBucket(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  call.res.setHeader('x-amz-bucket-region', bucket.region);
  call.res.setHeader('x-amz-access-point-alias', 'false');
  sendEmpty(call.res);
}

export async function listBuckets(call: S3Call): Promise<void> {
  const { query, store } = call;
  const prefix = query.get('prefix') ?? '';
  const region = query.get('bucket-region');
  const maxParam = query.get('max-buckets');
  const max = maxParam === null ? Number.POSITIVE_INFINITY : Number(maxParam);
  if (maxParam !== null && !(Number.isInteger(max) && max >= 1 && max <= 10000)) {
    throw s3Errors.invalidArgument(
      'Argument max-buckets must be an integer between 1 and 10000.',
      'max-buckets',
      maxParam,
    );
  }
  const after = decodeToken(query.get('continuation-token'));
  const matching = [...store.buckets.values()]
    .filter((bucket) => bucket.name.startsWith(prefix) && (region === null || bucket.region === region))
    .filter((bucket) => after === undefined || bucket.name > after)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const page = matching.slice(0, max);
  const truncated = matching.length > page.length;
  sendS3Xml(call.res, 'ListAllMyBucketsResult', {
    Owner: OWNER,
    Buckets: {
      Bucket: page.map((bucket) => ({
        Name: bucket.name,
        CreationDate: new Date(bucket.createdAt),
        BucketRegion: bucket.region,
      })),
    },
    ContinuationToken: truncated ? encodeToken(page[page.length - 1]!.name) : undefined,
    Prefix: query.has('prefix') ? prefix : undefined,
  });
}

export function encodeToken(marker: string): string {
  return Buffer.from(marker, 'utf8').toString('base64url');
}

export function decodeToken(token: string | null): string | undefined {
  if (token === null) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(token)) {
    throw s3Errors.invalidArgument(
      'The continuation token provided is incorrect',
      'continuation-token',
      token,
    );
  }
  return Buffer.from(token, 'base64url').toString('utf8');
}

export async function getBucketLocation(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  const constraint = bucket.region === LEGACY_REGION ? '' : bucket.region;
  sendXmlText(call.res, 'LocationConstraint', constraint);
}

export async function putBucketVersioning(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  const config = await readXmlBody(call.req, 'VersioningConfiguration');
  const status = textOf(config, 'Status');
  if (textOf(config, 'MfaDelete') === 'Enabled') throw s3Errors.notImplemented('MFA delete');
  if (status !== undefined) {
    if (status !== 'Enabled' && status !== 'Suspended') throw s3Errors.malformedXml();
    bucket.versioning = status;
  }
  sendEmpty(call.res);
}

export async function getBucketVersioning(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  sendS3Xml(call.res, 'VersioningConfiguration', { Status: bucket.versioning });
}

export async function putBucketEncryption(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  const config = await readXmlBody(call.req, 'ServerSideEncryptionConfiguration');
  const [rule, ...others] = listOf(config, 'Rule');
  const byDefault = rule ? childOf(rule, 'ApplyServerSideEncryptionByDefault') : undefined;
  const algorithm = textOf(byDefault, 'SSEAlgorithm');
  if (!rule || others.length > 0 || !algorithm) throw s3Errors.malformedXml();
  if (!['AES256', 'aws:kms', 'aws:kms:dsse'].includes(algorithm)) throw s3Errors.malformedXml();
  const kmsKeyId = textOf(byDefault, 'KMSMasterKeyID');
  if (kmsKeyId !== undefined && algorithm === 'AES256') {
    throw s3Errors.invalidArgument(
      'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
    );
  }
  bucket.encryption = {
    algorithm,
    ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
    ...(textOf(rule, 'BucketKeyEnabled') === 'true' ? { bucketKeyEnabled: true } : {}),
  };
  sendEmpty(call.res);
}

function defaultEncryption(bucket: Bucket): Encryption {
  return bucket.encryption ?? { algorithm: 'AES256' };
}

export async function getBucketEncryption(call: S3Call): Promise<void> {
  const encryption = defaultEncryption(bucketOf(call));
  sendS3Xml(call.res, 'ServerSideEncryptionConfiguration', {
    Rule: {
      ApplyServerSideEncryptionByDefault: {
        SSEAlgorithm: encryption.algorithm,
        KMSMasterKeyID: encryption.kmsKeyId,
      },
      BucketKeyEnabled: encryption.bucketKeyEnabled ?? false,
    },
  });
}

export async function deleteBucketEncryption(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  delete bucket.encryption;
  sendEmpty(call.res, 204);
}
