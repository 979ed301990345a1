/**
 * DeleteObject and DeleteObjects, with S3's versioning semantics: without a version id a
 * versioned bucket gets a delete marker; with one, that version is removed for good. Conditional
 * deletes: DeleteObject's If-Match and a DeleteObjects entry's ETag (`*`: the key must exist).
 */
import type { XmlNode } from '../../../core/responses.ts';
import { AwsError } from '../../../core/types.ts';
import { deleteChecks } from '../authorization.ts';
import { bucketOf, type S3Call, s3RequestOf, sendEmpty } from '../call.ts';
import { evaluateDeleteCondition } from '../conditions.ts';
import { s3Errors } from '../errors.ts';
import { headerValue } from '../headers.ts';
import type { Bucket, ObjectVersion } from '../model.ts';
import { newVersionId, type S3Store, VERSION_ID } from '../store.ts';
import { listOf, readXmlBody, sendS3Xml, textOf } from '../xml.ts';

const MAX_KEYS_PER_DELETE = 1000;

interface DeleteOutcome {
  /** Set when the delete wrote a delete marker, or removed one. */
  readonly deleteMarker: boolean;
  readonly versionId?: string;
}

function deleteMarker(versionId: string): ObjectVersion {
  return {
    versionId,
    deleteMarker: true,
    lastModified: Date.now(),
    size: 0,
    etag: '',
    segments: [],
    multipart: false,
    headers: { metadata: {}, storageClass: 'STANDARD', encryption: { algorithm: 'AES256' } },
    tags: [],
  };
}

/** Deletes one key or version; deleting what does not exist succeeds, as in S3. */
export function deleteOne(
  store: S3Store,
  bucket: Bucket,
  key: string,
  versionId: string | undefined,
): DeleteOutcome {
  if (versionId !== undefined) {
    if (!VERSION_ID.test(versionId))
      throw s3Errors.invalidArgument('Invalid version id specified', 'versionId', versionId);
    const removed = store.removeVersion(bucket, key, versionId);
    return { deleteMarker: removed?.deleteMarker ?? false, versionId };
  }
  if (bucket.versioning === undefined) {
    store.removeVersion(bucket, key, 'null');
    return { deleteMarker: false };
  }
  const marker = deleteMarker(bucket.versioning === 'Enabled' ? newVersionId() : 'null');
  store.addVersion(bucket, key, marker);
  return { deleteMarker: true, versionId: marker.versionId };
}

/** The key's live version (undefined when absent or a delete marker). */
function live(store: S3Store, bucket: Bucket, key: string): ObjectVersion | undefined {
  const latest = store.latest(bucket, key);
  return latest && !latest.deleteMarker ? latest : undefined;
}

export async function deleteObject(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  evaluateDeleteCondition(
    headerValue(call.req.headers, 'if-match'),
    call.key,
    live(call.store, bucket, call.key),
  );
  const outcome = deleteOne(call.store, bucket, call.key, call.query.get('versionId') ?? undefined);
  if (outcome.deleteMarker) call.res.setHeader('x-amz-delete-marker', 'true');
  if (outcome.versionId !== undefined) call.res.setHeader('x-amz-version-id', outcome.versionId);
  sendEmpty(call.res, 204);
}

export async function deleteObjects(call: S3Call): Promise<void> {
  const bucket = bucketOf(call);
  const hasChecksum = Object.keys(call.req.headers).some(
    (name) => name.startsWith('x-amz-checksum-') || name === 'x-amz-trailer',
  );
  if (headerValue(call.req.headers, 'content-md5') === undefined && !hasChecksum) {
    throw s3Errors.invalidRequest('Missing required header for this request: Content-MD5');
  }
  const request = await readXmlBody(call.req, 'Delete');
  const objects = listOf(request, 'Object');
  if (objects.length === 0 || objects.length > MAX_KEYS_PER_DELETE) throw s3Errors.malformedXml();
  const quiet = textOf(request, 'Quiet')?.trim().toLowerCase() === 'true';
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  const iamRequest = s3RequestOf(call, 'DeleteObjects');
  for (const object of objects) {
    const key = textOf(object, 'Key');
    if (key === undefined) throw s3Errors.malformedXml();
    const versionId = textOf(object, 'VersionId');
    const etag = textOf(object, 'ETag');
    try {
      // IAM decides each key (s3:DeleteObject or s3:DeleteObjectVersion); a refused key is an
      // AccessDenied entry in the answer, as S3 reports it, and the others are deleted.
      call.req.authorize(deleteChecks(iamRequest, key, versionId, etag), 'DeleteObjects');
      if (versionId === undefined) evaluateDeleteCondition(etag, key, live(call.store, bucket, key));
      const outcome = deleteOne(call.store, bucket, key, versionId);
      if (quiet) continue;
      deleted.push({
        Key: key,
        VersionId: versionId,
        DeleteMarker: outcome.deleteMarker ? true : undefined,
        DeleteMarkerVersionId: outcome.deleteMarker ? outcome.versionId : undefined,
      });
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      errors.push({ Key: key, VersionId: versionId, Code: error.code, Message: error.message });
    }
  }
  sendS3Xml(call.res, 'DeleteResult', { Deleted: deleted, Error: errors });
}
