import { afterEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '../../../../functions/common/runtime/observability.ts';
import type { CheckResult, HealthResult } from '../../../../functions/health-check/evaluate.ts';
import { metricPoints, publishMetrics } from '../../../../functions/health-check/metrics.ts';

const check = (overrides: Partial<CheckResult>): CheckResult => ({
  name: 'api',
  kind: 'http',
  status: 'pass',
  summary: '',
  evidence: {},
  durationMs: 1,
  ...overrides,
});

const result = (status: HealthResult['status'], checks: CheckResult[]): HealthResult => ({
  status,
  checkedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1,
  checks,
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('metricPoints', () => {
  it('publishes CheckStatus per check (1 pass, 0.5 warn, 0 fail) with check and kind dimensions', () => {
    // Act
    const points = metricPoints(
      result('unhealthy', [
        check({ name: 'api', status: 'pass' }),
        check({ name: 'cert', kind: 'tls', status: 'warn' }),
        check({ name: 'db', kind: 'rds', status: 'fail' }),
      ]),
    ).filter((p) => p.name === 'CheckStatus');

    // Assess
    expect(points).toEqual([
      { name: 'CheckStatus', unit: 'None', value: 1, dimensions: { check: 'api', kind: 'http' } },
      { name: 'CheckStatus', unit: 'None', value: 0.5, dimensions: { check: 'cert', kind: 'tls' } },
      { name: 'CheckStatus', unit: 'None', value: 0, dimensions: { check: 'db', kind: 'rds' } },
    ]);
  });

  it('adds LogErrorRate and LogErrors for a log analysis check, and no rate when there were no events', () => {
    const points = metricPoints(
      result('degraded', [
        check({
          name: 'api-logs',
          kind: 'logs',
          status: 'warn',
          evidence: { errorRatePercent: 7.5, errors: 15 },
        }),
        check({ name: 'quiet-logs', kind: 'logs', evidence: { errorRatePercent: null, errors: 0 } }),
      ]),
    ).filter((p) => p.name !== 'CheckStatus' && 'check' in p.dimensions);

    expect(points.map((p) => [p.name, p.unit, p.value, p.dimensions])).toEqual([
      ['LogErrorRate', 'Percent', 7.5, { check: 'api-logs', kind: 'logs' }],
      ['LogErrors', 'Count', 15, { check: 'api-logs', kind: 'logs' }],
      ['LogErrors', 'Count', 0, { check: 'quiet-logs', kind: 'logs' }],
    ]);
  });

  it('adds the measured value of each kind: LatencyP95 and ErrorRate, CertDaysLeft, BackupAgeSeconds', () => {
    // Act
    const points = metricPoints(
      result('healthy', [
        check({ name: 'api', evidence: { latency: { p95Ms: 123.4 }, errorRatePercent: 0 } }),
        check({ name: 'cert', kind: 'tls', evidence: { daysLeft: 42.5 } }),
        check({ name: 'backup-set:uploads', kind: 'freshness', evidence: { ageSeconds: 3600 } }),
      ]),
    ).filter((p) => p.name !== 'CheckStatus');

    // Assess
    expect(points.map((p) => [p.name, p.unit, p.value, p.dimensions.check ?? null])).toEqual([
      ['LatencyP95', 'Milliseconds', 123.4, 'api'],
      ['ErrorRate', 'Percent', 0, 'api'],
      ['CertDaysLeft', 'None', 42.5, 'cert'],
      ['BackupAgeSeconds', 'Seconds', 3600, 'backup-set:uploads'],
      ['Healthy', 'None', 1, null],
      ['Unhealthy', 'None', 0, null],
    ]);
  });

  it('leaves out a value that was not measured (no response, no backup)', () => {
    // Act
    const points = metricPoints(
      result('unhealthy', [
        check({ name: 'api', status: 'fail', evidence: { latency: null, errorRatePercent: 100 } }),
        check({
          name: 'backup-set:uploads',
          kind: 'freshness',
          status: 'fail',
          evidence: { ageSeconds: null },
        }),
      ]),
    );

    // Assess
    expect(points.map((p) => p.name)).toEqual([
      'CheckStatus',
      'ErrorRate',
      'CheckStatus',
      'Healthy',
      'Unhealthy',
    ]);
  });

  it('marks an unhealthy run Healthy 0 / Unhealthy 1 and a degraded one 0 / 0', () => {
    // Act
    const unhealthy = metricPoints(result('unhealthy', [])).map((p) => p.value);
    const degraded = metricPoints(result('degraded', [])).map((p) => p.value);

    // Assess
    expect(unhealthy).toEqual([0, 1]);
    expect(degraded).toEqual([0, 0]);
  });

  it('adds the label dimension to every point of a labelled run', () => {
    // Act
    const points = metricPoints(result('healthy', [check({})]), 'post-restore');

    // Assess
    expect(points.every((p) => p.dimensions.label === 'post-restore')).toBe(true);
  });
});

describe('publishMetrics', () => {
  it('emits each check point at once with its own dimensions, and buffers the run points for the middleware', () => {
    // Prepare
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });

    // Act
    publishMetrics(metricPoints(result('healthy', [check({ name: 'api' })]), 'post-restore'));
    const buffered = metrics.serializeMetrics();
    metrics.clearMetrics();
    metrics.clearDimensions();

    // Assess
    const documents = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(documents).toHaveLength(1);
    expect(documents[0]).toMatchObject({
      CheckStatus: 1,
      check: 'api',
      kind: 'http',
      label: 'post-restore',
      service: 'caretaker',
    });
    const emf = documents[0]?._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
    const directive = emf.CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe('Caretaker');
    expect(directive?.Dimensions[0]).toEqual(expect.arrayContaining(['service', 'check', 'kind', 'label']));
    expect(buffered).toMatchObject({ Healthy: 1, Unhealthy: 0, label: 'post-restore' });
    expect(buffered).not.toHaveProperty('check');
  });
});
