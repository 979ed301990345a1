/**
 * One execution: runs the prepared definition with aws-local-stepfunctions, hands the states the
 * sandbox runs itself (Tasks, Waits, Distributed Maps) to their handlers, turns the interpreter's
 * event log into AWS history events, and records the outcome as DescribeExecution reports it.
 */
import '../../core/polyfills.ts';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from 'aws-local-stepfunctions';
import type { PreparedMachine, TaskSpec } from './definition.ts';
import { runDistributedMap } from './distributed-map.ts';
import { HistoryLog, json } from './history.ts';
import type { Engine, ExecutionRecord, ExecutionStatus } from './model.ts';
import { referencePath } from './paths.ts';
import { describeResource } from './task-events.ts';
import { runResourceTask, runWait, type TaskScope } from './tasks.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface StartOptions {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  readonly region: string;
  /** JSON text. */
  readonly input: string;
  readonly roleArn: string;
  readonly definition: string;
  readonly prepared: PreparedMachine;
  readonly mapRunArn?: string;
  /** The parent named by the input's `AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`. */
  readonly startedBy?: string;
}

interface Outcome {
  readonly status: Exclude<ExecutionStatus, 'RUNNING'>;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

const TIMEOUT_CAUSE = 'The execution ran for longer than the specified maximum execution time.';

/** Starts an execution and returns its record at once; the run continues in the background. */
export function startExecution(engine: Engine, options: StartOptions): ExecutionRecord {
  const history = new HistoryLog();
  const record: ExecutionRecord = {
    executionArn: options.executionArn,
    stateMachineArn: options.stateMachineArn,
    stateMachineName: options.stateMachineName,
    name: options.name,
    region: options.region,
    input: options.input,
    startDate: new Date(),
    roleArn: options.roleArn,
    definition: options.definition,
    ...(options.mapRunArn !== undefined ? { mapRunArn: options.mapRunArn } : {}),
    ...(options.startedBy !== undefined ? { startedBy: options.startedBy } : {}),
    history,
    status: 'RUNNING',
    done: Promise.resolve(),
    stop: () => undefined,
  };
  history.add('ExecutionStarted', {
    input: options.input,
    inputDetails: { truncated: false },
    roleArn: options.roleArn,
  });
  engine.addExecution(record);
  record.done = run(engine, record, options.prepared).catch((error: unknown) => {
    // The interpreter itself broke: report it as the execution's failure rather than lose it.
    finish(record, {
      status: 'FAILED',
      error: 'States.Runtime',
      cause: String((error as Error)?.message ?? error),
    });
  });
  return record;
}

function finish(record: ExecutionRecord, outcome: Outcome): void {
  if (record.status !== 'RUNNING') return;
  record.status = outcome.status;
  record.stopDate = new Date();
  if (outcome.output !== undefined) record.output = outcome.output;
  if (outcome.error !== undefined) record.error = outcome.error;
  if (outcome.cause !== undefined) record.cause = outcome.cause;
  const errorFields = {
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    ...(outcome.cause !== undefined ? { cause: outcome.cause } : {}),
  };
  switch (outcome.status) {
    case 'SUCCEEDED':
      record.history.close('ExecutionSucceeded', {
        output: outcome.output,
        outputDetails: { truncated: false },
      });
      return;
    case 'FAILED':
      record.history.close('ExecutionFailed', errorFields);
      return;
    case 'ABORTED':
      record.history.close('ExecutionAborted', errorFields);
      return;
    case 'TIMED_OUT':
      record.history.close('ExecutionTimedOut', errorFields);
      return;
  }
}

async function run(engine: Engine, record: ExecutionRecord, prepared: PreparedMachine): Promise<void> {
  const controller = new AbortController();
  const context: Record<string, unknown> = {
    Execution: {
      Id: record.executionArn,
      Name: record.name,
      RoleArn: record.roleArn,
      StartTime: record.startDate.toISOString(),
      RedriveCount: 0,
      Input: JSON.parse(record.input) as Json,
    },
    StateMachine: { Id: record.stateMachineArn, Name: record.stateMachineName },
    // The interpreter has no per-state context; `$$.State.EnteredTime` reads the clock when it is
    // evaluated, which for a Choice or Pass (the states that read it) is when the state is entered.
    State: {
      get EnteredTime() {
        return new Date().toISOString();
      },
    },
  };
  const scope: TaskScope = {
    engine,
    identity: { roleArn: record.roleArn, stateMachineName: record.stateMachineName.split('/')[0] ?? '' },
    executionArn: record.executionArn,
    history: record.history,
    region: record.region,
    context,
    signal: controller.signal,
  };
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  for (const [stateName, spec] of prepared.tasks) {
    handlers[stateName] = (input) => runTask(stateName, spec, input, scope, record) as Promise<Json>;
  }
  const machine = new StateMachine(prepared.definition, { validationOptions: { noValidate: true } });
  // The interpreter stamps $$.Execution.StartTime itself as the run begins: take startDate at the
  // same moment so the two agree (this still runs before StartExecution answers).
  record.startDate = new Date();
  (context.Execution as Record<string, unknown>).StartTime = record.startDate.toISOString();
  const execution = machine.run(JSON.parse(record.input) as Json, {
    overrides: { taskResourceLocalHandlers: handlers },
    context,
  });
  let stopRequest: { error?: string; cause?: string } | undefined;
  record.stop = (error, cause) => {
    if (record.status !== 'RUNNING' || stopRequest) return;
    stopRequest = {
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
    };
    controller.abort();
    execution.abort();
  };
  const consumer = recordEvents(execution.eventLogs, record.history, prepared, context);

  let outcome: Outcome;
  try {
    const output = await execution.result;
    outcome = { status: 'SUCCEEDED', output: json(output) };
  } catch (error) {
    if (error instanceof ExecutionAbortedError) {
      outcome = { status: 'ABORTED', ...stopRequest };
    } else if (error instanceof ExecutionTimeoutError) {
      outcome = { status: 'TIMED_OUT', error: 'States.Timeout', cause: TIMEOUT_CAUSE };
    } else {
      const cause = error instanceof ExecutionError ? (error.cause as Error) : (error as Error);
      outcome = { status: 'FAILED', error: cause.name, cause: cause.message };
    }
  }
  await consumer;
  controller.abort();
  finish(record, outcome);
}

function runTask(
  stateName: string,
  spec: TaskSpec,
  input: unknown,
  scope: TaskScope,
  record: ExecutionRecord,
): Promise<unknown> {
  switch (spec.kind) {
    case 'resource':
      return runResourceTask(stateName, spec.state, input, scope);
    case 'wait':
      return runWait(spec.state, input, scope);
    case 'distributed-map':
      return runDistributedMap(stateName, spec.state, input, {
        ...scope,
        parent: record,
        startChild: (options) => startExecution(scope.engine, options),
      });
  }
}

type LibraryEvent = {
  type: string;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  parentState?: { name: string };
  index?: number;
  Error?: string;
  Cause?: unknown;
};

/** The number of items an inline Map state iterates over, for MapStateStarted. */
function mapLength(state: Record<string, unknown>, input: unknown, context: unknown): number | undefined {
  let effective = input;
  if ('InputPath' in state) {
    effective = state.InputPath === null ? {} : referencePath(String(state.InputPath), input, context);
  }
  const items =
    typeof state.ItemsPath === 'string' ? referencePath(state.ItemsPath, effective, context) : effective;
  return Array.isArray(items) ? items.length : undefined;
}

/** Translates the interpreter's event log into AWS history events, as they happen. */
async function recordEvents(
  events: AsyncGenerator<unknown>,
  history: HistoryLog,
  prepared: PreparedMachine,
  context: Record<string, unknown>,
): Promise<void> {
  const failed = new Set<string>();
  for await (const raw of events) {
    const event = raw as LibraryEvent;
    const state = event.state;
    const info = state ? prepared.states.get(state.name) : undefined;
    const type = info?.type ?? state?.type ?? '';
    const key = `${state?.name ?? ''}#${event.index ?? ''}`;
    switch (event.type) {
      case 'StateEntered':
        if (!state) break;
        failed.delete(key);
        history.add(`${type}StateEntered`, {
          name: state.name,
          input: json(state.input),
          inputDetails: { truncated: false },
        });
        if (type === 'Parallel') history.add('ParallelStateStarted');
        if (type === 'Map' && info && !info.distributed) {
          const length = mapLength(info.state, state.input, context);
          if (length !== undefined) history.add('MapStateStarted', { length });
        }
        break;
      case 'StateExited':
        if (!state || type === 'Fail') break;
        if (!failed.has(key) && type === 'Parallel') history.add('ParallelStateSucceeded');
        if (!failed.has(key) && type === 'Map' && info && !info.distributed) history.add('MapStateSucceeded');
        history.add(`${type}StateExited`, {
          name: state.name,
          output: json(state.output),
          outputDetails: { truncated: false },
        });
        break;
      case 'StateFailed': {
        if (!state) break;
        failed.add(key);
        if (type === 'Parallel') history.add('ParallelStateFailed');
        else if (type === 'Map') history.add('MapStateFailed');
        else if (type === 'Task' && event.Error === 'States.Timeout') {
          const resource = String(info?.state.Resource ?? '');
          const cause = typeof event.Cause === 'string' ? event.Cause : 'States.Timeout';
          if (/^arn:aws[\w-]*:lambda:/.test(resource)) {
            history.add('LambdaFunctionTimedOut', { error: 'States.Timeout', cause });
          } else {
            history.add('TaskTimedOut', { ...describeResource(resource), error: 'States.Timeout', cause });
          }
        }
        break;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        history.add(event.type, { name: event.parentState?.name, index: event.index });
        break;
      default:
        break;
    }
  }
}
