/**
 * Step Functions' integration with itself: a Task state starts an execution of another state
 * machine through the sandbox's own StartExecution (`arn:aws:states:::states:startExecution`),
 * and with the Run a Job patterns (`.sync`, `.sync:2`) waits for it, as AWS does:
 *
 * - TaskScheduled, TaskStarted, then TaskSucceeded with the StartExecution response; or, for
 *   `.sync`/`.sync:2`, TaskSubmitted with that response, then TaskSucceeded with the child's
 *   DescribeExecution document, or TaskFailed `States.TaskFailed` with that document as cause when
 *   the child failed, timed out or was aborted;
 * - StartExecution's own errors fail the Task as `StepFunctions.<Code>Exception`;
 * - the child is stopped when the parent is stopped or times out, and when the Task's
 *   TimeoutSeconds or HeartbeatSeconds pass (the sandbox keeps those timers for these Tasks, so
 *   the child is stopped before the Task fails with States.Timeout).
 */
import { randomUUID } from 'node:crypto';
import { check } from '../../core/access/checks.ts';
import type { Denial } from '../../core/access/denials.ts';
import { accessDeniedMessage } from '../../core/access/messages.ts';
import { AwsError } from '../../core/types.ts';
import type { AslState } from './definition.ts';
import { executionDocument } from './describe.ts';
import { json } from './history.ts';
import type { ExecutionRecord } from './model.ts';
import { referencePath, runtimeError, StatesError } from './paths.ts';
import { describeResource, scheduledLimits, sdkHttpMetadata } from './task-events.ts';
import type { TaskScope } from './tasks.ts';
import { statesTimeout } from './timeout-error.ts';

/** Request-response, or Run a Job with the output as JSON text (`sync`) or as JSON (`sync:2`). */
export type NestedPattern = 'request-response' | 'sync' | 'sync:2';

const PATTERNS: Readonly<Record<string, NestedPattern>> = {
  'states:startExecution': 'request-response',
  'states:startExecution.sync': 'sync',
  'states:startExecution.sync:2': 'sync:2',
};

const SERVICE_ARN = /^arn:aws[\w-]*:states:::(.+)$/;

/** The pattern of a `states:startExecution…` service name, or undefined for anything else. */
export function nestedPattern(service: string | undefined): NestedPattern | undefined {
  return service !== undefined && Object.hasOwn(PATTERNS, service) ? PATTERNS[service] : undefined;
}

/** Whether a Task resource is a nested execution (whose timeouts the sandbox keeps itself). */
export function isNestedExecution(resource: unknown): boolean {
  return typeof resource === 'string' && nestedPattern(SERVICE_ARN.exec(resource)?.[1]) !== undefined;
}

/** Seconds from `<field>` or `<field>Path`, as the interpreter reads TimeoutSecondsPath. */
function limitSeconds(
  state: AslState,
  field: 'TimeoutSeconds' | 'HeartbeatSeconds',
  input: unknown,
  context: Record<string, unknown>,
): number | undefined {
  const value = state[field];
  if (typeof value === 'number' && value > 0) return value;
  const path = state[`${field}Path`];
  if (typeof path !== 'string') return undefined;
  const seconds = referencePath(path, input, context);
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1) {
    throw runtimeError(`${field}Path ${path} must point to a positive integer, got ${json(seconds ?? null)}`);
  }
  return seconds;
}

/**
 * How long the Task may wait, in ms. The sandbox has no SendTaskHeartbeat, so nothing heartbeats
 * a child: HeartbeatSeconds bounds the whole wait, like a TimeoutSeconds.
 */
function waitLimitMs(state: AslState, input: unknown, context: Record<string, unknown>): number | undefined {
  const limits = [
    limitSeconds(state, 'TimeoutSeconds', input, context),
    limitSeconds(state, 'HeartbeatSeconds', input, context),
  ].filter((seconds): seconds is number => seconds !== undefined);
  return limits.length > 0 ? Math.min(...limits) * 1000 : undefined;
}

/** Java SDK exception names, as Step Functions prefixes them: `StateMachineDoesNotExist` → `…Exception`. */
function exceptionName(code: string): string {
  return `StepFunctions.${code.endsWith('Exception') ? code : `${code}Exception`}`;
}

/** The API error as the optimized integration reports it (error name and the SDK's message). */
function serviceError(error: AwsError, requestId: string): StatesError {
  return new StatesError(
    exceptionName(error.code),
    `${error.message} (Service: AWSStepFunctions; Status Code: ${error.status}; Error Code: ${error.code}; Request ID: ${requestId}; Proxy: null)`,
  );
}

/** StartExecution's `input`: an object is sent as JSON text, a string as it is, nothing as `{}`. */
function inputText(value: unknown): string {
  if (value === undefined || value === null) return '{}';
  return typeof value === 'string' ? value : json(value);
}

/** The API's AccessDeniedException for a call the role may not make, as the integration reports it. */
function deniedError(denial: Denial, requestId: string): StatesError {
  return serviceError(new AwsError('AccessDeniedException', accessDeniedMessage(denial)), requestId);
}

/** Decides one call the execution makes on a child with its role; throws what the task fails with. */
function authorizeCall(scope: TaskScope, action: string, arn: string, requestId: string): void {
  const operation = action.replace(/^states:/, '');
  const denial = scope.engine.authorize(scope.identity, [check(action, arn)], operation, scope.region);
  if (denial) throw deniedError(denial, requestId);
}

