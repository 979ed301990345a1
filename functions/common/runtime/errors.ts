/**
 * Named errors shared by the functions and the state machines.
 *
 * Step Functions `Retry`/`Catch` match on `Error.name`, so every name here is part of the public
 * contract between `functions/` and `statemachines/`. Whether a fault is worth retrying is stated
 * once, in {@link ERROR_KINDS}; the flows' Retry blocks list exactly {@link TRANSIENT_ERRORS}.
 */

export type ErrorKind = 'transient' | 'permanent';

/** Every Caretaker error name with its kind. The single source of truth for retry decisions. */
export const ERROR_KINDS = {
  /** Input failed schema validation; nothing was done. */
  ValidationError: 'permanent',
  /** A named resource (instance, snapshot, backup, bucket) does not exist. */
  NotFoundError: 'permanent',
  /** A resource exists but is in a state that rules the action out for good (e.g. unmanaged). */
  PreconditionFailedError: 'permanent',
  /** An AWS quota would be or was exceeded (manual snapshots, concurrent copies). */
  QuotaExceededError: 'permanent',
  /** AWS refused the call for lack of permission or key access. */
  AccessDeniedError: 'permanent',
  /** A backup failed verification: a checksum, size, manifest or chain does not match. */
  IntegrityError: 'permanent',
  /** A health evaluation came out unhealthy where the flow needs healthy. */
  UnhealthyError: 'permanent',
  /** A polled operation did not finish within its attempt cap. */
  TimeoutExceededError: 'permanent',
  /** AWS throttled the call or the service is briefly unavailable. */
  ThrottledError: 'transient',
  /** The resource is busy (e.g. InvalidDBInstanceState while modifying); try again shortly. */
  ResourceBusyError: 'transient',
  /** A network-level fault talking to AWS or a probed endpoint. */
  NetworkError: 'transient',
} as const satisfies Record<string, ErrorKind>;

export type CaretakerErrorName = keyof typeof ERROR_KINDS;

/** Error names a flow should retry with backoff. */
export const TRANSIENT_ERRORS = (Object.keys(ERROR_KINDS) as CaretakerErrorName[]).filter(
  (name) => ERROR_KINDS[name] === 'transient',
);

/** Error names a flow must not retry. */
export const PERMANENT_ERRORS = (Object.keys(ERROR_KINDS) as CaretakerErrorName[]).filter(
  (name) => ERROR_KINDS[name] === 'permanent',
);

/**
 * Faults of the Lambda service itself (not of the function), as Step Functions names them for
 * the `lambda:invoke` integration; AWS recommends retrying them on every Lambda task.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/** What every Retry block of a Lambda task lists: Caretaker's transient errors, then the Lambda service's. */
export const RETRYABLE_TASK_ERRORS: readonly string[] = [...TRANSIENT_ERRORS, ...LAMBDA_SERVICE_ERRORS];

/** Base class: `name` is the contract, `details` is structured evidence safe to log. */
export class CaretakerError extends Error {
  override readonly name: CaretakerErrorName;
  readonly details: Record<string, unknown>;

  constructor(
    name: CaretakerErrorName,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = name;
    this.details = details;
  }

  /** Whether a flow should retry the step that threw this error. */
  get transient(): boolean {
    return ERROR_KINDS[this.name] === 'transient';
  }
}

