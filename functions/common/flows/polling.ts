/**
 * How the flows wait for long AWS operations (DESIGN §5): Wait states with growing intervals and an
 * attempt cap, never a tight loop. The intervals are computed here, handed to the flow in its
 * plan (`flow-input`), and the ASL walks them:
 *
 *   Wait (SecondsPath $.poll.wait) → status Task → Choice: done → on; attempt ≥ cap → TimeoutExceeded;
 *   else Pass { attempt + 1, wait = intervals[attempt] } → Wait.
 *
 * `attempt` numbers the poll being made (from 1), so the Pass picks the next wait at index
 * `attempt` and the flow gives up after exactly `cap` polls, having waited each interval once.
 *
 * so the schedule is one pure, tested function and not arithmetic spread over the state machines.
 */

/** A poll schedule: wait `intervals[i]` seconds before poll i+1; its length is the attempt cap. */
export interface PollSchedule {
  /** Seconds to wait before each poll, growing; the flow gives up after the last one. */
  readonly intervals: readonly number[];
  /** `intervals.length`, for the Choice that stops the loop. */
  readonly cap: number;
  /** The first wait, so the loop can start without indexing. */
  readonly wait: number;
  /** The number of the poll being made, from 1 (the flow increments it after each poll). */
  readonly attempt: 1;
}

export interface PollShape {
  /** The first wait. */
  readonly firstSeconds: number;
  /** Each wait is the previous one times this. */
  readonly factor: number;
  /** No wait is longer than this. */
  readonly maxSeconds: number;
  /** Give up once the waits add up to at least this. */
  readonly totalSeconds: number;
}

/** The waits of a schedule: geometric from `firstSeconds`, capped at `maxSeconds`, until `totalSeconds`. */
export function pollIntervals(shape: PollShape): number[] {
  const { firstSeconds, factor, maxSeconds, totalSeconds } = shape;
  if (!(firstSeconds >= 1 && factor >= 1 && maxSeconds >= firstSeconds && totalSeconds >= firstSeconds)) {
    throw new RangeError(`Invalid poll shape ${JSON.stringify(shape)}`);
  }
  const intervals: number[] = [];
  let wait = firstSeconds;
  let total = 0;
  while (total < totalSeconds) {
    const next = Math.min(Math.round(wait), maxSeconds);
    intervals.push(next);
    total += next;
    wait *= factor;
  }
  return intervals;
}

/** A schedule ready for the flow's `$.poll`. */
export function pollSchedule(shape: PollShape): PollSchedule {
  const intervals = pollIntervals(shape);
  return { intervals, cap: intervals.length, wait: intervals[0]!, attempt: 1 };
}

/**
 * The schedules of the operations Caretaker waits for. The totals are generous upper bounds (a
 * multi-terabyte snapshot or restore takes hours); the first waits are short so that small
 * databases are not kept waiting.
 */
export const POLL_SHAPES = {
  /** A manual snapshot becoming `available`. */
  snapshot: { firstSeconds: 30, factor: 2, maxSeconds: 300, totalSeconds: 8 * 3600 },
  /** A cross-region copy becoming `available` (or a copy slot freeing up). */
  snapshotCopy: { firstSeconds: 60, factor: 2, maxSeconds: 600, totalSeconds: 12 * 3600 },
  /** A restored instance or cluster becoming `available`. */
  restore: { firstSeconds: 60, factor: 2, maxSeconds: 300, totalSeconds: 8 * 3600 },
  /** An RDS modification (class, parameter group, engine version) being applied. */
  modify: { firstSeconds: 30, factor: 2, maxSeconds: 300, totalSeconds: 6 * 3600 },
  /** One rename of a switch-over (or its undo) settling. */
  rename: { firstSeconds: 15, factor: 2, maxSeconds: 120, totalSeconds: 2 * 3600 },
  /** A restored copy being deleted. */
  delete: { firstSeconds: 30, factor: 2, maxSeconds: 300, totalSeconds: 3 * 3600 },
} as const satisfies Record<string, PollShape>;

export type PolledOperation = keyof typeof POLL_SHAPES;

/** Every schedule, for a flow's plan. */
export function pollSchedules(): Record<PolledOperation, PollSchedule> {
  return Object.fromEntries(
    Object.entries(POLL_SHAPES).map(([operation, shape]) => [operation, pollSchedule(shape)]),
  ) as Record<PolledOperation, PollSchedule>;
}
