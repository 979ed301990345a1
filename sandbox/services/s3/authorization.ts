/**
 * What each S3 operation the sandbox serves needs from IAM ("Actions, resources, and condition
 * keys for Amazon S3", its API-operation table, and the S3 User Guide's permission pages):
 *
 * - The action on the bucket ARN or the object ARN; the bucket policy governs both.
 * - Operations that need more than their own action: HeadObject is s3:GetObject; ListObjects(V2)
 *   is s3:ListBucket with s3:prefix, s3:delimiter and s3:max-keys; a request naming a versionId
 *   uses the …Version action (s3:GetObjectVersion, s3:DeleteObjectVersion, …); PutObject and
 *   CreateMultipartUpload with x-amz-tagging also need s3:PutObjectTagging (x-amz-acl,
 *   s3:PutObjectAcl); CopyObject needs s3:GetObject on the source, and copying the source's tags
 *   s3:GetObjectTagging on it and s3:PutObjectTagging on the copy.
 * - A read of a key that does not exist answers 404 only with s3:ListBucket on the bucket, 403
 *   otherwise ("If you don't have the s3:ListBucket permission, Amazon S3 returns 403"), decided
 *   with the key as s3:prefix, so a prefix-conditioned grant that covers the key is enough.
 * - SSE-KMS with a customer key: the caller's own kms:GenerateDataKey to write (CreateMultipart-
 *   Upload too), kms:Decrypt to read (GetObject, UploadPart, a copy's source), through
 *   s3.<region>.amazonaws.com, with the object's ARN (the bucket's with an S3 Bucket Key) as the
 *   kms:EncryptionContext:aws:s3:arn. The AWS managed key aws/s3 needs nothing more.
 * - Condition keys from the request: s3:TlsVersion, s3:authType, s3:signatureversion,
 *   s3:x-amz-content-sha256, s3:x-amz-server-side-encryption(-aws-kms-key-id), s3:x-amz-acl,
 *   s3:x-amz-storage-class, s3:RequestObjectTag/<key>, s3:RequestObjectTagKeys,
 *   s3:ExistingObjectTag/<key> (not for PutObject or DeleteObject), s3:VersionId,
 *   s3:x-amz-copy-source, s3:x-amz-metadata-directive.
 *
 * PutObjectTagging (its tags are in the body) and DeleteObjects (one decision per key) authorize
 * inside the operation, with {@link putTaggingChecks} and {@link deleteChecks}.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type AccessCheck, type CheckedResource, check, tagKeys } from '../../core/access/checks.ts';
import type { ContextInput } from '../../iam/index.ts';
import { type KmsKeyFacts, kmsOnBehalf } from '../kms/authorization.ts';
import type { Encryption, Tag } from './model.ts';

/** Lookups S3 makes for IAM. */
export interface S3AuthorizationView {
  readonly accountId: string;
  /** The bucket's region and default encryption, when the bucket exists. */
  bucket(name: string): { readonly region: string; readonly encryption?: Encryption } | undefined;
  /** The version a read of the key returns (the latest unless `versionId`); none for a delete marker. */
  object(
    bucket: string,
    key: string,
    versionId?: string,
  ): { readonly encryption: Encryption; readonly tags: readonly Tag[] } | undefined;
  /** A multipart upload's encryption. */
  upload(bucket: string, uploadId: string): Encryption | undefined;
  /** The KMS key an SSE-KMS key id names (a customer key; none for aws/s3). */
  kmsKey(region: string, keyId: string): KmsKeyFacts | undefined;
}

