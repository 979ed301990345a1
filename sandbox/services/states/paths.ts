/**
 * Evaluating ASL paths and payload templates outside the interpreter (for the states the sandbox
 * runs itself), with the interpreter's own semantics.
 */
import '../../core/polyfills.ts';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An ASL runtime error; `retryable`/`catchable` as the interpreter reads them. */
export class StatesError extends Error {
  constructor(
    name: string,
    message: string,
    readonly isRetryable = true,
    readonly isCatchable = true,
  ) {
    super(message);
    this.name = name;
  }
}

/** States.Runtime: neither retried nor caught, as in AWS. */
export function runtimeError(message: string): StatesError {
  return new StatesError('States.Runtime', message, false, false);
}

/**
 * Evaluates a reference path (`$`, `$.a.b`, `$['a'][0]`, `$$.Execution.Id`) synchronously.
 * Reference paths cannot hold filters or wildcards, so this small walker is exact for them.
 * Returns undefined when the path does not resolve.
 */
export function referencePath(path: string, input: unknown, context: unknown): unknown {
  let value: unknown;
  let rest: string;
  if (path.startsWith('$$')) {
    value = context;
    rest = path.slice(2);
  } else if (path.startsWith('$')) {
    value = input;
    rest = path.slice(1);
  } else {
    return undefined;
  }
  const segment = /^(?:\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
  while (rest.length > 0) {
    const match = segment.exec(rest);
    if (!match) return undefined;
    rest = rest.slice(match[0].length);
    const key = match[1] ?? match[3] ?? match[4];
    if (match[2] !== undefined) {
      if (!Array.isArray(value)) return undefined;
      value = value[Number(match[2])];
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && key !== undefined) {
      value = (value as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
    if (value === undefined) return undefined;
  }
  return value;
}

/**
 * Evaluates a payload template (`{"key.$": "$.path"}`, intrinsic functions) against `input`, with
 * `context` as `$$`, by running it through the interpreter in a one-state Pass machine. The
 * machine's input is `context.Execution.Input` so that `$$.Execution.Input` stays right.
 */
export async function evaluateTemplate(
  template: unknown,
  input: unknown,
  context: Record<string, unknown>,
): Promise<unknown> {
  const execution = (context.Execution ?? {}) as Record<string, unknown>;
  const machine = new StateMachine(
    {
      StartAt: 'Template',
      States: {
        Template: {
          Type: 'Pass',
          InputPath: '$$.SandboxTemplateInput',
          Parameters: template as never,
          End: true,
        },
      },
    },
    { validationOptions: { noValidate: true } },
  );
  try {
    return await machine.run((execution.Input ?? null) as Json, {
      context: { ...context, SandboxTemplateInput: input as Json },
    }).result;
  } catch (error) {
    const cause = error instanceof ExecutionError ? (error.cause as Error) : (error as Error);
    throw runtimeError(cause.message);
  }
}

/** Evaluates a path that may be a reference path or JSONPath, through the interpreter. */
export async function evaluatePath(
  path: string,
  input: unknown,
  context: Record<string, unknown>,
): Promise<unknown> {
  const result = (await evaluateTemplate({ 'value.$': path }, input, context)) as { value?: unknown };
  return result.value;
}
