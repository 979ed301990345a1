/**
 * The health alarms in the template watch exactly the metrics the health-check function emits:
 * same namespace, name and dimensions (a CloudWatch alarm on a metric with one dimension more or
 * less watches nothing).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../support/https-server.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { buildStack, exampleConfig } from '../support/stack.ts';

interface EmfMetric {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
}

let api: TestServer;
const emitted: EmfMetric[] = [];

/** Parses CloudWatch embedded-metric-format lines written to stdout. */
function captureEmf(chunk: unknown): void {
  for (const line of String(chunk).split('\n')) {
    if (!line.includes('"_aws"')) continue;
    const record = JSON.parse(line) as {
      _aws: {
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
      };
      [key: string]: unknown;
    };
    for (const directive of record._aws.CloudWatchMetrics) {
      const names = directive.Dimensions.flat();
      const dimensions = Object.fromEntries(names.map((name) => [name, String(record[name])]));
      for (const metric of directive.Metrics)
        emitted.push({ namespace: directive.Namespace, name: metric.Name, dimensions });
    }
  }
}

beforeAll(async () => {
  api = await startTestServer({ body: '{"status":"ok"}' });
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'Caretaker');
  vi.stubEnv(
    'HEALTH_CHECKS',
    JSON.stringify({ http: [{ name: 'api', url: `${api.url}/health`, samples: 1 }], backupFreshness: false }),
  );
  // Captured, not printed: the metrics are this test's data, not its output.
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    captureEmf(chunk);
    return true;
  });
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => captureEmf(args.join(' ')));
  const { handler } = await import('../../functions/health-check/handler.ts');
  await handler({}, fakeContext('health-check'));
  spy.mockRestore();
  log.mockRestore();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await api.close();
});

describe('health metrics contract', () => {
  it('has the function emit CheckStatus for the check', () => {
    expect(emitted.some((m) => m.name === 'CheckStatus' && m.dimensions.check === 'api')).toBe(true);
  });

  it('has every CheckStatus alarm for the check watch a metric the function emits', () => {
    const config = exampleConfig();
    config.healthChecks = {
      http: [{ name: 'api', url: 'https://api.example.com/health' }],
      backupFreshness: false,
    };
    const { template } = buildStack(config);
    const watched = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .flatMap((alarm) => {
        const p = alarm.Properties;
        return p.Metrics ? p.Metrics.map((m: any) => m.MetricStat?.Metric).filter(Boolean) : [p];
      })
      .filter((m: any) => m.MetricName === 'CheckStatus')
      .map((m: any) => ({
        namespace: m.Namespace,
        name: m.MetricName,
        dimensions: Object.fromEntries(m.Dimensions.map((d: any) => [d.Name, d.Value])),
      }));

    expect(watched.length).toBeGreaterThan(0);
    for (const metric of watched) {
      expect(emitted).toContainEqual(metric);
    }
  });

  it('has the not-reporting alarm watch the run-level Healthy metric the function emits', () => {
    const { template } = buildStack();
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.MetricName === 'Healthy',
    )!;
    const dimensions = Object.fromEntries(alarm.Properties.Dimensions.map((d: any) => [d.Name, d.Value]));

    expect(emitted).toContainEqual({ namespace: alarm.Properties.Namespace, name: 'Healthy', dimensions });
  });
});
