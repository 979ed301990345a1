/**
 * The sandbox's S3 (REST-XML, path-style, signing name `s3`): the subset Caretaker, the AWS SDK
 * and awscli use, faithful to S3's wire format and error codes. See docs/sandbox-s3.md.
 */
import { join } from 'node:path';
import { accessDeniedMessage } from '../../core/access/messages.ts';
import type { SandboxContext } from '../../core/server.ts';
import { AwsError, type SandboxService } from '../../core/types.ts';
import { s3AccessChecks } from './authorization.ts';
import { type Operation, parseTarget, type S3Call, s3AuthorizationView, s3RequestOf } from './call.ts';
import { s3Errors } from './errors.ts';
import * as buckets from './ops/buckets.ts';
import { deleteObject, deleteObjects } from './ops/delete.ts';
import { listObjects, listObjectsV2, listObjectVersions } from './ops/listing.ts';
import * as multipart from './ops/multipart.ts';
import { listMultipartUploads, listParts } from './ops/multipart-lists.ts';
import { getObject, headObject } from './ops/read.ts';
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from './ops/tagging.ts';
import { putObject } from './ops/write.ts';
import { S3Store } from './store.ts';

/** Query parameters that select an S3 sub-resource (an operation other than the plain one). */
const SUBRESOURCES = [
  'uploadId',
  'uploads',
  'tagging',
  'versioning',
  'versions',
  'location',
  'encryption',
  'delete',
  'acl',
  'accelerate',
  'analytics',
  'attributes',
  'cors',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'logging',
  'metadataTable',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'renameObject',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'session',
  'torrent',
  'website',
] as const;

/** An operation with the API name IAM and the denial record know it by. */
export interface NamedOperation {
  readonly name: string;
  readonly run: Operation;
}

const named = (name: string, run: Operation): NamedOperation => ({ name, run });

const BUCKET_OPERATIONS: Readonly<Record<string, NamedOperation>> = {
  'PUT ': named('CreateBucket', buckets.createBucket),
  'PUT versioning': named('PutBucketVersioning', buckets.putBucketVersioning),
  'PUT encryption': named('PutBucketEncryption', buckets.putBucketEncryption),
  'GET location': named('GetBucketLocation', buckets.getBucketLocation),
  'GET versioning': named('GetBucketVersioning', buckets.getBucketVersioning),
  'GET encryption': named('GetBucketEncryption', buckets.getBucketEncryption),
  'GET versions': named('ListObjectVersions', listObjectVersions),
  'GET uploads': named('ListMultipartUploads', listMultipartUploads),
  'HEAD ': named('HeadBucket', buckets.headBucket),
  'DELETE ': named('DeleteBucket', buckets.deleteBucket),
  'DELETE encryption': named('DeleteBucketEncryption', buckets.deleteBucketEncryption),
  'POST delete': named('DeleteObjects', deleteObjects),
};

const OBJECT_OPERATIONS: Readonly<Record<string, NamedOperation>> = {
  'PUT ': named('PutObject', putObject),
  'PUT tagging': named('PutObjectTagging', putObjectTagging),
  'PUT uploadId': named('UploadPart', multipart.uploadPart),
  'GET ': named('GetObject', getObject),
  'GET tagging': named('GetObjectTagging', getObjectTagging),
  'GET uploadId': named('ListParts', listParts),
  'HEAD ': named('HeadObject', headObject),
  'DELETE ': named('DeleteObject', deleteObject),
  'DELETE tagging': named('DeleteObjectTagging', deleteObjectTagging),
  'DELETE uploadId': named('AbortMultipartUpload', multipart.abortMultipartUpload),
  'POST uploads': named('CreateMultipartUpload', multipart.createMultipartUpload),
  'POST uploadId': named('CompleteMultipartUpload', multipart.completeMultipartUpload),
};

/** Picks the operation for a request from its method, target level and sub-resource. */
export function operationFor(call: S3Call): NamedOperation {
  const method = call.req.method;
  if (call.bucketName === '') {
    if (method === 'GET') return named('ListBuckets', buckets.listBuckets);
    throw s3Errors.methodNotAllowed(method, 'SERVICE');
  }
  const subresource = SUBRESOURCES.find((name) => call.query.has(name)) ?? '';
  if (call.key === '' && method === 'GET' && subresource === '') {
    return call.query.get('list-type') === '2'
      ? named('ListObjectsV2', listObjectsV2)
      : named('ListObjects', listObjects);
  }
  const table = call.key === '' ? BUCKET_OPERATIONS : OBJECT_OPERATIONS;
  const operation = table[`${method} ${subresource}`];
  if (operation) return operation;
  const level = call.key === '' ? 'bucket' : 'object';
  throw s3Errors.notImplemented(`${method} on a ${level}${subresource ? ` with ?${subresource}` : ''}`);
}

/** Creates the S3 service; object bodies live under `<dataDir>/s3`. */
export function s3Service(context: SandboxContext): SandboxService {
  const store = new S3Store(join(context.dataDir, 's3'));
  store.open();
  return {
    signingName: 's3',
    protocol: 'rest-xml',
    accessDenied: (denial) =>
      new AwsError('AccessDenied', accessDeniedMessage(denial, { quoteResource: true }), 403),
    async handle(req, res) {
      const { bucketName, key } = parseTarget(req.raw.url ?? '/');
      const call: S3Call = { req, res, store, context, bucketName, key, query: req.url.searchParams };
      const operation = operationFor(call);
      const checks = s3AccessChecks(s3RequestOf(call, operation.name), s3AuthorizationView(call));
      if (checks) req.authorize(checks, operation.name);
      await operation.run(call);
    },
    async close() {
      await store.save();
    },
  };
}