/** The request, as S3's IAM mapping reads it. */
export interface S3Request {
  readonly operation: string;
  readonly bucket: string;
  readonly key: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly tlsVersion?: string;
  /** The region the bucket is in, or the request's. */
  readonly region: string;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

function bucketResource(bucket: string): CheckedResource {
  return { arn: bucketArn(bucket) };
}

function objectResource(bucket: string, key: string, tags?: readonly Tag[]): CheckedResource {
  return {
    arn: objectArn(bucket, key),
    policyOf: bucketArn(bucket),
    ...(tags === undefined
      ? {}
      : {
          context: tagKeys(
            's3:ExistingObjectTag/',
            tags.map((t) => [t.Key, t.Value]),
          ),
        }),
  };
}

/** Condition keys every S3 request supplies. */
function requestContext(request: S3Request, accountId?: string): ContextInput {
  const presigned = request.query.has('X-Amz-Credential');
  return {
    's3:TlsVersion':
      request.tlsVersion === undefined ? undefined : Number(request.tlsVersion.replace(/^TLSv/, '')),
    's3:authType': presigned ? 'REST-QUERY-STRING' : 'REST-HEADER',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
    's3:x-amz-content-sha256': header(request.headers, 'x-amz-content-sha256'),
    's3:ResourceAccount': accountId,
  };
}

/** The action on one resource, with the request's keys and these. */
function on(
  action: string,
  resource: CheckedResource,
  request: S3Request,
  context: ContextInput = {},
): AccessCheck {
  return { action, resources: [resource], context: { ...requestContext(request), ...context } };
}

/** Plain or …Version, as S3 picks by whether the request names a version. */
function versioned(action: string, versionId: string | null | undefined): string {
  if (versionId === null || versionId === undefined) return action;
  return action.replace(/^s3:(Get|Put|Delete)Object/, 's3:$1ObjectVersion');
}

/** kms:… on the SSE-KMS key S3 uses for this object, for the caller, through S3. */
function kmsFor(
  action: 'kms:GenerateDataKey' | 'kms:Decrypt',
  encryption: Encryption | undefined,
  bucket: string,
  key: string,
  region: string,
  view: S3AuthorizationView,
): AccessCheck[] {
  if (!encryption?.kmsKeyId || !encryption.algorithm.startsWith('aws:kms')) return [];
  const facts = view.kmsKey(region, encryption.kmsKeyId);
  if (!facts) return [];
  let userContext: Record<string, string> = {};
  if (encryption.context) {
    try {
      userContext = JSON.parse(Buffer.from(encryption.context, 'base64').toString('utf8')) as Record<
        string,
        string
      >;
    } catch {
      userContext = {};
    }
  }
  const s3Arn = encryption.bucketKeyEnabled ? bucketArn(bucket) : objectArn(bucket, key);
  return [
    kmsOnBehalf(
      action,
      facts,
      { service: 's3', region, accountId: view.accountId },
      { ...userContext, 'aws:s3:arn': s3Arn },
    ),
  ];
}

/** The encryption a write gets: its headers, else the bucket's default. */
function writeEncryption(request: S3Request, view: S3AuthorizationView): Encryption | undefined {
  const algorithm = header(request.headers, 'x-amz-server-side-encryption');
  if (algorithm === undefined) return view.bucket(request.bucket)?.encryption;
  const defaults = view.bucket(request.bucket)?.encryption;
  const kmsKeyId =
    header(request.headers, 'x-amz-server-side-encryption-aws-kms-key-id') ?? defaults?.kmsKeyId;
  const bucketKey = header(request.headers, 'x-amz-server-side-encryption-bucket-key-enabled');
  const context = header(request.headers, 'x-amz-server-side-encryption-context');
  return {
    algorithm,
    ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
    ...(context === undefined ? {} : { context }),
    bucketKeyEnabled:
      bucketKey === undefined ? defaults?.bucketKeyEnabled === true : bucketKey.toLowerCase() === 'true',
  };
}

/** What a new object's write sets: SSE, ACL, storage class and tags. */
function writeContext(request: S3Request, tags: readonly Tag[]): ContextInput {
  const h = (name: string) => header(request.headers, name);
  return {
    's3:x-amz-server-side-encryption': h('x-amz-server-side-encryption'),
    's3:x-amz-server-side-encryption-aws-kms-key-id': h('x-amz-server-side-encryption-aws-kms-key-id'),
    's3:x-amz-acl': h('x-amz-acl'),
    's3:x-amz-storage-class': h('x-amz-storage-class'),
    ...requestTagContext(tags),
  };
}

/** s3:RequestObjectTag/<key> and the multivalued s3:RequestObjectTagKeys. */
export function requestTagContext(tags: readonly Tag[]): ContextInput {
  if (tags.length === 0) return {};
  return {
    ...tagKeys(
      's3:RequestObjectTag/',
      tags.map((tag) => [tag.Key, tag.Value]),
    ),
    's3:RequestObjectTagKeys': tags.map((tag) => tag.Key),
  };
}

function headerTags(request: S3Request): Tag[] {
  const value = header(request.headers, 'x-amz-tagging');
  if (!value) return [];
  return [...new URLSearchParams(value)].map(([Key, Value]) => ({ Key, Value }));
}

/** A new object's write (PutObject, CreateMultipartUpload, CopyObject's target). */
function writeChecks(
  request: S3Request,
  view: S3AuthorizationView,
  extra: ContextInput = {},
  copiedTags?: readonly Tag[],
) {
  const tags = copiedTags ?? headerTags(request);
  const target = objectResource(request.bucket, request.key);
  const context = writeContext(request, tags);
  return [
    on('s3:PutObject', target, request, { ...context, ...extra }),
    ...(tags.length > 0 ? [on('s3:PutObjectTagging', target, request, context)] : []),
    ...(header(request.headers, 'x-amz-acl') ? [on('s3:PutObjectAcl', target, request, context)] : []),
    ...kmsFor(
      'kms:GenerateDataKey',
      writeEncryption(request, view),
      request.bucket,
      request.key,
      request.region,
      view,
    ),
  ];
}

/** The copy source `bucket/key?versionId=…` of CopyObject and UploadPartCopy. */
function copySource(value: string): { bucket: string; key: string; versionId?: string } | undefined {
  const [path = '', query = ''] = value.split('?', 2);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path).replace(/^\//, '');
  } catch {
    return undefined;
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0) return undefined;
  const versionId = new URLSearchParams(query).get('versionId') ?? undefined;
  return {
    bucket: decoded.slice(0, slash),
    key: decoded.slice(slash + 1),
    ...(versionId ? { versionId } : {}),
  };
}