/** One problem found while validating input or config, located by its JSON path. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export class ValidationError extends CaretakerError {
  readonly problems: readonly FieldProblem[];

  constructor(problems: readonly FieldProblem[], subject = 'input') {
    super(
      'ValidationError',
      `Invalid ${subject}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      {
        problems,
      },
    );
    this.problems = problems;
  }
}

export class NotFoundError extends CaretakerError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('NotFoundError', message, details, options);
  }
}

export class PreconditionFailedError extends CaretakerError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('PreconditionFailedError', message, details, options);
  }
}

export class QuotaExceededError extends CaretakerError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('QuotaExceededError', message, details, options);
  }
}

export class AccessDeniedError extends CaretakerError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('AccessDeniedError', message, details, options);
  }
}

export class IntegrityError extends CaretakerError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('IntegrityError', message, details, options);
  }
}

export class UnhealthyError extends CaretakerError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('UnhealthyError', message, details, options);
  }
}

export class TimeoutExceededError extends CaretakerError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('TimeoutExceededError', message, details, options);
  }
}

export class ThrottledError extends CaretakerError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('ThrottledError', message, details, options);
  }
}

export class ResourceBusyError extends CaretakerError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('ResourceBusyError', message, details, options);
  }
}

export class NetworkError extends CaretakerError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('NetworkError', message, details, options);
  }
}

/** AWS error codes (wire `Code` or SDK class name) and the Caretaker error each becomes. */
const AWS_CODE_TO_NAME: Readonly<Record<string, CaretakerErrorName>> = {
  Throttling: 'ThrottledError',
  ThrottlingException: 'ThrottledError',
  ThrottledException: 'ThrottledError',
  TooManyRequestsException: 'ThrottledError',
  RequestLimitExceeded: 'ThrottledError',
  SlowDown: 'ThrottledError',
  ServiceUnavailable: 'ThrottledError',
  ServiceUnavailableException: 'ThrottledError',
  InternalError: 'ThrottledError',
  InternalFailure: 'ThrottledError',
  InvalidDBInstanceState: 'ResourceBusyError',
  InvalidDBInstanceStateFault: 'ResourceBusyError',
  InvalidDBClusterStateFault: 'ResourceBusyError',
  InvalidDBSnapshotState: 'ResourceBusyError',
  InvalidDBSnapshotStateFault: 'ResourceBusyError',
  InvalidDBClusterSnapshotStateFault: 'ResourceBusyError',
  ResourceConflictException: 'ResourceBusyError',
  NoSuchKey: 'NotFoundError',
  NoSuchBucket: 'NotFoundError',
  NotFound: 'NotFoundError',
  NotFoundException: 'NotFoundError',
  ResourceNotFoundException: 'NotFoundError',
  DBInstanceNotFound: 'NotFoundError',
  DBInstanceNotFoundFault: 'NotFoundError',
  DBClusterNotFoundFault: 'NotFoundError',
  DBSnapshotNotFound: 'NotFoundError',
  DBSnapshotNotFoundFault: 'NotFoundError',
  DBClusterSnapshotNotFoundFault: 'NotFoundError',
  SnapshotQuotaExceeded: 'QuotaExceededError',
  SnapshotQuotaExceededFault: 'QuotaExceededError',
  AccessDenied: 'AccessDeniedError',
  AccessDeniedException: 'AccessDeniedError',
  KMSKeyNotAccessibleFault: 'AccessDeniedError',
  KMSInvalidStateException: 'AccessDeniedError',
  AuthorizationError: 'AccessDeniedError',
};

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'TimeoutError',
]);

/**
 * Turns any thrown value into a CaretakerError so flows can Retry/Catch on a stable name.
 * Caretaker errors pass through unchanged; AWS SDK errors are mapped by their code.
 * Anything unrecognised is returned as-is (the flow sees its own name and treats it as permanent).
 */
export function normaliseError(error: unknown): unknown {
  if (error instanceof CaretakerError) return error;
  if (!(error instanceof Error)) return error;
  const code = awsErrorCode(error);
  const mapped = code ? AWS_CODE_TO_NAME[code] : undefined;
  const meta = (error as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
  const details = { awsCode: code, httpStatus: meta?.httpStatusCode, requestId: meta?.requestId };
  if (mapped) return new CaretakerError(mapped, `${code}: ${error.message}`, details, { cause: error });
  const sysCode = (error as { code?: string }).code;
  if ((sysCode && NETWORK_CODES.has(sysCode)) || NETWORK_CODES.has(error.name)) {
    return new NetworkError(`${sysCode ?? error.name}: ${error.message}`, details, { cause: error });
  }
  if (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500) {
    return new ThrottledError(`${code ?? error.name}: ${error.message}`, details, { cause: error });
  }
  return error;
}

/** The AWS error code of an SDK v3 error: the wire `Code` when present, else the class name. */
export function awsErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const wire = (error as { Code?: unknown }).Code;
  if (typeof wire === 'string' && wire.length > 0) return wire;
  if ('$metadata' in error || '$fault' in error) return error.name;
  return undefined;
}

/** True when the error (raw or normalised) is the named AWS code or Caretaker name. */
export function isErrorNamed(error: unknown, ...names: string[]): boolean {
  if (!(error instanceof Error)) return false;
  const code = awsErrorCode(error);
  return names.includes(error.name) || (code !== undefined && names.includes(code));
}
