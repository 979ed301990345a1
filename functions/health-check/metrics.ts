/**
 * The health metrics (namespace `Caretaker`, default dimensions `service` and `function`), named
 * so alarms can be built on them; listed in docs/health-checks.md. Which points to publish is
 * pure; publishing goes through Powertools.
 */
import type { MetricUnit } from '@aws-lambda-powertools/metrics/types';
import { metrics } from '#common/runtime/observability';
import type { CheckStatus, HealthResult } from './evaluate.ts';
import { METRIC } from './metric-names.ts';

export { METRIC } from './metric-names.ts';

export const STATUS_VALUE: Readonly<Record<CheckStatus, number>> = { pass: 1, warn: 0.5, fail: 0 };

export interface MetricPoint {
  readonly name: (typeof METRIC)[keyof typeof METRIC];
  readonly unit: Extract<MetricUnit, 'None' | 'Milliseconds' | 'Percent' | 'Seconds' | 'Count'>;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

const numberAt = (evidence: Readonly<Record<string, unknown>>, ...path: string[]): number | undefined => {
  let value: unknown = evidence;
  for (const key of path)
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};

/**
 * The points for one result. A run with a `label` (a flow step, or any run with an event override)
 * carries it as an extra dimension, so checking a restored copy never moves the scheduled
 * checks' alarms.
 */
export function metricPoints(result: HealthResult, label?: string): MetricPoint[] {
  const extra: Record<string, string> = label ? { label } : {};
  const points: MetricPoint[] = [];
  for (const check of result.checks) {
    const dimensions = { ...extra, check: check.name, kind: check.kind };
    points.push({ name: METRIC.checkStatus, unit: 'None', value: STATUS_VALUE[check.status], dimensions });
    const add = (name: MetricPoint['name'], unit: MetricPoint['unit'], value: number | undefined) => {
      if (value !== undefined) points.push({ name, unit, value, dimensions });
    };
    if (check.kind === 'http') {
      add(METRIC.latencyP95, 'Milliseconds', numberAt(check.evidence, 'latency', 'p95Ms'));
      add(METRIC.errorRate, 'Percent', numberAt(check.evidence, 'errorRatePercent'));
    } else if (check.kind === 'tls') {
      add(METRIC.certDaysLeft, 'None', numberAt(check.evidence, 'daysLeft'));
    } else if (check.kind === 'logs') {
      add(METRIC.logErrorRate, 'Percent', numberAt(check.evidence, 'errorRatePercent'));
      add(METRIC.logErrors, 'Count', numberAt(check.evidence, 'errors'));
    } else if (check.kind === 'freshness') {
      add(METRIC.backupAgeSeconds, 'Seconds', numberAt(check.evidence, 'ageSeconds'));
    }
  }
  points.push(
    { name: METRIC.healthy, unit: 'None', value: result.status === 'healthy' ? 1 : 0, dimensions: extra },
    { name: METRIC.unhealthy, unit: 'None', value: result.status === 'unhealthy' ? 1 : 0, dimensions: extra },
  );
  return points;
}

/**
 * Per-check points are emitted at once, each with its own dimensions; run-level points (no `check`
 * dimension) go into the function's buffered metrics, flushed by the middleware after the invocation.
 */
export function publishMetrics(points: readonly MetricPoint[]): void {
  for (const point of points) {
    if ('check' in point.dimensions) {
      const single = metrics.singleMetric();
      single.addDimensions({ ...point.dimensions });
      single.addMetric(point.name, point.unit, point.value);
    } else {
      // An empty set would be emitted as a second, identical dimension set (double counting).
      if (Object.keys(point.dimensions).length > 0) metrics.addDimensions({ ...point.dimensions });
      metrics.addMetric(point.name, point.unit, point.value);
    }
  }
}
