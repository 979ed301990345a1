/**
 * The Task resources the sandbox runs: the Lambda integration (`arn:aws:states:::lambda:invoke`)
 * and plain function ARNs through the sandbox's Lambda service in process, SNS Publish (optimized
 * and AWS SDK integrations) through the sandbox's SNS over HTTP, nested executions
 * (`states:startExecution`, `.sync`, `.sync:2`, in nested-execution.ts), and Wait states. Each
 * records the history events AWS records for it and fails with the error names AWS uses, so Retry
 * and Catch behave as they would in AWS.
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import { accessDeniedMessage, quotedServiceError } from '../../core/access/messages.ts';
import { AwsError } from '../../core/types.ts';
import { functionTarget, invokeCheck } from '../lambda/authorization.ts';
import type { InvokeResult } from '../lambda/index.ts';
import type { AslState } from './definition.ts';
import { type HistoryLog, json } from './history.ts';
import type { Engine, ExecutionIdentity } from './model.ts';
import { nestedPattern, runNestedExecution } from './nested-execution.ts';
import { referencePath, runtimeError, StatesError } from './paths.ts';
import {
  describeResource,
  SERVICE_ARN,
  scheduledLimits,
  scheduledTimeout,
  sdkHttpMetadata,
} from './task-events.ts';

/** What a task handler knows about the execution it runs in. */
export interface TaskScope {
  readonly engine: Engine;
  /** The role the execution's own calls are made with. */
  readonly identity: ExecutionIdentity;
  /** The execution the task runs in. */
  readonly executionArn: string;
  readonly history: HistoryLog;
  readonly region: string;
  readonly context: Record<string, unknown>;
  readonly signal: AbortSignal;
}

const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w.-]+(:[\w$-]+)?$/;

