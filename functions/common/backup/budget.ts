/**
 * Time budgets for resumable work. A call works until its soft deadline, then persists where it
 * got to and returns a continuation; the hard deadline (the Lambda timeout less a margin for
 * persisting) decides whether a single object can ever fit in one call.
 */

/** Default time kept back from the Lambda timeout to finish in-flight work and persist state. */
export const DEFAULT_SAFETY_MARGIN_MS = 60_000;

/** Throughput assumed when deciding whether an object fits in the time left (bytes per second). */
export const DEFAULT_ASSUMED_BYTES_PER_SECOND = 40 * 1024 * 1024;

/** Fixed cost assumed per object (requests, KMS) when deciding whether it fits. */
const PER_OBJECT_MS = 200;

export interface Budget {
  /** Epoch ms after which no new work starts. */
  readonly softDeadline: number;
  /** Epoch ms by which started work must be finished and persisted. */
  readonly hardDeadline: number;
  /** Time the call started, epoch ms. */
  readonly startedAt: number;
  readonly bytesPerSecond: number;
  /** Clock (injectable for tests). */
  readonly now: () => number;
}

export interface BudgetOptions {
  /** From `context.getRemainingTimeInMillis()`. */
  readonly remainingMs: number;
  readonly safetyMarginMs?: number;
  /** A shorter budget requested by the caller (tests, or a flow that wants frequent checkpoints). */
  readonly timeBudgetMs?: number;
  readonly bytesPerSecond?: number;
  readonly now?: () => number;
}

/** A budget from the Lambda's remaining time. */
export function budgetFrom(options: BudgetOptions): Budget {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const hard =
    startedAt + Math.max(0, options.remainingMs - (options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS));
  const soft = options.timeBudgetMs === undefined ? hard : Math.min(hard, startedAt + options.timeBudgetMs);
  return {
    softDeadline: soft,
    hardDeadline: hard,
    startedAt,
    bytesPerSecond: options.bytesPerSecond ?? DEFAULT_ASSUMED_BYTES_PER_SECOND,
    now,
  };
}

/** Whether the soft deadline has passed (no new work should start). */
export function expired(budget: Budget): boolean {
  return budget.now() >= budget.softDeadline;
}

/** Estimated milliseconds to stream `bytes`. */
export function estimateMs(budget: Budget, bytes: number): number {
  return PER_OBJECT_MS + (bytes / budget.bytesPerSecond) * 1000;
}

/** Whether an object of `bytes` can start now and finish before the hard deadline. */
export function fitsNow(budget: Budget, bytes: number): boolean {
  return budget.now() + estimateMs(budget, bytes) <= budget.hardDeadline;
}

/** Whether an object of `bytes` could fit in a whole call (false: it never will). */
export function fitsInACall(budget: Budget, bytes: number): boolean {
  return estimateMs(budget, bytes) <= budget.hardDeadline - budget.startedAt;
}
