/**
 * An error as a report entry holds it (`{ name, message }`), named as Caretaker names it: an SDK
 * error becomes its Caretaker name with the AWS code in the message (errors.ts). Transient errors
 * are thrown on instead, so the flow's Retry deals with them rather than a report entry.
 */
import { CaretakerError, normaliseError } from './errors.ts';

export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
}

/** `{ name, message }` of a permanent error; rethrows a transient one (throttling, network). */
export function permanentErrorInfo(error: unknown): ErrorInfo {
  const normalised = normaliseError(error);
  if (normalised instanceof CaretakerError && normalised.transient) throw normalised;
  if (normalised instanceof Error) return { name: normalised.name, message: normalised.message };
  return { name: 'Error', message: String(normalised) };
}
