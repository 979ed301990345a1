/**
 * Every metric the dashboard shows and every alarm watches in Caretaker's namespace is one a
 * function emits: same namespace, name and dimensions (a widget or alarm on a metric with one
 * dimension more or less shows or watches nothing — as the snapshot-quota widget did without
 * `snapshotType`). What is emitted is captured from the functions' own publishing code, run inside
 * each function's middleware stack under the name its handler file gives it, as CloudWatch's
 * embedded metric format on stdout. AWS/* metrics (Step Functions, Lambda) are AWS's own.
 */
import { readFileSync } from 'node:fs';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { publishCapacity } from '../../functions/capacity/metrics.ts';
import { caretakerHandler } from '../../functions/common/runtime/middleware.ts';
import type { CheckResult } from '../../functions/health-check/evaluate.ts';
import { metricPoints, publishMetrics } from '../../functions/health-check/metrics.ts';
import { publishSnapshotCount } from '../../functions/rds-snapshot/deps.ts';
import { publishStatistics } from '../../functions/task-statistics/metrics.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { buildStack, exampleConfig } from '../support/stack.ts';

// The shared Metrics instance reads these when its module is first imported (below).
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'Caretaker';
});

interface Metric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Record<string, string>;
}

const emitted: Metric[] = [];

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
      const dimensions = Object.fromEntries(directive.Dimensions.flat().map((n) => [n, String(record[n])]));
      for (const metric of directive.Metrics)
        emitted.push({ namespace: directive.Namespace, name: metric.Name, dimensions });
    }
  }
}

/** The name `functions/<folder>/handler.ts` runs under (its caretakerHandler's first argument). */
function handlerName(folder: string): string {
  const source = readFileSync(`functions/${folder}/handler.ts`, 'utf8');
  const name = /caretakerHandler\(\s*'([\w-]+)'/.exec(source)?.[1];
  if (!name) throw new Error(`functions/${folder}/handler.ts: no caretakerHandler('<name>', …)`);
  return name;
}

/** Runs `publish` as the function in `folder` runs its code, capturing what it emits. */
async function emit(folder: string, publish: () => unknown): Promise<void> {
  const name = handlerName(folder);
  const wrapped = caretakerHandler(name, z.object({}).passthrough(), async () => {
    await publish();
    return {};
  });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    captureEmf(chunk);
    return true;
  });
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => captureEmf(args.join(' ')));
  // Powertools' own notes (a dimension set twice across these runs, no buffered metrics) are not data.
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await wrapped({}, fakeContext(name));
  } finally {
    out.mockRestore();
    log.mockRestore();
    err.mockRestore();
  }
}

const check = (name: string, kind: CheckResult['kind'], evidence: Record<string, unknown>): CheckResult => ({
  name,
  kind,
  status: 'pass',
  summary: '',
  evidence,
  durationMs: 1,
});

/** The config the stack is built from: the example with a log check and an Aurora target, so every widget has metrics. */
function config() {
  const c = exampleConfig() as any;
  c.healthChecks.logs = [{ name: 'api-logs', logGroups: ['/aws/lambda/orders-api'] }];
  c.healthChecks.http[0].anomalyDetection = {};
  c.rdsTargets.push({ name: 'ledger', type: 'cluster', identifier: 'ledger-prod', retention: 'standard' });
  return c;
}

let template: ReturnType<typeof buildStack>['template'];
let stack: ReturnType<typeof buildStack>['stack'];

