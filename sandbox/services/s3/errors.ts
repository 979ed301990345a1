/**
 * S3 errors with the codes, statuses, messages and extra fields S3 itself answers with.
 */
import { AwsError } from '../../core/types.ts';

type Fields = Record<string, string>;

function error(code: string, message: string, status = 400, fields: Fields = {}): AwsError {
  return new AwsError(code, message, status, fields);
}

export const s3Errors = {
  noSuchBucket: (bucket: string) =>
    error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket }),
  noSuchKey: (key: string) => error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key }),
  noSuchVersion: (key: string, versionId: string) =>
    error('NoSuchVersion', 'The specified version does not exist.', 404, { Key: key, VersionId: versionId }),
  noSuchUpload: (uploadId: string) =>
    error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      404,
      { UploadId: uploadId },
    ),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    error(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      409,
      { BucketName: bucket },
    ),
  bucketNotEmpty: (bucket: string, versioned: boolean) =>
    error(
      'BucketNotEmpty',
      versioned
        ? 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.'
        : 'The bucket you tried to delete is not empty',
      409,
      { BucketName: bucket },
    ),
  invalidBucketName: (bucket: string) =>
    error('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: bucket }),
  illegalLocationConstraint: (message: string) => error('IllegalLocationConstraintException', message),
  invalidLocationConstraint: (constraint: string) =>
    error('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400, {
      LocationConstraint: constraint,
    }),
  keyTooLong: (size: number) =>
    error('KeyTooLongError', 'Your key is too long', 400, { Size: String(size), MaxSizeAllowed: '1024' }),
  invalidArgument: (message: string, name?: string, value?: string) =>
    error('InvalidArgument', message, 400, {
      ...(name === undefined ? {} : { ArgumentName: name }),
      ...(value === undefined ? {} : { ArgumentValue: value }),
    }),
  invalidRequest: (message: string) => error('InvalidRequest', message),
  invalidUri: () => error('InvalidURI', "Couldn't parse the specified URI."),
  malformedXml: () =>
    error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  notImplemented: (what: string) =>
    error(
      'NotImplemented',
      `A header or query you provided implies functionality that is not implemented: ${what}`,
      501,
    ),
  transferEncodingNotImplemented: () =>
    error('NotImplemented', 'A header you provided implies functionality that is not implemented', 501, {
      Header: 'Transfer-Encoding',
    }),
  methodNotAllowed: (method: string, resourceType: string) =>
    error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
      Method: method,
      ResourceType: resourceType,
    }),
  preconditionFailed: (condition: string) =>
    error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, {
      Condition: condition,
    }),
  invalidRange: (requested: string, size: number) =>
    error('InvalidRange', 'The requested range is not satisfiable', 416, {
      RangeRequested: requested,
      ActualObjectSize: String(size),
    }),
  invalidPartNumber: () => error('InvalidPartNumber', 'The requested partnumber is not satisfiable', 416),
  missingContentLength: () =>
    error('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411),
  entityTooLarge: (proposed: number, max: number) =>
    error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400, {
      ProposedSize: String(proposed),
      MaxSizeAllowed: String(max),
    }),
  entityTooSmall: (proposed: number, min: number, partNumber: number, etag: string) =>
    error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', 400, {
      ProposedSize: String(proposed),
      MinSizeAllowed: String(min),
      PartNumber: String(partNumber),
      ETag: etag,
    }),
  incompleteBody: (expected: number, provided: number) =>
    error(
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
      400,
      {
        NumberBytesExpected: String(expected),
        NumberBytesProvided: String(provided),
      },
    ),
  malformedChunkedBody: (detail: string) =>
    error('IncompleteBody', `The request body is not valid aws-chunked encoding: ${detail}`),
  invalidChunkSize: (chunk: number, size: number) =>
    error(
      'InvalidChunkSizeError',
      'Only the last chunk is allowed to have a size less than 8192 bytes',
      400,
      {
        Chunk: String(chunk),
        BadChunkSize: String(size),
      },
    ),
  malformedTrailer: () =>
    error(
      'MalformedTrailerError',
      'The request contained trailing data that was not well-formed or did not conform to our published schema.',
    ),
  invalidDigest: (given: string) =>
    error('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400, { 'Content-MD5': given }),
  badDigest: (expected: string, calculated: string) =>
    error('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400, {
      ExpectedDigest: expected,
      CalculatedDigest: calculated,
    }),
  badChecksum: (algorithm: string) =>
    error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`),
  contentSha256Mismatch: (client: string, computed: string) =>
    error(
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      400,
      {
        ClientComputedContentSHA256: client,
        S3ComputedContentSHA256: computed,
      },
    ),
  invalidPart: (uploadId: string, partNumber: number, etag: string) =>
    error(
      'InvalidPart',
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      400,
      { UploadId: uploadId, PartNumber: String(partNumber), ETag: etag },
    ),
  invalidPartOrder: () =>
    error(
      'InvalidPartOrder',
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
    ),
  invalidTag: (message: string) => error('InvalidTag', message),
  tooManyTags: () => error('BadRequest', 'Object tags cannot be greater than 10'),
  invalidStorageClass: (value: string) =>
    error('InvalidStorageClass', 'The storage class you specified is not valid', 400, {
      StorageClassRequested: value,
    }),
  invalidObjectState: (storageClass: string) =>
    error('InvalidObjectState', "The operation is not valid for the object's storage class", 403, {
      StorageClass: storageClass,
    }),
  metadataTooLarge: (size: number) =>
    error('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.', 400, {
      Size: String(size),
      MaxSizeAllowed: '2048',
    }),
  aclNotSupported: () => error('AccessControlListNotSupported', 'The bucket does not allow ACLs'),
  bucketAclNotAllowed: () =>
    error(
      'InvalidBucketAclWithObjectOwnership',
      "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    ),
  serverSideEncryptionNotFound: (bucket: string) =>
    error(
      'ServerSideEncryptionConfigurationNotFoundError',
      'The server side encryption configuration was not found',
      404,
      { BucketName: bucket },
    ),
};
