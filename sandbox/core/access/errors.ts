/**
 * The errors AWS answers for a refused call and for credentials it does not know, by wire protocol.
 * A service whose answer differs (S3 quotes the resource, SNS says AuthorizationError, SQS has its
 * query-compatible codes) overrides them with `accessDenied` / `invalidCredentials`.
 */
import { AwsError, type WireProtocol } from '../types.ts';
import type { Denial } from './denials.ts';
import { accessDeniedMessage } from './messages.ts';

/** Why credentials were refused: a key the sandbox never issued, or a role key without its token. */
export type CredentialProblem = 'unknown-key' | 'invalid-token';

const INVALID_TOKEN = 'The security token included in the request is invalid.';

export function defaultAccessDenied(protocol: WireProtocol, denial: Denial): AwsError {
  const message = accessDeniedMessage(denial);
  switch (protocol) {
    case 'rest-xml':
      return new AwsError('AccessDenied', accessDeniedMessage(denial, { quoteResource: true }), 403);
    case 'query':
      return new AwsError('AccessDenied', message, 403);
    case 'rest-json':
      return new AwsError('AccessDeniedException', message, 403);
    case 'json':
      return new AwsError('AccessDeniedException', message, 400);
  }
}

export function defaultInvalidCredentials(
  protocol: WireProtocol,
  problem: CredentialProblem,
  accessKeyId: string,
): AwsError {
  switch (protocol) {
    case 'rest-xml':
      return problem === 'unknown-key'
        ? new AwsError(
            'InvalidAccessKeyId',
            'The AWS Access Key Id you provided does not exist in our records.',
            403,
            { AWSAccessKeyId: accessKeyId },
          )
        : new AwsError('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400);
    case 'query':
      return new AwsError('InvalidClientTokenId', INVALID_TOKEN, 403);
    case 'rest-json':
      return new AwsError('UnrecognizedClientException', INVALID_TOKEN, 403);
    case 'json':
      return new AwsError('UnrecognizedClientException', INVALID_TOKEN, 400);
  }
}