/** Reading a copy's source: s3:GetObject(Version), its tags when they are copied, its KMS key. */
function sourceChecks(request: S3Request, view: S3AuthorizationView, copiesTags: boolean) {
  const source = copySource(header(request.headers, 'x-amz-copy-source') ?? '');
  if (!source) return { checks: [], tags: [] as readonly Tag[] };
  const found = view.object(source.bucket, source.key, source.versionId);
  const resource = objectResource(source.bucket, source.key, found?.tags ?? []);
  const sourceRegion = view.bucket(source.bucket)?.region ?? request.region;
  const tags = copiesTags ? (found?.tags ?? []) : [];
  const checks = [
    on(
      versioned('s3:GetObject', source.versionId),
      resource,
      request,
      source.versionId ? { 's3:VersionId': source.versionId } : {},
    ),
    ...(tags.length > 0 ? [on(versioned('s3:GetObjectTagging', source.versionId), resource, request)] : []),
    ...kmsFor('kms:Decrypt', found?.encryption, source.bucket, source.key, sourceRegion, view),
  ];
  return { checks, tags };
}

function copyChecks(request: S3Request, view: S3AuthorizationView): AccessCheck[] {
  const directive = header(request.headers, 'x-amz-tagging-directive') ?? 'COPY';
  const source = sourceChecks(request, view, directive === 'COPY');
  const extra = {
    's3:x-amz-copy-source': header(request.headers, 'x-amz-copy-source'),
    's3:x-amz-metadata-directive': header(request.headers, 'x-amz-metadata-directive') ?? 'COPY',
  };
  return [
    ...writeChecks(request, view, extra, directive === 'COPY' ? source.tags : undefined),
    ...source.checks,
  ];
}

/** A read of an object (GetObject, HeadObject, its tagging): 403 rather than 404 without ListBucket. */
function readChecks(action: string, request: S3Request, view: S3AuthorizationView, decrypts: boolean) {
  const versionId = request.query.get('versionId');
  const found = view.object(request.bucket, request.key, versionId ?? undefined);
  const resource = objectResource(request.bucket, request.key, found?.tags ?? []);
  const checks = [
    on(versioned(action, versionId), resource, request, versionId ? { 's3:VersionId': versionId } : {}),
  ];
  // S3 decides 404 or 403 as a listing of the key itself: s3:prefix is the key, so a grant of
  // s3:ListBucket conditioned on a prefix that covers the key is enough.
  if (!found)
    checks.push(on('s3:ListBucket', bucketResource(request.bucket), request, { 's3:prefix': request.key }));
  if (decrypts)
    checks.push(
      ...kmsFor('kms:Decrypt', found?.encryption, request.bucket, request.key, request.region, view),
    );
  return checks;
}

function listChecks(action: string, request: S3Request): AccessCheck[] {
  const q = request.query;
  const maxKeys = q.get('max-keys') ?? q.get('max-uploads');
  return [
    on(action, bucketResource(request.bucket), request, {
      's3:prefix': q.get('prefix') ?? undefined,
      's3:delimiter': q.get('delimiter') ?? undefined,
      's3:max-keys': maxKeys === null ? undefined : Number(maxKeys),
    }),
  ];
}

const BUCKET_ACTIONS: Readonly<Record<string, string>> = {
  CreateBucket: 's3:CreateBucket',
  DeleteBucket: 's3:DeleteBucket',
  HeadBucket: 's3:ListBucket',
  GetBucketLocation: 's3:GetBucketLocation',
  GetBucketVersioning: 's3:GetBucketVersioning',
  PutBucketVersioning: 's3:PutBucketVersioning',
  GetBucketEncryption: 's3:GetEncryptionConfiguration',
  PutBucketEncryption: 's3:PutEncryptionConfiguration',
  DeleteBucketEncryption: 's3:PutEncryptionConfiguration',
};

