/**
 * One S3 request as the operations see it: the parsed path-style target plus shared state.
 */
import type { ServerResponse } from 'node:http';
import type { SandboxContext } from '../../core/server.ts';
import type { SandboxRequest } from '../../core/types.ts';
import type { KmsService } from '../kms/index.ts';
import type { S3AuthorizationView, S3Request } from './authorization.ts';
import { s3Errors } from './errors.ts';
import type { KeyChoice } from './headers.ts';
import { kmsKeyResolver, managedKeyArn } from './kms-keys.ts';
import type { Bucket } from './model.ts';
import type { S3Store } from './store.ts';

export interface S3Call {
  readonly req: SandboxRequest;
  readonly res: ServerResponse;
  readonly store: S3Store;
  readonly context: SandboxContext;
  /** Empty for service-level requests (ListBuckets). */
  readonly bucketName: string;
  /** Empty for bucket-level requests. */
  readonly key: string;
  readonly query: URLSearchParams;
}

export type Operation = (call: S3Call) => Promise<void>;

const MAX_KEY_BYTES = 1024;

/** Splits a raw path-style request path into bucket and key (percent-decoded, no dot-segment folding). */
export function parseTarget(rawUrl: string): { bucketName: string; key: string } {
  const queryStart = rawUrl.indexOf('?');
  const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
  const withoutSlash = path.startsWith('/') ? path.slice(1) : path;
  const slash = withoutSlash.indexOf('/');
  const rawBucket = slash === -1 ? withoutSlash : withoutSlash.slice(0, slash);
  const rawKey = slash === -1 ? '' : withoutSlash.slice(slash + 1);
  try {
    const key = decodeURIComponent(rawKey);
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw s3Errors.keyTooLong(Buffer.byteLength(key));
    return { bucketName: decodeURIComponent(rawBucket), key };
  } catch (error) {
    if (error instanceof URIError) throw s3Errors.invalidUri();
    throw error;
  }
}

/** The call's bucket; NoSuchBucket when it does not exist. */
export function bucketOf(call: S3Call): Bucket {
  return call.store.bucket(call.bucketName);
}

/** How writes into `bucket` resolve SSE-KMS keys (through the sandbox's KMS, in the bucket's region). */
export function keysFor(call: S3Call, bucket: Bucket): KeyChoice {
  return {
    resolve: kmsKeyResolver(call.context, bucket.region),
    managedKey: managedKeyArn(call.context, bucket.region),
  };
}

/** Sends an empty response with the headers already set. */
export function sendEmpty(res: ServerResponse, status = 200): void {
  if (status === 204) res.writeHead(status);
  else res.writeHead(status, { 'content-length': '0' });
  res.end();
}

/** The request as S3's IAM mapping (authorization.ts) reads it. */
export function s3RequestOf(call: S3Call, operation: string): S3Request {
  const bucket = call.bucketName === '' ? undefined : call.store.findBucket(call.bucketName);
  return {
    operation,
    bucket: call.bucketName,
    key: call.key,
    query: call.query,
    headers: call.req.headers,
    ...(call.req.tlsVersion === undefined ? {} : { tlsVersion: call.req.tlsVersion }),
    region: bucket?.region ?? call.req.region,
  };
}

/** What S3's IAM mapping looks up: buckets, object versions, uploads, KMS keys. */
export function s3AuthorizationView(call: S3Call): S3AuthorizationView {
  const { store, context } = call;
  return {
    accountId: context.accountId,
    bucket: (name) => store.findBucket(name),
    object(bucketName, key, versionId) {
      const bucket = store.findBucket(bucketName);
      if (!bucket) return undefined;
      const version =
        versionId === undefined ? store.latest(bucket, key) : store.findVersion(bucket, key, versionId);
      return version && !version.deleteMarker
        ? { encryption: version.headers.encryption, tags: version.tags }
        : undefined;
    },
    upload: (bucketName, uploadId) => store.findBucket(bucketName)?.uploads.get(uploadId)?.headers.encryption,
    kmsKey: (region, keyId) => context.service<KmsService>('kms')?.keyFacts(region, keyId),
  };
}
