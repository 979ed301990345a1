/**
 * State machine definitions: validation (InvalidDefinition, as CreateStateMachine answers) and
 * preparation for the interpreter.
 *
 * aws-local-stepfunctions runs the ASL, but treats a DISTRIBUTED Map as inline, only sleeps in
 * Wait states with no way to scale them, and calls real AWS for Task states. Preparation rewrites
 * a copy of the definition (the file on disk is never touched) so that every Task state, every
 * Wait state and every DISTRIBUTED Map state becomes a Task state the sandbox runs itself
 * through the interpreter's per-state-name override hook; everything else (Choice, Pass,
 * Parallel, inline Map, Retry, Catch, paths) stays with the interpreter.
 */
import '../../core/polyfills.ts';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { AwsError } from '../../core/types.ts';
import { isNestedExecution } from './nested-execution.ts';

/** A state as written in the ASL (the fields the sandbox reads). */
export type AslState = Record<string, unknown> & { readonly Type: string };

/** What the sandbox runs in place of a state the interpreter would get wrong. */
export type TaskSpec =
  | { readonly kind: 'resource'; readonly resource: string; readonly state: AslState }
  | { readonly kind: 'wait'; readonly state: AslState }
  | { readonly kind: 'distributed-map'; readonly state: AslState };

export interface StateInfo {
  /** The state's type as written (a converted Wait is still a Wait). */
  readonly type: string;
  readonly distributed: boolean;
  readonly state: AslState;
}

export interface PreparedMachine {
  /** The rewritten copy the interpreter runs. */
  readonly definition: StateMachineDefinition;
  /** State name → what the sandbox runs for it (state names are unique across a definition). */
  readonly tasks: ReadonlyMap<string, TaskSpec>;
  /** State name → the state as written. */
  readonly states: ReadonlyMap<string, StateInfo>;
  /** Execution-level TimeoutSeconds, if any. */
  readonly timeoutSeconds?: number;
}

/** Resource markers for states the sandbox runs itself. */
export const SANDBOX_WAIT = 'arn:aws:states:::sandbox:wait';
export const SANDBOX_DISTRIBUTED_MAP = 'arn:aws:states:::sandbox:distributedMap';

/** setTimeout's ceiling (about 24.8 days), standing in for "no timeout". */
const NO_TIMEOUT_SECONDS = 2_147_483;

/**
 * Definitions already validated. asl-validator compiles its JSON schemas on every call (about half
 * a second of blocked event loop), so each distinct definition is validated once.
 */
const validated = new Map<string, StateMachineDefinition>();
const MAX_VALIDATED = 200;

/** Parses and validates a definition string, or throws InvalidDefinition like AWS does. */
export function parseDefinition(text: string): StateMachineDefinition {
  const known = validated.get(text);
  if (known) return structuredClone(known);
  const definition = validate(text);
  if (validated.size >= MAX_VALIDATED) validated.delete(validated.keys().next().value as string);
  validated.set(text, definition);
  return structuredClone(definition);
}

function validate(text: string): StateMachineDefinition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AwsError(
      'InvalidDefinition',
      `Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ${(error as Error).message}'`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AwsError(
      'InvalidDefinition',
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: expected an object'",
    );
  }
  try {
    // The interpreter's constructor runs asl-validator (schema, paths, ARNs, reachability, names).
    new StateMachine(parsed as StateMachineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
  } catch (error) {
    const detail = (error as Error).message.replace(
      /^State machine definition is invalid, see error\(s\) below:\s*/,
      '',
    );
    throw new AwsError(
      'InvalidDefinition',
      `Invalid State Machine Definition: '${detail.trim().replaceAll('\n', ', ')}'`,
    );
  }
  return parsed as StateMachineDefinition;
}

function isDistributed(state: AslState): boolean {
  if (state.Type !== 'Map') return false;
  const processor = state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined;
  return processor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}

function scaleRetry(retry: unknown, timeScale: number): unknown {
  if (!Array.isArray(retry) || timeScale === 1) return retry;
  return retry.map((retrier: Record<string, unknown>) => ({
    ...retrier,
    IntervalSeconds: ((retrier.IntervalSeconds as number | undefined) ?? 1) * timeScale,
    ...(typeof retrier.MaxDelaySeconds === 'number'
      ? { MaxDelaySeconds: retrier.MaxDelaySeconds * timeScale }
      : {}),
  }));
}

