/**
 * What a Catch hands a flow is Step Functions' wrapping of the error, not the error a reader needs:
 * a failed nested execution arrives as `States.TaskFailed` with the child's whole DescribeExecution
 * document as its cause, and a function's error as the runtime's JSON error document. This unwraps
 * both (as deep as they go) into the error that actually happened. Pure; anything it does not
 * recognise is returned as it came.
 */

export interface StepError {
  readonly name: string;
  readonly message: string;
  /** The nested execution that failed, when the error came from one. */
  readonly execution?: string;
}

function parsed(text: string): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** How a child that ended without an error of its own is named. */
const CHILD_STATUS: Readonly<Record<string, string>> = {
  TIMED_OUT: 'States.Timeout',
  ABORTED: 'States.Aborted',
  FAILED: 'States.TaskFailed',
};

/** The error behind `error`: the failed child's own error, the function's own message. */
export function unwrapError(error: { readonly name: string; readonly message: string }): StepError {
  const document = parsed(error.message);
  if (!document) return { name: error.name, message: error.message };

  // A nested execution's DescribeExecution document (states:startExecution.sync / .sync:2).
  const execution = text(document.ExecutionArn);
  const status = text(document.Status);
  if (execution && status) {
    const inner = unwrapError({
      name: text(document.Error) ?? CHILD_STATUS[status] ?? error.name,
      message: text(document.Cause) ?? `the nested execution ended ${status}`,
    });
    return { ...inner, execution: inner.execution ?? execution };
  }

  // A Lambda function's error document ({ errorType, errorMessage, trace }).
  const message = text(document.errorMessage);
  if (message !== undefined) return { name: text(document.errorType) ?? error.name, message };

  return { name: error.name, message: error.message };
}
