/**
 * A read-only view of an ASL document (JSONPath flavour, as Caretaker's flows are written): every
 * state with the container it runs in, its transitions, Retry and Catch. Used to draw the flows
 * (diagram.ts), to check the contract between the flows and the functions (error names, Retry
 * lists) and to measure which Catch edges tests exercise.
 */

export interface AslRetrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
}

export interface AslCatcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
  readonly ResultPath?: string | null;
}

export interface AslChoiceRule {
  readonly Next?: string;
  readonly Variable?: string;
  readonly And?: readonly AslChoiceRule[];
  readonly Or?: readonly AslChoiceRule[];
  readonly Not?: AslChoiceRule;
  readonly [comparison: string]: unknown;
}

export interface AslState {
  readonly Type: string;
  readonly Comment?: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly AslChoiceRule[];
  readonly Retry?: readonly AslRetrier[];
  readonly Catch?: readonly AslCatcher[];
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly Error?: string;
  readonly Cause?: string;
  readonly Branches?: readonly AslMachine[];
  readonly ItemProcessor?: AslMachine;
  readonly Iterator?: AslMachine;
  readonly [field: string]: unknown;
}

export interface AslMachine {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

/** One state, located: its name is unique in the whole document, as AWS requires. */
export interface LocatedState {
  readonly name: string;
  readonly state: AslState;
  /** The Map or Parallel state whose iteration or branch runs it; undefined at the top. */
  readonly parent?: string;
  /** The first state of the machine, branch or iteration it belongs to. */
  readonly startAt: string;
}

/** The machines a Map or Parallel state runs (its iteration, or each branch). */
export function childMachines(state: AslState): AslMachine[] {
  if (state.Type === 'Parallel') return [...(state.Branches ?? [])];
  if (state.Type === 'Map') {
    const processor = state.ItemProcessor ?? state.Iterator;
    return processor ? [processor] : [];
  }
  return [];
}

/** Every state of the document, depth first, each with its container. */
export function statesOf(machine: AslMachine, parent?: string): LocatedState[] {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    { name, state, startAt: machine.StartAt, ...(parent ? { parent } : {}) },
    ...childMachines(state).flatMap((child) => statesOf(child, name)),
  ]);
}

/** The states each Choice rule (and Default) leads to. */
export function choiceTargets(state: AslState): string[] {
  return [
    ...(state.Choices ?? []).flatMap((rule) => (rule.Next ? [rule.Next] : [])),
    ...(state.Default ? [state.Default] : []),
  ];
}

/** A Catch edge: `from` catches errors matching `errors` (its catcher number `index`) and goes to `to`. */
export interface CatchEdge {
  readonly from: string;
  readonly index: number;
  readonly errors: readonly string[];
  readonly to: string;
}

/** Every Catch edge of the document. */
export function catchEdges(machine: AslMachine): CatchEdge[] {
  return statesOf(machine).flatMap(({ name, state }) =>
    (state.Catch ?? []).map((catcher, index) => ({
      from: name,
      index,
      errors: catcher.ErrorEquals,
      to: catcher.Next,
    })),
  );
}

/** `Retry`/`Catch` matching (AWS's rules): by name, `States.ALL`, and `States.TaskFailed` for all but timeouts. */
export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  return errorEquals.some(
    (name) =>
      name === error ||
      (name === 'States.ALL' && error !== 'States.Runtime' && error !== 'States.DataLimitExceeded') ||
      (name === 'States.TaskFailed' &&
        !['States.Timeout', 'States.Runtime', 'States.DataLimitExceeded'].includes(error)),
  );
}