function startChild(params: Record<string, unknown>, scope: TaskScope, requestId: string) {
  if (typeof params.StateMachineArn !== 'string') {
    throw runtimeError(
      "The Parameters of a states:startExecution task must include a string 'StateMachineArn'",
    );
  }
  if (params.Name !== undefined && params.Name !== null && typeof params.Name !== 'string') {
    throw runtimeError("The 'Name' of a states:startExecution task must be a string");
  }
  authorizeCall(scope, 'states:StartExecution', params.StateMachineArn, requestId);
  try {
    return scope.engine.startExecution({
      stateMachineArn: params.StateMachineArn,
      input: inputText(params.Input),
      ...(typeof params.Name === 'string' ? { name: params.Name } : {}),
    });
  } catch (error) {
    if (error instanceof AwsError) throw serviceError(error, requestId);
    throw error;
  }
}

/** The StartExecution response as the integration returns it, with the HTTP response's metadata. */
function startResponse(started: { executionArn: string; startDate: Date }, requestId: string) {
  const body = json({ executionArn: started.executionArn, startDate: started.startDate.getTime() / 1000 });
  const headers = {
    'Content-Length': String(Buffer.byteLength(body)),
    'Content-Type': 'application/x-amz-json-1.0',
    Date: new Date().toUTCString(),
    'x-amzn-RequestId': requestId,
  };
  return {
    ExecutionArn: started.executionArn,
    SdkHttpMetadata: sdkHttpMetadata(headers, 200),
    SdkResponseMetadata: { RequestId: requestId },
    StartDate: started.startDate.getTime(),
  };
}

type WaitOutcome = 'closed' | 'timed-out' | 'parent-stopped';

/** Waits until the child closes, the wait limit passes (from `since`), or the parent stops. */
function waitForChild(
  child: ExecutionRecord,
  limitMs: number | undefined,
  since: number,
  signal: AbortSignal,
): Promise<WaitOutcome> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (outcome: WaitOutcome) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = () => settle('parent-stopped');
    if (signal.aborted) {
      settle('parent-stopped');
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    if (limitMs !== undefined) timer = setTimeout(() => settle('timed-out'), limitMs - (Date.now() - since));
    void child.done.then(() => settle('closed'));
  });
}

/**
 * Stops a child the parent no longer waits for, as AWS does (no error, this cause), and lets it
 * close. A role that may not stop it leaves it running, recorded as a denial.
 */
async function abandon(child: ExecutionRecord, scope: TaskScope): Promise<void> {
  const stopCheck = [check('states:StopExecution', child.executionArn)];
  if (scope.engine.authorize(scope.identity, stopCheck, 'StopExecution', scope.region)) return;
  child.stop(
    undefined,
    `The Task state in AWS Step Functions execution [${scope.executionArn}] which was managing this resource was aborted`,
  );
  await child.done;
}

/** Runs a `states:startExecution` Task with its effective input; returns the state's result. */
export async function runNestedExecution(
  stateName: string,
  state: AslState,
  pattern: NestedPattern,
  input: unknown,
  scope: TaskScope,
): Promise<unknown> {
  const since = Date.now();
  const limitMs = waitLimitMs(state, input, scope.context);
  const described = describeResource(String(state.Resource));
  const params = (input ?? {}) as Record<string, unknown>;
  const scheduled = scope.history.add(
    'TaskScheduled',
    { ...described, region: scope.region, parameters: json(params), ...scheduledLimits(state) },
    scope.history.enteredId(stateName),
  );
  const started = scope.history.add('TaskStarted', described, scheduled);
  const requestId = randomUUID();
  let response: ReturnType<typeof startResponse>;
  try {
    response = startResponse(startChild(params, scope, requestId), requestId);
  } catch (error) {
    const failure = error as Error;
    scope.history.add('TaskFailed', { ...described, error: failure.name, cause: failure.message }, started);
    throw error;
  }
  if (pattern === 'request-response') {
    scope.history.add(
      'TaskSucceeded',
      { ...described, output: json(response), outputDetails: { truncated: false } },
      started,
    );
    return response;
  }

  const submitted = scope.history.add(
    'TaskSubmitted',
    { ...described, output: json(response), outputDetails: { truncated: false } },
    started,
  );
  const child = scope.engine.execution(response.ExecutionArn);
  if (!child)
    throw runtimeError(`The started execution ${response.ExecutionArn} is not known to the sandbox`);
  const outcome = await waitForChild(child, limitMs, since, scope.signal);
  if (outcome !== 'closed') {
    await abandon(child, scope);
    // A stopped parent records nothing more; a Task timeout is recorded as TaskTimedOut from the
    // interpreter's own event, as for every other Task.
    if (outcome === 'timed-out') throw await statesTimeout();
    throw new StatesError('States.Aborted', 'The execution was stopped');
  }
  // The integration reads the ended child with DescribeExecution, as the role.
  try {
    authorizeCall(scope, 'states:DescribeExecution', child.executionArn, requestId);
  } catch (error) {
    const failure = error as Error;
    scope.history.add('TaskFailed', { ...described, error: failure.name, cause: failure.message }, submitted);
    throw error;
  }
  const document = executionDocument(child, pattern === 'sync:2');
  if (child.status === 'SUCCEEDED') {
    scope.history.add(
      'TaskSucceeded',
      { ...described, output: json(document), outputDetails: { truncated: false } },
      submitted,
    );
    return document;
  }
  const failure = new StatesError('States.TaskFailed', json(document));
  scope.history.add('TaskFailed', { ...described, error: failure.name, cause: failure.message }, submitted);
  throw failure;
}
