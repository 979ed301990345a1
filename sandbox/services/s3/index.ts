/**
 * The sandbox's S3 (REST-XML, path-style, signing name `s3`): the subset Caretaker, the AWS SDK
 * and awscli use, faithful to S3's wire format and error codes. See docs/sandbox-s3.md.
 */
import { join } from 'node:path';
import type { SandboxContext } from '../../core/server.ts';
import type { SandboxService } from '../../core/types.ts';
import { type Operation, parseTarget, type S3Call } from './call.ts';
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

const BUCKET_OPERATIONS: Readonly<Record<string, Operation>> = {
  'PUT ': buckets.createBucket,
  'PUT versioning': buckets.putBucketVersioning,
  'PUT encryption': buckets.putBucketEncryption,
  'GET location': buckets.getBucketLocation,
  'GET versioning': buckets.getBucketVersioning,
  'GET encryption': buckets.getBucketEncryption,
  'GET versions': listObjectVersions,
  'GET uploads': listMultipartUploads,
  'HEAD ': buckets.headBucket,
  'DELETE ': buckets.deleteBucket,
  'DELETE encryption': buckets.deleteBucketEncryption,
  'POST delete': deleteObjects,
};

const OBJECT_OPERATIONS: Readonly<Record<string, Operation>> = {
  'PUT ': putObject,
  'PUT tagging': putObjectTagging,
  'PUT uploadId': multipart.uploadPart,
  'GET ': getObject,
  'GET tagging': getObjectTagging,
  'GET uploadId': listParts,
  'HEAD ': headObject,
  'DELETE ': deleteObject,
  'DELETE tagging': deleteObjectTagging,
  'DELETE uploadId': multipart.abortMultipartUpload,
  'POST uploads': multipart.createMultipartUpload,
  'POST uploadId': multipart.completeMultipartUpload,
};

/** Picks the operation for a request from its method, target level and sub-resource. */
export function operationFor(call: S3Call): Operation {
  const method = call.req.method;
  if (call.bucketName === '') {
    if (method === 'GET') return buckets.listBuckets;
    throw s3Errors.methodNotAllowed(method, 'SERVICE');
  }
  const subresource = SUBRESOURCES.find((name) => call.query.has(name)) ?? '';
  if (call.key === '' && method === 'GET' && subresource === '') {
    return call.query.get('list-type') === '2' ? listObjectsV2 : listObjects;
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
    async handle(req, res) {
      const { bucketName, key } = parseTarget(req.raw.url ?? '/');
      const call: S3Call = { req, res, store, context, bucketName, key, query: req.url.searchParams };
      await operationFor(call)(call);
    },
    async close() {
      await store.save();
    },
  };
}
