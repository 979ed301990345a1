/**
 * SQS errors as the JSON protocol answers them. SQS moved from the Query protocol to JSON 1.0 in
 * 2023 and stayed "query compatible": the body's `__type` names the error shape
 * (`com.amazonaws.sqs#QueueDoesNotExist`), and the `x-amzn-query-error` header carries the old
 * Query error code and fault (`AWS.SimpleQueueService.NonExistentQueue;Sender`), which the SDK
 * exposes as `error.Code`. The core renders errors in JSON 1.1 without that header, so SQS renders
 * its own.
 */
import type { ServerResponse } from 'node:http';
import { AwsError } from '../../core/types.ts';

/** Error shape → [Query error code, HTTP status], as the SQS API model declares them. */
const QUERY_CODES: Readonly<Record<string, readonly [string, number]>> = {
  QueueDoesNotExist: ['AWS.SimpleQueueService.NonExistentQueue', 400],
  QueueNameExists: ['QueueAlreadyExists', 400],
  ReceiptHandleIsInvalid: ['ReceiptHandleIsInvalid', 404],
  PurgeQueueInProgress: ['AWS.SimpleQueueService.PurgeQueueInProgress', 403],
  UnsupportedOperation: ['AWS.SimpleQueueService.UnsupportedOperation', 400],
  InvalidAttributeName: ['InvalidAttributeName', 400],
  InvalidAttributeValue: ['InvalidAttributeValue', 400],
  InvalidMessageContents: ['InvalidMessageContents', 400],
  KmsNotFound: ['KMS.NotFoundException', 400],
  KmsDisabled: ['KMS.DisabledException', 400],
  KmsInvalidState: ['KMS.InvalidStateException', 400],
  InvalidParameterValue: ['InvalidParameterValue', 400],
  MissingParameter: ['MissingParameter', 400],
  InvalidAction: ['InvalidAction', 400],
  KmsAccessDenied: ['KMS.AccessDeniedException', 400],
  AccessDeniedException: ['AccessDenied', 403],
  UnrecognizedClientException: ['InvalidClientTokenId', 403],
};

/** Errors the service framework answers for every AWS JSON service, not SQS's own shapes. */
const FRAMEWORK_ERRORS = new Set(['AccessDeniedException', 'UnrecognizedClientException']);

/** An SQS error by its shape name; the status comes from the model. */
export function sqsError(shape: string, message: string): AwsError {
  const status = QUERY_CODES[shape]?.[1] ?? 400;
  return new AwsError(shape, message, status);
}

export function queueDoesNotExist(): AwsError {
  return sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
}

export function missingParameter(field: string): AwsError {
  return sqsError('MissingParameter', `The request must contain the parameter ${field}.`);
}

export function invalidParameter(message: string): AwsError {
  return sqsError('InvalidParameterValue', message);
}

/** Writes `error` as SQS's JSON 1.0 error response. */
export function sendSqsError(res: ServerResponse, error: AwsError): void {
  const [queryCode, status] = QUERY_CODES[error.code] ?? [error.code, error.status];
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-query-error': `${queryCode};${error.fault}`,
  });
  const namespace = FRAMEWORK_ERRORS.has(error.code) ? 'com.amazon.coral.service' : 'com.amazonaws.sqs';
  res.end(JSON.stringify({ __type: `${namespace}#${error.code}`, message: error.message }));
}