/**
 * The IAM checks of one S3 operation, or undefined for the operations that authorize themselves
 * once they have read their body (PutObjectTagging, DeleteObjects).
 */
export function s3AccessChecks(request: S3Request, view: S3AuthorizationView): AccessCheck[] | undefined {
  const { operation } = request;
  const bucketAction = BUCKET_ACTIONS[operation];
  if (bucketAction)
    return [
      on(bucketAction, bucketResource(request.bucket), request, {
        's3:x-amz-acl': header(request.headers, 'x-amz-acl'),
      }),
    ];
  const object = () => objectResource(request.bucket, request.key);
  const uploadEncryption = () => view.upload(request.bucket, request.query.get('uploadId') ?? '');
  switch (operation) {
    case 'ListBuckets':
      return [check('s3:ListAllMyBuckets', '*', requestContext(request))];
    case 'ListObjects':
    case 'ListObjectsV2':
      return listChecks('s3:ListBucket', request);
    case 'ListObjectVersions':
      return listChecks('s3:ListBucketVersions', request);
    case 'ListMultipartUploads':
      return listChecks('s3:ListBucketMultipartUploads', request);
    case 'GetObject':
      return readChecks('s3:GetObject', request, view, true);
    case 'HeadObject':
      return readChecks('s3:GetObject', request, view, false);
    case 'GetObjectTagging':
      return readChecks('s3:GetObjectTagging', request, view, false);
    case 'DeleteObjectTagging': {
      const versionId = request.query.get('versionId');
      const found = view.object(request.bucket, request.key, versionId ?? undefined);
      return [
        on(
          versioned('s3:DeleteObjectTagging', versionId),
          objectResource(request.bucket, request.key, found?.tags ?? []),
          request,
        ),
      ];
    }
    case 'PutObject':
      return header(request.headers, 'x-amz-copy-source') === undefined
        ? writeChecks(request, view)
        : copyChecks(request, view);
    case 'CreateMultipartUpload':
      return writeChecks(request, view);
    case 'UploadPart': {
      const copy = header(request.headers, 'x-amz-copy-source') !== undefined;
      return [
        on('s3:PutObject', object(), request),
        ...kmsFor('kms:Decrypt', uploadEncryption(), request.bucket, request.key, request.region, view),
        ...(copy ? sourceChecks(request, view, false).checks : []),
      ];
    }
    case 'CompleteMultipartUpload':
      return [on('s3:PutObject', object(), request)];
    case 'AbortMultipartUpload':
      return [on('s3:AbortMultipartUpload', object(), request)];
    case 'ListParts':
      return [on('s3:ListMultipartUploadParts', object(), request)];
    case 'DeleteObject':
      return deleteChecks(request, request.key, request.query.get('versionId') ?? undefined);
    case 'PutObjectTagging':
    case 'DeleteObjects':
      return undefined;
    default:
      throw new Error(`No IAM mapping for the S3 operation ${operation}`);
  }
}

/**
 * DeleteObject, and each key of DeleteObjects: s3:DeleteObject, or s3:DeleteObjectVersion; a
 * conditional delete on an ETag (If-Match, or a DeleteObjects entry's ETag) also needs
 * s3:GetObject, as S3 documents; `x-amz-bypass-governance-retention: true` needs
 * s3:BypassGovernanceRetention.
 */
export function deleteChecks(
  request: S3Request,
  key: string,
  versionId: string | undefined,
  ifMatch: string | undefined = header(request.headers, 'if-match'),
): AccessCheck[] {
  const resource = objectResource(request.bucket, key);
  const bypass = header(request.headers, 'x-amz-bypass-governance-retention')?.toLowerCase() === 'true';
  return [
    on(
      versioned('s3:DeleteObject', versionId),
      resource,
      request,
      versionId ? { 's3:VersionId': versionId } : {},
    ),
    ...(ifMatch !== undefined && ifMatch.trim() !== '*' ? [on('s3:GetObject', resource, request)] : []),
    ...(bypass ? [on('s3:BypassGovernanceRetention', resource, request)] : []),
  ];
}

/** PutObjectTagging once its body is read: the tags it sets and the ones the object has. */
export function putTaggingChecks(
  request: S3Request,
  view: S3AuthorizationView,
  tags: readonly Tag[],
): AccessCheck[] {
  const versionId = request.query.get('versionId');
  const found = view.object(request.bucket, request.key, versionId ?? undefined);
  return [
    on(
      versioned('s3:PutObjectTagging', versionId),
      objectResource(request.bucket, request.key, found?.tags ?? []),
      request,
      requestTagContext(tags),
    ),
  ];
}
