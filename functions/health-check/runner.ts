/**
 * The check runner: every check runs concurrently under its own timeout (and the function's
 * remaining time), and every check yields a result — a probe that throws or hangs becomes a
 * `fail` with the reason, never a missing entry.
 */
import { performance } from 'node:perf_hooks';
import {
  type CheckKind,
  type CheckOutcome,
  type CheckResult,
  type HealthResult,
  rollUp,
} from './evaluate.ts';
import { describeError, ProbeTimeoutError } from './probes/errors.ts';

/** A check ready to run. */
export interface PlannedCheck {
  readonly name: string;
  readonly kind: CheckKind;
  /** What the check looks at (URL, host:port, identifier), for a summary when it yields nothing. */
  readonly target: string;
  /** The check's whole budget; the probe is cancelled through `signal` when it runs out. */
  readonly timeoutMs: number;
  readonly run: (signal: AbortSignal) => Promise<CheckOutcome>;
}

export interface RunOptions {
  /** Checks in flight at once. @default 256 */
  readonly concurrency?: number;
  /** Epoch ms by which every check must have finished (the Lambda deadline minus a margin). */
  readonly deadline?: number;
  readonly now?: () => Date;
}

function failed(check: PlannedCheck, reason: string, extra: Record<string, unknown> = {}): CheckOutcome {
  return {
    status: 'fail',
    summary: `${check.target}: check could not run (${reason})`,
    evidence: { target: check.target, error: reason, ...extra },
  };
}

/** Runs one check under its budget; always resolves. */
export async function runCheck(
  check: PlannedCheck,
  deadline = Number.POSITIVE_INFINITY,
): Promise<CheckResult> {
  const budget = Math.max(0, Math.min(check.timeoutMs, deadline - Date.now()));
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const outcome =
    budget === 0
      ? failed(check, 'no time left before the function deadline')
      : await Promise.race([
          // Through a promise, so a probe that throws before returning one is caught too.
          Promise.resolve()
            .then(() => check.run(controller.signal))
            .catch((error: unknown) => failed(check, describeError(error))),
          new Promise<CheckOutcome>((resolve) => {
            timer = setTimeout(() => {
              const timeout = new ProbeTimeoutError(budget);
              controller.abort(timeout);
              resolve(failed(check, describeError(timeout), { timeoutMs: budget }));
            }, budget);
          }),
        ]);
  clearTimeout(timer);
  return {
    name: check.name,
    kind: check.kind,
    ...outcome,
    durationMs: Math.round(performance.now() - started),
  };
}

/** Runs every check concurrently (at most `concurrency` at once), results in input order. */
export async function runChecks(
  checks: readonly PlannedCheck[],
  options: RunOptions = {},
): Promise<CheckResult[]> {
  const limit = Math.max(1, options.concurrency ?? 256);
  const results: CheckResult[] = new Array(checks.length);
  let next = 0;
  const worker = async () => {
    while (next < checks.length) {
      const index = next++;
      results[index] = await runCheck(checks[index]!, options.deadline);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, checks.length) }, worker));
  return results;
}

/** Runs the checks and rolls them up into one result. */
export async function evaluateChecks(
  checks: readonly PlannedCheck[],
  options: RunOptions & { readonly label?: string } = {},
): Promise<HealthResult> {
  const checkedAt = (options.now ?? (() => new Date()))();
  const started = performance.now();
  const results = await runChecks(checks, options);
  return {
    status: rollUp(results),
    checkedAt: checkedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    ...(options.label ? { label: options.label } : {}),
    checks: results,
  };
}
