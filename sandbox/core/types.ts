/**
 * The contract between the sandbox's HTTP core and its service emulators.
 *
 * The core parses SigV4 credentials, picks the service from the credential scope, and hands the
 * request to that service. A service answers on `res` in its own wire format, or throws an
 * {@link AwsError}, which the core renders in the service's protocol.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessCheck } from './access/checks.ts';
import type { Denial } from './access/denials.ts';
import type { CredentialProblem } from './access/errors.ts';

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
  /** Access key id from the credentials. */
  readonly accessKeyId: string;
  /** Who signed the request: the sandbox's administrator, or a role session (a deployed function). */
  readonly caller: RequestCaller;
  /** Whether the request came over TLS (`aws:SecureTransport`). */
  readonly secureTransport: boolean;
  /** The TLS protocol when it did, e.g. `TLSv1.3` (`s3:TlsVersion`). */
  readonly tlsVersion?: string;
  /** A request id, echoed in responses and errors. */
  readonly requestId: string;
  /** Reads the whole body into memory (for small control-plane requests only). */
  readBody(limitBytes?: number): Promise<Buffer>;
  /**
   * Authorizes the request for every check (the IAM actions, resources and condition keys its
   * operation needs; sandbox/core/access decides). Throws the service's AccessDenied error when
   * one is denied and enforcement is on; does nothing for the administrator. A role session's
   * request must be authorized before the service answers it successfully, and before any side
   * effect.
   */
  authorize(checks: readonly AccessCheck[], operation?: string): void;
}

/** The signer of a request, once its credentials were accepted. */
export type RequestCaller =
  | { readonly kind: 'administrator' }
  | { readonly kind: 'role'; readonly roleArn: string; readonly sessionName: string };

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
  /** The error this service answers for a denied call; by protocol when omitted (access/errors.ts). */
  accessDenied?(denial: Denial): AwsError;
  /** The error for a key the sandbox never issued, or a role key without its session token. */
  invalidCredentials?(problem: CredentialProblem, accessKeyId: string): AwsError;
  /** Renders this service's client errors when its protocol's generic rendering is not enough. */
  sendError?(res: ServerResponse, error: AwsError, requestId: string): void;
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
