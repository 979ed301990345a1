/**
 * Per-task statistics from execution histories (DESIGN §11), pure.
 *
 * A run of a task is one entry into its Task state (`TaskStateEntered`). Every attempt of a run is
 * scheduled once (`TaskScheduled`) and ends once (succeeded, failed, timed out, failed to start);
 * each of these events leads back to its run's entry through `previousEventId`. So, per task:
 *
 * - runs: entries; successes: attempts that succeeded (a run ends at its first success);
 * - retries: attempts scheduled beyond each run's first (`scheduled − runs`);
 * - failures: runs that ended failed = failed attempts that were not retried
 *   (`failed attempts − retries`); a run stopped in flight (execution aborted) is neither;
 * - durations: from the entry to the run's last attempt's end.
 *
 * The counts only need each event's task, not its exact run, so they hold when concurrent Map
 * iterations of one task interleave; durations need the run, which AWS's `previousEventId` chain
 * gives exactly.
 */
import type { TaskStatistics } from '#common/maintenance/maintenance-results';

/** The fields of a GetExecutionHistory event this module reads. */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId?: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly stateEnteredEventDetails?: { readonly name?: string };
}

/** What one or more executions' histories say of one task. */
export interface TaskTally {
  readonly task: string;
  runs: number;
  scheduled: number;
  successes: number;
  failedAttempts: number;
  durations: number[];
}

const SCHEDULED = new Set(['TaskScheduled', 'LambdaFunctionScheduled']);
const SUCCESS = new Set(['TaskSucceeded', 'LambdaFunctionSucceeded']);
const FAILURE = new Set([
  'TaskFailed',
  'TaskTimedOut',
  'TaskSubmitFailed',
  'TaskStartFailed',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionStartFailed',
  'LambdaFunctionScheduleFailed',
]);
/** How far back an attempt's chain may go before it is given up on (a malformed history). */
const MAX_HOPS = 64;

/** The tallies of one execution's history, by task. */
export function taskTallies(events: readonly HistoryEvent[]): Map<string, TaskTally> {
  const byId = new Map(events.map((event) => [event.id, event]));
  const tallies = new Map<string, TaskTally>();
  const tally = (task: string) => {
    let found = tallies.get(task);
    if (!found) {
      found = { task, runs: 0, scheduled: 0, successes: 0, failedAttempts: 0, durations: [] };
      tallies.set(task, found);
    }
    return found;
  };
  /** The entry an event leads back to, when it is a Task state's. */
  const entryOf = (event: HistoryEvent): HistoryEvent | undefined => {
    let previous = event.previousEventId;
    for (let hops = 0; previous !== undefined && hops < MAX_HOPS; hops++) {
      const before = byId.get(previous);
      if (!before) return undefined;
      if (before.type.endsWith('StateEntered'))
        return before.type === 'TaskStateEntered' ? before : undefined;
      previous = before.previousEventId;
    }
    return undefined;
  };
  const ends = new Map<number, number>();
  for (const event of events) {
    if (event.type === 'TaskStateEntered') {
      tally(event.stateEnteredEventDetails?.name ?? '?').runs++;
      continue;
    }
    const scheduled = SCHEDULED.has(event.type);
    const success = SUCCESS.has(event.type);
    const failure = FAILURE.has(event.type);
    if (!scheduled && !success && !failure) continue;
    const entry = entryOf(event);
    if (!entry) continue;
    const counted = tally(entry.stateEnteredEventDetails?.name ?? '?');
    if (scheduled) counted.scheduled++;
    else {
      if (success) counted.successes++;
      else counted.failedAttempts++;
      ends.set(entry.id, Math.max(ends.get(entry.id) ?? 0, event.timestamp.getTime()));
    }
  }
  for (const [entryId, end] of ends) {
    const entry = byId.get(entryId)!;
    tally(entry.stateEnteredEventDetails?.name ?? '?').durations.push(end - entry.timestamp.getTime());
  }
  return tallies;
}

/** Statistics per task over the tallies of many executions, tasks in name order. */
export function aggregateTallies(executions: readonly Map<string, TaskTally>[]): TaskStatistics[] {
  const merged = new Map<string, TaskTally>();
  for (const tallies of executions) {
    for (const t of tallies.values()) {
      const into = merged.get(t.task) ?? {
        task: t.task,
        runs: 0,
        scheduled: 0,
        successes: 0,
        failedAttempts: 0,
        durations: [],
      };
      into.runs += t.runs;
      into.scheduled += t.scheduled;
      into.successes += t.successes;
      into.failedAttempts += t.failedAttempts;
      into.durations.push(...t.durations);
      merged.set(t.task, into);
    }
  }
  return [...merged.values()]
    .sort((a, b) => a.task.localeCompare(b.task))
    .map((t) => {
      const retries = Math.max(0, t.scheduled - t.runs);
      return {
        task: t.task,
        runs: t.runs,
        successes: t.successes,
        failures: Math.max(0, t.failedAttempts - retries),
        retries,
        meanMs: t.durations.length
          ? Math.round(t.durations.reduce((a, b) => a + b, 0) / t.durations.length)
          : null,
        maxMs: t.durations.length ? Math.max(...t.durations) : null,
      };
    });
}