/** Lets the history consumer record every interpreter event dispatched so far. */
export function historyBarrier(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs the Task state `stateName` with its effective input; returns the state's result. */
export async function runResourceTask(
  stateName: string,
  state: AslState,
  input: unknown,
  scope: TaskScope,
): Promise<unknown> {
  await historyBarrier();
  const resource = String(state.Resource);
  const service = SERVICE_ARN.exec(resource)?.[1];
  if (service === 'lambda:invoke') return lambdaIntegration(stateName, state, input, scope);
  if (LAMBDA_ARN.test(resource)) return lambdaFunction(stateName, state, resource, input, scope);
  if (service === 'sns:publish' || service === 'aws-sdk:sns:publish') {
    return snsPublish(stateName, state, service, input, scope);
  }
  const pattern = nestedPattern(service);
  if (pattern) return runNestedExecution(stateName, state, pattern, input, scope);
  const described = describeResource(resource);
  const error = new StatesError(
    'States.TaskFailed',
    `The sandbox does not emulate the Task resource ${resource}; it runs arn:aws:states:::lambda:invoke, Lambda function ARNs, arn:aws:states:::sns:publish, arn:aws:states:::aws-sdk:sns:publish and arn:aws:states:::states:startExecution (request-response, .sync and .sync:2)`,
  );
  scope.history.add(
    'TaskStartFailed',
    { ...described, error: error.name, cause: error.message },
    scope.history.enteredId(stateName),
  );
  throw error;
}

async function invokeLambda(
  scope: TaskScope,
  functionName: string,
  payload: string,
  options: { qualifier?: string; invocationType?: string },
): Promise<InvokeResult> {
  const lambda = scope.engine.lambda();
  if (!lambda) throw new StatesError('States.TaskFailed', "The sandbox's Lambda service is not running");
  try {
    const target = functionTarget(functionName, options.qualifier, {
      region: scope.region,
      accountId: scope.engine.accountId,
    });
    const denial = scope.engine.authorize(scope.identity, [invokeCheck(target)], 'Invoke', scope.region);
    if (denial) {
      // What Step Functions reports when Lambda refuses its role: the Java SDK's generic exception.
      throw new StatesError(
        'Lambda.AWSLambdaException',
        quotedServiceError(
          accessDeniedMessage(denial),
          'AWSLambda',
          403,
          'AccessDeniedException',
          randomUUID(),
        ),
      );
    }
    return await lambda.invoke({
      functionName,
      payload,
      region: scope.region,
      ...(options.qualifier !== undefined ? { qualifier: options.qualifier } : {}),
      ...(options.invocationType !== undefined
        ? { invocationType: options.invocationType as 'RequestResponse' | 'Event' | 'DryRun' }
        : {}),
    });
  } catch (error) {
    if (error instanceof AwsError) {
      throw new StatesError(
        `Lambda.${error.code}`,
        `${error.message} (Service: Lambda, Status Code: ${error.status}, Error Code: ${error.code})`,
      );
    }
    throw error;
  }
}

/** The function's error as Step Functions reports it: the error type as name, the payload as cause. */
function functionError(result: InvokeResult): StatesError {
  let errorType = 'Lambda.Unknown';
  try {
    const document = JSON.parse(result.payload) as { errorType?: unknown };
    if (typeof document.errorType === 'string' && document.errorType.length > 0)
      errorType = document.errorType;
  } catch {
    errorType = 'Lambda.Unknown';
  }
  return new StatesError(errorType, result.payload);
}

function parsePayload(payload: string): unknown {
  if (payload.length === 0) return '';
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

async function lambdaIntegration(stateName: string, state: AslState, input: unknown, scope: TaskScope) {
  const described = { resourceType: 'lambda', resource: 'invoke' };
  const params = (input ?? {}) as Record<string, unknown>;
  const scheduled = scope.history.add(
    'TaskScheduled',
    { ...described, region: scope.region, parameters: json(params), ...scheduledLimits(state) },
    scope.history.enteredId(stateName),
  );
  const started = scope.history.add('TaskStarted', described, scheduled);
  try {
    if (typeof params.FunctionName !== 'string') {
      throw runtimeError("The Parameters of a lambda:invoke task must include a string 'FunctionName'");
    }
    const result = await invokeLambda(
      scope,
      params.FunctionName,
      'Payload' in params ? json(params.Payload) : '',
      {
        ...(typeof params.Qualifier === 'string' ? { qualifier: params.Qualifier } : {}),
        ...(typeof params.InvocationType === 'string' ? { invocationType: params.InvocationType } : {}),
      },
    );
    if (result.functionError) throw functionError(result);
    const headers = {
      'Content-Type': 'application/json',
      Date: new Date().toUTCString(),
      'X-Amz-Executed-Version': result.executedVersion,
      'x-amzn-RequestId': result.requestId,
    };
    const output = {
      ExecutedVersion: result.executedVersion,
      Payload: parsePayload(result.payload),
      SdkHttpMetadata: sdkHttpMetadata(headers, result.statusCode),
      SdkResponseMetadata: { RequestId: result.requestId },
      StatusCode: result.statusCode,
    };
    scope.history.add(
      'TaskSucceeded',
      { ...described, output: json(output), outputDetails: { truncated: false } },
      started,
    );
    return output;
  } catch (error) {
    const failure = error as Error;
    scope.history.add('TaskFailed', { ...described, error: failure.name, cause: failure.message }, started);
    throw error;
  }
}

async function lambdaFunction(
  stateName: string,
  state: AslState,
  arn: string,
  input: unknown,
  scope: TaskScope,
) {
  const scheduled = scope.history.add(
    'LambdaFunctionScheduled',
    { resource: arn, input: json(input), inputDetails: { truncated: false }, ...scheduledTimeout(state) },
    scope.history.enteredId(stateName),
  );
  const started = scope.history.add('LambdaFunctionStarted', undefined, scheduled);
  try {
    const result = await invokeLambda(scope, arn, json(input), {});
    if (result.functionError) throw functionError(result);
    const output = parsePayload(result.payload);
    scope.history.add(
      'LambdaFunctionSucceeded',
      { output: json(output), outputDetails: { truncated: false } },
      started,
    );
    return output;
  } catch (error) {
    const failure = error as Error;
    scope.history.add('LambdaFunctionFailed', { error: failure.name, cause: failure.message }, started);
    throw error;
  }
}

const PUBLISH_FIELDS = [
  'TopicArn',
  'TargetArn',
  'PhoneNumber',
  'Subject',
  'MessageStructure',
  'MessageAttributes',
  'MessageGroupId',
  'MessageDeduplicationId',
] as const;

async function snsPublish(
  stateName: string,
  state: AslState,
  service: string,
  input: unknown,
  scope: TaskScope,
) {
  const sdk = service.startsWith('aws-sdk:');
  const described = describeResource(String(state.Resource));
  const params = (input ?? {}) as Record<string, unknown>;
  const scheduled = scope.history.add(
    'TaskScheduled',
    { ...described, region: scope.region, parameters: json(params), ...scheduledLimits(state) },
    scope.history.enteredId(stateName),
  );
  const started = scope.history.add('TaskStarted', described, scheduled);
  const command: Record<string, unknown> = {
    Message: typeof params.Message === 'string' ? params.Message : json(params.Message),
  };
  for (const field of PUBLISH_FIELDS) if (params[field] !== undefined) command[field] = params[field];
  const arn = String(params.TopicArn ?? params.TargetArn ?? '');
  const region = /^arn:aws[\w-]*:sns:([\w-]+):/.exec(arn)?.[1] ?? scope.region;
  try {
    const response = await scope.engine
      .sns(region, scope.identity)
      .send(new PublishCommand(command as unknown as PublishCommandInput));
    const output = sdk
      ? {
          MessageId: response.MessageId,
          ...(response.SequenceNumber ? { SequenceNumber: response.SequenceNumber } : {}),
        }
      : {
          MessageId: response.MessageId,
          SdkHttpMetadata: { HttpStatusCode: response.$metadata.httpStatusCode ?? 200 },
          SdkResponseMetadata: { RequestId: response.$metadata.requestId },
        };
    scope.history.add(
      'TaskSucceeded',
      { ...described, output: json(output), outputDetails: { truncated: false } },
      started,
    );
    return output;
  } catch (error) {
    const failure = new StatesError(
      `${sdk ? 'Sns' : 'SNS'}.${(error as Error).name}`,
      (error as Error).message,
    );
    scope.history.add('TaskFailed', { ...described, error: failure.name, cause: failure.message }, started);
    throw failure;
  }
}

/** Sleeps for `ms`, ending early (without error) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A Wait state: waits as long as it says (times the time scale), then passes its input on. */
export async function runWait(state: AslState, input: unknown, scope: TaskScope): Promise<unknown> {
  let ms: number;
  if (typeof state.Seconds === 'number') {
    ms = state.Seconds * 1000;
  } else if (typeof state.Timestamp === 'string') {
    ms = Date.parse(state.Timestamp) - Date.now();
  } else if (typeof state.SecondsPath === 'string') {
    const seconds = referencePath(state.SecondsPath, input, scope.context);
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
      throw runtimeError(
        `The SecondsPath parameter does not reference a valid non-negative integer: ${state.SecondsPath} = ${json(seconds ?? null)}`,
      );
    }
    ms = seconds * 1000;
  } else if (typeof state.TimestampPath === 'string') {
    const timestamp = referencePath(state.TimestampPath, input, scope.context);
    const at = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
    if (Number.isNaN(at)) {
      throw runtimeError(
        `The TimestampPath parameter does not reference a valid ISO-8601 timestamp: ${state.TimestampPath} = ${json(timestamp ?? null)}`,
      );
    }
    ms = at - Date.now();
  } else {
    ms = 0;
  }
  await sleep(ms * scope.engine.timeScale, scope.signal);
  return input;
}
