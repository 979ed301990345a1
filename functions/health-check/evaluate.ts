/**
 * The health result and its roll-up: pure, so the rules are tested without any probe.
 *
 * Roll-up rules (docs/health-checks.md):
 * - any check `fail` → `unhealthy` (an availability failure: wrong status, refused, timed out,
 *   DNS failure, RDS not available, backup stale, error rate at or above 50 %, certificate expired);
 * - otherwise any check `warn` → `degraded` (a threshold breach while still serving: p95 latency,
 *   error rate above its threshold but under 50 %, certificate expiring soon, pending maintenance);
 * - otherwise `healthy` (including when no check is configured).
 */

export type CheckKind = 'http' | 'tls' | 'rds' | 'query' | 'freshness' | 'logs';
export type CheckStatus = 'pass' | 'warn' | 'fail';
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** What a probe decides about one check. */
export interface CheckOutcome {
  readonly status: CheckStatus;
  /** One line naming the endpoint and the measured value against its threshold. */
  readonly summary: string;
  /** Measured values, thresholds and errors. */
  readonly evidence: Readonly<Record<string, unknown>>;
}

/** One check in the result. */
export interface CheckResult extends CheckOutcome {
  readonly name: string;
  readonly kind: CheckKind;
  readonly durationMs: number;
}

export interface HealthResult {
  readonly status: HealthStatus;
  readonly checkedAt: string;
  readonly durationMs: number;
  /** The flow step's label (e.g. `post-restore`), when one was given. */
  readonly label?: string;
  readonly checks: readonly CheckResult[];
}

/** Error rate (percent) at or above which an HTTP check fails instead of warning. */
export const FAIL_ERROR_RATE_PERCENT = 50;

/** The overall status of a set of checks. */
export function rollUp(checks: readonly Pick<CheckResult, 'status'>[]): HealthStatus {
  if (checks.some((check) => check.status === 'fail')) return 'unhealthy';
  if (checks.some((check) => check.status === 'warn')) return 'degraded';
  return 'healthy';
}

/** True when `status` is at least as bad as `threshold`. */
export function isAtLeast(status: HealthStatus, threshold: Exclude<HealthStatus, 'healthy'>): boolean {
  return threshold === 'degraded' ? status !== 'healthy' : status === 'unhealthy';
}

/** One line per check that is not passing, worst first: for log lines, alerts and error messages. */
export function describeProblems(result: HealthResult): string[] {
  const order: Record<CheckStatus, number> = { fail: 0, warn: 1, pass: 2 };
  return [...result.checks]
    .filter((check) => check.status !== 'pass')
    .sort((a, b) => order[a.status] - order[b.status])
    .map((check) => `${check.status.toUpperCase()} ${check.kind} ${check.name}: ${check.summary}`);
}
