/**
 * Which Catch edges and Retry rules of a state machine the tests exercised, derived from the ASL
 * file and the executions' histories (never listed by hand): a per-path test file runs its flow
 * down every path and then asserts that no Catch edge was left untried.
 *
 * A task failure is attributed to its state through the history's event links (failed → started
 * → scheduled → state entered). A failure followed by another attempt of the same state entry was
 * retried (by the first Retry rule matching its error); the last one was final and is caught by
 * the first matching Catch rule of that state or, failing one, of the Map or Parallel state that
 * runs it, and so on outwards — as Step Functions does it.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import {
  type AslMachine,
  type CatchEdge,
  catchEdges,
  errorMatches,
  type LocatedState,
  statesOf,
} from '../../../lib/flows/asl.ts';

export interface Exercised {
  /** `<state>.Catch[<i>]` of every Catch rule that caught an error. */
  readonly catches: Set<string>;
  /** `<state>.Retry[<i>]` of every Retry rule that retried an error. */
  readonly retries: Set<string>;
}

const FAILURE_TYPES = new Set([
  'TaskFailed',
  'LambdaFunctionFailed',
  'TaskTimedOut',
  'LambdaFunctionTimedOut',
]);
const ATTEMPT_TYPES = new Set(['TaskScheduled', 'LambdaFunctionScheduled']);

function failureOf(event: HistoryEvent): string | undefined {
  return (
    event.taskFailedEventDetails?.error ??
    event.lambdaFunctionFailedEventDetails?.error ??
    event.taskTimedOutEventDetails?.error ??
    event.lambdaFunctionTimedOutEventDetails?.error ??
    undefined
  );
}

/** The value at a simple JSONPath (`$.a.b`) of `input`. */
function at(input: unknown, path: string): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], input);
}

export function catchKey(edge: Pick<CatchEdge, 'from' | 'index'>): string {
  return `${edge.from}.Catch[${edge.index}]`;
}

/** Records, into `into`, what one execution's history exercised. */
export function record(machine: AslMachine, history: readonly HistoryEvent[], into: Exercised): void {
  const states = new Map<string, LocatedState>(statesOf(machine).map((s) => [s.name, s]));
  const byId = new Map(history.map((event) => [event.id!, event]));
  const enteredOf = (event: HistoryEvent): HistoryEvent | undefined => {
    let current: HistoryEvent | undefined = event;
    for (let hops = 0; current && hops < 5; hops++) {
      if (current.stateEnteredEventDetails?.name) return current;
      current = byId.get(current.previousEventId ?? -1);
    }
    return undefined;
  };
  const propagate = (from: string, error: string) => {
    let name: string | undefined = from;
    while (name) {
      const located = states.get(name);
      if (!located) return;
      const index = (located.state.Catch ?? []).findIndex((catcher) =>
        errorMatches(catcher.ErrorEquals, error),
      );
      if (index >= 0) {
        into.catches.add(catchKey({ from: name, index }));
        return;
      }
      name = located.parent;
    }
  };

  const attemptsAfter = (entered: HistoryEvent, failure: HistoryEvent) =>
    history.some(
      (event) =>
        ATTEMPT_TYPES.has(event.type!) && event.previousEventId === entered.id && event.id! > failure.id!,
    );

  for (const event of history) {
    const error = FAILURE_TYPES.has(event.type!) ? failureOf(event) : undefined;
    if (error !== undefined) {
      const entered = enteredOf(event);
      const name = entered?.stateEnteredEventDetails?.name;
      const located = name ? states.get(name) : undefined;
      if (!entered || !located) continue;
      if (attemptsAfter(entered, event)) {
        const index = (located.state.Retry ?? []).findIndex((retrier) =>
          errorMatches(retrier.ErrorEquals, error),
        );
        if (index >= 0) into.retries.add(`${located.name}.Retry[${index}]`);
      } else {
        propagate(located.name, error);
      }
      continue;
    }
    // A Fail state inside a Map iteration or Parallel branch fails it with the Fail state's error.
    const name = event.type === 'FailStateEntered' ? event.stateEnteredEventDetails?.name : undefined;
    const located = name ? states.get(name) : undefined;
    if (located?.parent) {
      const input = JSON.parse(event.stateEnteredEventDetails?.input ?? 'null') as unknown;
      const errorPath = located.state.ErrorPath as string | undefined;
      const failError =
        located.state.Error ?? (errorPath ? String(at(input, errorPath)) : 'States.TaskFailed');
      propagate(located.parent, failError);
    }
  }
}

/** A fresh, empty record. */
export function exercised(): Exercised {
  return { catches: new Set(), retries: new Set() };
}

/** The Catch rules of `machine` that `seen` never exercised, as `<state>.Catch[<i>] → <next>`. */
export function untriedCatches(machine: AslMachine, seen: Exercised): string[] {
  return catchEdges(machine)
    .filter((edge) => !seen.catches.has(catchKey(edge)))
    .map((edge) => `${catchKey(edge)} [${edge.errors.join(', ')}] → ${edge.to}`);
}

/** The Retry rules of `machine` that `seen` never exercised. */
export function untriedRetries(machine: AslMachine, seen: Exercised): string[] {
  return statesOf(machine).flatMap(({ name, state }) =>
    (state.Retry ?? [])
      .map((retrier, index) => ({ key: `${name}.Retry[${index}]`, retrier }))
      .filter(({ key }) => !seen.retries.has(key))
      .map(({ key, retrier }) => `${key} [${retrier.ErrorEquals.join(', ')}]`),
  );
}