beforeAll(async () => {
  ({ template, stack } = buildStack(config()));
  const c = config();
  const checks = [
    ...c.healthChecks.http.map((h: { name: string }) =>
      check(h.name, 'http', { latency: { p95Ms: 120 }, errorRatePercent: 0 }),
    ),
    ...c.healthChecks.tls.map((t: { name: string }) => check(t.name, 'tls', { daysLeft: 80 })),
    ...c.healthChecks.rds.map((r: { name: string }) => check(r.name, 'rds', {})),
    ...c.healthChecks.logs.map((l: { name: string }) =>
      check(l.name, 'logs', { errorRatePercent: 1, errors: 2 }),
    ),
    ...c.backupSets.map((s: { name: string }) =>
      check(`backup-set:${s.name}`, 'freshness', { ageSeconds: 60 }),
    ),
    ...c.rdsTargets.map((t: { name: string }) =>
      check(`rds-target:${t.name}`, 'freshness', { ageSeconds: 60 }),
    ),
  ];
  await emit('health-check', () =>
    publishMetrics(
      metricPoints({ status: 'healthy', checkedAt: '2026-11-21T01:00:00Z', durationMs: 1, checks }),
    ),
  );
  await emit('rds-snapshot', () => {
    publishSnapshotCount('us-east-1', 'instance', 12);
    publishSnapshotCount('us-east-1', 'cluster', 3);
  });
  await emit('capacity', () =>
    publishCapacity({
      computedAt: '2026-11-21T01:00:00.000Z',
      lookbackDays: 14,
      warnDays: 30,
      criticalDays: 7,
      bottleneck: null,
      targets: c.rdsTargets.map((t: { name: string }) => ({
        target: t.name,
        type: 'instance',
        identifier: t.name,
        metric: 'FreeStorageSpace',
        growthBytesPerDay: 1,
        daysUntilFull: 40,
        points: 14,
        status: 'ok',
        summary: '',
      })),
    }),
  );
  await emit('task-statistics', () =>
    publishStatistics({
      days: 30,
      since: '2026-10-22T00:00:00.000Z',
      until: '2026-11-21T00:00:00.000Z',
      flows: ['RoutineMaintenance', 'Backup', 'Cleanup', 'Update', 'DisasterRecovery'].map((flow) => ({
        flow,
        executions: 1,
        truncated: false,
        tasks: [{ task: 'Report', runs: 1, successes: 1, failures: 0, retries: 0, meanMs: 10, maxMs: 10 }],
      })),
    }),
  );
  // The report function's metrics come from its handler: a drill run reported, S3 and SNS mocked.
  mockClient(S3Client)
    .on(GetObjectCommand)
    .rejects(Object.assign(new Error('no state'), { name: 'NoSuchKey', $metadata: {} }))
    .on(PutObjectCommand)
    .resolves({ ETag: '"e"' });
  mockClient(SNSClient).on(PublishCommand).resolves({ MessageId: 'm-1' });
  process.env.BACKUP_BUCKET = 'caretaker-backups';
  process.env.ALERT_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:alerts';
  process.env.CARETAKER_ENVIRONMENT = 'example';
  const { handler } = await import('../../functions/report/handler.ts');
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    captureEmf(chunk);
    return true;
  });
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => captureEmf(args.join(' ')));
  try {
    await handler(
      {
        flow: 'DisasterRecovery',
        startedAt: '2026-11-21T05:00:00Z',
        drill: { rtoSeconds: 600, rpoSeconds: 3600 },
      },
      fakeContext('report'),
    );
  } finally {
    out.mockRestore();
    log.mockRestore();
  }
}, 120_000);

/** `["Caretaker", "Name", "dim", "value", …, {options}]` widget entries, intrinsics as `*`. */
function dashboardMetrics(): Metric[] {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body = stack.resolve(dashboard!.Properties.DashboardBody);
  const text = (body['Fn::Join'][1] as unknown[])
    .map((part) => (typeof part === 'string' ? part : '*'))
    .join('');
  const widgets = JSON.parse(text).widgets as { properties: { metrics?: unknown[][] } }[];
  return widgets.flatMap((widget) =>
    (widget.properties.metrics ?? [])
      .filter((entry) => typeof entry[0] === 'string')
      .map((entry) => {
        const parts = entry.filter((part): part is string => typeof part === 'string');
        const [namespace, name, ...pairs] = parts;
        const dimensions: Record<string, string> = {};
        for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i]!] = pairs[i + 1]!;
        return { namespace: namespace!, name: name!, dimensions };
      }),
  );
}

function alarmMetrics(): Metric[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm'))
    .flatMap((alarm) => {
      const p = alarm.Properties;
      return p.Metrics ? p.Metrics.map((m: any) => m.MetricStat?.Metric).filter(Boolean) : [p];
    })
    .filter((m: any) => m.MetricName)
    .map((m: any) => ({
      namespace: m.Namespace,
      name: m.MetricName,
      dimensions: Object.fromEntries(
        (m.Dimensions ?? []).map((d: any) => [d.Name, typeof d.Value === 'string' ? d.Value : '*']),
      ),
    }));
}

/** Whether `metric` (`*` standing for a value known only at deploy time) is one that was emitted. */
const isEmitted = (metric: Metric) =>
  emitted.some(
    (e) =>
      e.namespace === metric.namespace &&
      e.name === metric.name &&
      Object.keys(e.dimensions).length === Object.keys(metric.dimensions).length &&
      Object.entries(metric.dimensions).every(
        ([k, v]) => k in e.dimensions && (v === '*' || e.dimensions[k] === v),
      ),
  );

describe('dashboard and alarm metrics contract', () => {
  it('finds Caretaker metrics on the dashboard, including the new figures', () => {
    const names = new Set(dashboardMetrics().map((m) => m.name));

    for (const name of [
      'ManualSnapshotCount',
      'DaysUntilFull',
      'LogErrorRate',
      'FlowTaskFailures',
      'FlowTaskRetries',
    ]) {
      expect(names.has(name), name).toBe(true);
    }
  });

  it('has every dashboard metric in the Caretaker namespace emitted by a function, dimension for dimension', () => {
    const shown = dashboardMetrics().filter((m) => m.namespace === 'Caretaker');

    expect(shown.filter((m) => !isEmitted(m))).toEqual([]);
  });

  it('has every alarm in the Caretaker namespace watch an emitted metric', () => {
    const watched = alarmMetrics().filter((m) => m.namespace === 'Caretaker');

    expect(watched.length).toBeGreaterThan(0);
    expect(watched.filter((m) => !isEmitted(m))).toEqual([]);
  });

  it('shows the manual snapshot count per kind, with the dimension rds-snapshot emits', () => {
    const snapshots = dashboardMetrics().filter((m) => m.name === 'ManualSnapshotCount');

    expect(snapshots.map((m) => m.dimensions.snapshotType).sort()).toEqual(['cluster', 'instance']);
  });
});
