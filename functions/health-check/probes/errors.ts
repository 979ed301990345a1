/**
 * How a probe names the error that stopped it: one short line for the summary and evidence,
 * led by the system code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED), `TimeoutError`, or the
 * Caretaker error name of a normalised AWS SDK error, so alerts can be read without the logs.
 */
import { CaretakerError, normaliseError } from '#common/runtime/errors';

/** A probe got no answer within its own timeout. */
export class ProbeTimeoutError extends Error {
  override readonly name = 'TimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** The error text used when a probe got no answer within its timeout. */
export function timeoutMessage(timeoutMs: number): string {
  return describeError(new ProbeTimeoutError(timeoutMs));
}

/** `<code or name>: <message>` for any thrown value. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return `TimeoutError: ${error.message}`;
  const code = (error as { code?: unknown }).code;
  const isAws = '$metadata' in error || '$fault' in error;
  if (!isAws && typeof code === 'string' && code.length > 0) return `${code}: ${error.message}`;
  const normalised = normaliseError(error);
  if (normalised instanceof CaretakerError) return `${normalised.name}: ${normalised.message}`;
  return `${error.name}: ${error.message}`;
}
