/**
 * Progress lines of a running execution, from its history events as they arrive: each state as it
 * is entered, failed attempts that are retried, failures that a Catch hands to another state
 * (derived from the flow's ASL). Used by `caretaker run --follow` and `caretaker sandbox drill`.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { type AslMachine, catchEdges } from './asl.ts';

const FAILURES = ['TaskFailed', 'LambdaFunctionFailed', 'TaskTimedOut', 'LambdaFunctionTimedOut'];
const ATTEMPTS = ['TaskScheduled', 'LambdaFunctionScheduled'];

/**
 * Turns history events into progress lines: states entered, failed attempts that are retried,
 * failures a Catch hands to another state.
 */
export class ProgressNarrator {
  readonly states: string[] = [];
  #lastFailure = new Map<number, { state: string; error: string }>();
  #entered = new Map<number, string>();
  #caught: Map<string, Set<string>>;

  constructor(machine: AslMachine | undefined) {
    this.#caught = new Map();
    for (const edge of machine ? catchEdges(machine) : []) {
      const targets = this.#caught.get(edge.from) ?? new Set<string>();
      targets.add(edge.to);
      this.#caught.set(edge.from, targets);
    }
  }

  /** The lines an event adds. */
  lines(event: HistoryEvent, byId: ReadonlyMap<number, HistoryEvent>): string[] {
    const entered = event.stateEnteredEventDetails?.name;
    if (entered) {
      this.#entered.set(event.id!, entered);
      const failed = [...this.#lastFailure.values()].find((f) => this.#caught.get(f.state)?.has(entered));
      this.states.push(entered);
      if (failed) {
        this.#lastFailure.clear();
        return [`⚠ ${failed.state} failed (${failed.error}): handled by ${entered}`, `▶ ${entered}`];
      }
      return [`▶ ${entered}`];
    }
    const state = this.#stateOf(event, byId);
    if (FAILURES.includes(event.type!) && state) {
      const error =
        event.taskFailedEventDetails?.error ??
        event.lambdaFunctionFailedEventDetails?.error ??
        event.taskTimedOutEventDetails?.error ??
        event.lambdaFunctionTimedOutEventDetails?.error ??
        'an error';
      this.#lastFailure.set(event.id!, { state, error });
      return [];
    }
    if (ATTEMPTS.includes(event.type!) && state) {
      const earlier = [...this.#lastFailure.entries()].find(([, failure]) => failure.state === state);
      if (earlier) {
        this.#lastFailure.delete(earlier[0]);
        return [`↻ ${state}: retrying after ${earlier[1].error}`];
      }
    }
    return [];
  }

  #stateOf(event: HistoryEvent, byId: ReadonlyMap<number, HistoryEvent>): string | undefined {
    let current: HistoryEvent | undefined = event;
    for (let hops = 0; current && hops < 5; hops++) {
      const name = this.#entered.get(current.id!) ?? current.stateEnteredEventDetails?.name;
      if (name) return name;
      current = byId.get(current.previousEventId ?? -1);
    }
    return undefined;
  }
}