/** Copies the fields a state keeps when it becomes a sandbox-run Task. */
function pick(state: AslState, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (field in state) out[field] = state[field];
  return out;
}

const TRANSITION = ['Next', 'End', 'Comment'] as const;

interface Collector {
  readonly tasks: Map<string, TaskSpec>;
  readonly states: Map<string, StateInfo>;
  readonly timeScale: number;
}

function prepareStates(states: Record<string, AslState>, collector: Collector): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, state] of Object.entries(states)) {
    const distributed = isDistributed(state);
    collector.states.set(name, { type: state.Type, distributed, state });
    out[name] = prepareState(name, state, distributed, collector);
  }
  return out;
}

function prepareState(name: string, state: AslState, distributed: boolean, collector: Collector): unknown {
  const retry = 'Retry' in state ? { Retry: scaleRetry(state.Retry, collector.timeScale) } : {};
  switch (state.Type) {
    case 'Task': {
      collector.tasks.set(name, { kind: 'resource', resource: String(state.Resource), state });
      if (isNestedExecution(state.Resource)) {
        // The sandbox times these out itself, so that it can stop the child before the Task fails.
        const { TimeoutSecondsPath: _path, ...rest } = state;
        return { ...rest, ...retry, TimeoutSeconds: NO_TIMEOUT_SECONDS };
      }
      const hasTimeout = 'TimeoutSeconds' in state || 'TimeoutSecondsPath' in state;
      return { ...state, ...retry, ...(hasTimeout ? {} : { TimeoutSeconds: NO_TIMEOUT_SECONDS }) };
    }
    case 'Wait':
      collector.tasks.set(name, { kind: 'wait', state });
      return {
        Type: 'Task',
        Resource: SANDBOX_WAIT,
        ...pick(state, ['InputPath', 'OutputPath', ...TRANSITION]),
        TimeoutSeconds: NO_TIMEOUT_SECONDS,
      };
    case 'Map': {
      if (distributed) {
        collector.tasks.set(name, { kind: 'distributed-map', state });
        return {
          Type: 'Task',
          Resource: SANDBOX_DISTRIBUTED_MAP,
          ...pick(state, ['InputPath', 'ResultSelector', 'ResultPath', 'OutputPath', 'Catch', ...TRANSITION]),
          ...retry,
          TimeoutSeconds: NO_TIMEOUT_SECONDS,
        };
      }
      const processorField = 'ItemProcessor' in state ? 'ItemProcessor' : 'Iterator';
      const processor = state[processorField] as { States: Record<string, AslState> } & Record<
        string,
        unknown
      >;
      return {
        ...state,
        ...retry,
        [processorField]: { ...processor, States: prepareStates(processor.States, collector) },
      };
    }
    case 'Parallel': {
      const branches = (
        state.Branches as ({ States: Record<string, AslState> } & Record<string, unknown>)[]
      ).map((branch) => ({ ...branch, States: prepareStates(branch.States, collector) }));
      return { ...state, ...retry, Branches: branches };
    }
    default:
      return state;
  }
}

/**
 * Rewrites a validated definition for the interpreter. Nested Parallel branches and inline Map
 * processors are prepared with it; a DISTRIBUTED Map's processor is prepared on its own when its
 * child executions start. `timeScale` scales Wait durations (at run time) and Retry intervals.
 */
export function prepareDefinition(
  definition: { StartAt: string; States: Record<string, unknown>; TimeoutSeconds?: number } & Record<
    string,
    unknown
  >,
  timeScale = 1,
): PreparedMachine {
  const collector: Collector = { tasks: new Map(), states: new Map(), timeScale };
  const states = prepareStates(definition.States as Record<string, AslState>, collector);
  const prepared = { ...definition, States: states } as unknown as StateMachineDefinition;
  return {
    definition: prepared,
    tasks: collector.tasks,
    states: collector.states,
    ...(typeof definition.TimeoutSeconds === 'number' ? { timeoutSeconds: definition.TimeoutSeconds } : {}),
  };
}
