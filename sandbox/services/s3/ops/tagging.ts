/**
 * Object tagging: GetObjectTagging, PutObjectTagging, DeleteObjectTagging (per version).
 */
import { putTaggingChecks } from '../authorization.ts';
import { bucketOf, type S3Call, s3AuthorizationView, s3RequestOf, sendEmpty } from '../call.ts';
import { s3Errors } from '../errors.ts';
import { validateTags } from '../headers.ts';
import type { ObjectVersion, Tag } from '../model.ts';
import { childOf, listOf, readXmlBody, sendS3Xml, textOf } from '../xml.ts';
import { versionToRead } from './read.ts';

function taggedVersion(call: S3Call): ObjectVersion {
  const bucket = bucketOf(call);
  const version = versionToRead(
    call.store,
    bucket,
    call.key,
    call.query.get('versionId'),
    call.res,
    call.req.method,
  );
  if (bucket.versioning !== undefined) call.res.setHeader('x-amz-version-id', version.versionId);
  return version;
}

export async function getObjectTagging(call: S3Call): Promise<void> {
  const version = taggedVersion(call);
  sendS3Xml(call.res, 'Tagging', { TagSet: { Tag: version.tags.map((tag) => ({ ...tag })) } });
}

export async function putObjectTagging(call: S3Call): Promise<void> {
  const version = taggedVersion(call);
  const tagging = await readXmlBody(call.req, 'Tagging');
  const tagSet = childOf(tagging, 'TagSet');
  if (!tagSet) throw s3Errors.malformedXml();
  const tags: Tag[] = listOf(tagSet, 'Tag').map((tag) => {
    const key = textOf(tag, 'Key');
    if (key === undefined) throw s3Errors.malformedXml();
    return { Key: key, Value: textOf(tag, 'Value') ?? '' };
  });
  // Authorized once the body is read: s3:RequestObjectTag/… come from it.
  const request = s3RequestOf(call, 'PutObjectTagging');
  call.req.authorize(putTaggingChecks(request, s3AuthorizationView(call), tags), 'PutObjectTagging');
  version.tags = validateTags(tags);
  sendEmpty(call.res);
}

export async function deleteObjectTagging(call: S3Call): Promise<void> {
  const version = taggedVersion(call);
  version.tags = [];
  sendEmpty(call.res, 204);
}
