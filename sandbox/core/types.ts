/**
 * The contract between the sandbox's HTTP core and its service emulators.
 *
 * The core parses SigV4 credentials, picks the service from the credential scope, and hands the
 * request to that service. A service answers on `res` in its own wire format, or throws an
 * {@link AwsError}, which the core renders in the service's protocol.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Wire protocols, which decide how errors are rendered. */
export type WireProtocol = 'rest-xml' | 'json' | 'query' | 'rest-json';

/** A parsed incoming request. The body has not been read: services stream or buffer as they need. */
export interface SandboxRequest {
  readonly method: string;
  /** The full URL, with the path still percent-encoded as sent. */
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  /** The raw request stream (for streaming bodies). */
  readonly raw: IncomingMessage;
  /** Signing name from the credential scope: s3, kms, rds, sns, states, lambda, scheduler. */
  readonly service: string;
  /** Region from the credential scope. */
  readonly region: string;
  /** Access key id from the credentials (any value is accepted). */
  readonly accessKeyId: string;
  /** A request id, echoed in responses and errors. */
  readonly requestId: string;
  /** Reads the whole body into memory (for small control-plane requests only). */
  readBody(limitBytes?: number): Promise<Buffer>;
}

/** One emulated AWS service. */
export interface SandboxService {
  /** The SigV4 signing name this service answers to. */
  readonly signingName: string;
  readonly protocol: WireProtocol;
  handle(req: SandboxRequest, res: ServerResponse): Promise<void>;
  /**
   * Answers unsigned requests under `/_sandbox/<signingName>/…`: inspection routes for tests and
   * rehearsals (e.g. the messages SNS kept). No AWS route starts with `/_sandbox/` (bucket names
   * cannot contain `_`), so these never shadow an API call.
   */
  handleInspection?(req: SandboxRequest, res: ServerResponse): Promise<void>;
  /** Called once when the sandbox stops: stop timers, child processes, flush state. */
  close?(): Promise<void>;
}

/** An error answered in AWS's format: `code` is the wire error code SDKs map to exception classes. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra fields some services include (e.g. S3's BucketName, Key). */
    readonly fields: Readonly<Record<string, string>> = {},
    /** `Sender` or `Receiver` for Query protocol errors. */
    readonly fault: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = 'AwsError';
  }
}

/** Fixed identity of the sandbox "account". */
export const SANDBOX_ACCOUNT_ID = '000000000000';
