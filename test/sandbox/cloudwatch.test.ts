/**
 * The sandbox's CloudWatch metrics, driven by the AWS SDK v3's CloudWatchClient (JSON 1.0 with
 * query-compatible errors): datapoints seeded as an AWS service publishes them, GetMetricData per
 * period and statistic, PutMetricData refusing the AWS/ namespaces, and IAM on a role's calls.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  ListMetricsCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { beforeAll, describe, expect, it } from 'vitest';
import { iamRegistryService } from '../../sandbox/iam-registry/index.ts';
import { type CloudWatchService, cloudWatchService } from '../../sandbox/services/cloudwatch/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import { roleSession } from './support-role.ts';

const handle = withSandbox([cloudWatchService, iamRegistryService], {
  settings: { iam: { enforcement: 'enforce' } },
});
let cloudwatch: CloudWatchClient;
const DAY = 86_400_000;
const START = Date.parse('2026-11-01T00:00:00Z');
const FREE = {
  Namespace: 'AWS/RDS',
  MetricName: 'FreeStorageSpace',
  Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders' }],
};

beforeAll(() => {
  cloudwatch = new CloudWatchClient({});
  const service = handle.sandbox.context.service<CloudWatchService>('monitoring')!;
  // Four samples a day for ten days: free storage falls by 1 GB a day, with a dip each day.
  service.putDatapoints(
    'us-east-1',
    { namespace: 'AWS/RDS', metricName: 'FreeStorageSpace', dimensions: FREE.Dimensions },
    Array.from({ length: 40 }, (_, i) => ({
      timestamp: START + Math.floor(i / 4) * DAY + (i % 4) * 6 * 3_600_000,
      value: 100e9 - Math.floor(i / 4) * 1e9 - (i % 4 === 3 ? 5e8 : 0),
    })),
  );
});

async function failure(promise: Promise<unknown>): Promise<Error & { Code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { Code?: string };
  }
  throw new Error('expected the call to fail');
}

describe('GetMetricData', () => {
  it('answers one value per period, newest first, with the statistic asked for', async () => {
    const out = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(START),
        EndTime: new Date(START + 3 * DAY),
        MetricDataQueries: [
          { Id: 'low', MetricStat: { Metric: FREE, Period: 86_400, Stat: 'Minimum' } },
          { Id: 'mean', MetricStat: { Metric: FREE, Period: 86_400, Stat: 'Average' } },
        ],
      }),
    );

    const [low, mean] = out.MetricDataResults!;
    expect(low!.Timestamps!.map((t) => t.toISOString())).toEqual([
      '2026-11-03T00:00:00.000Z',
      '2026-11-02T00:00:00.000Z',
      '2026-11-01T00:00:00.000Z',
    ]);
    expect(low!.Values).toEqual([97.5e9, 98.5e9, 99.5e9]);
    expect(mean!.Values).toEqual([97.875e9, 98.875e9, 99.875e9]);
    expect(low!.StatusCode).toBe('Complete');
  });

  it('answers nothing for a metric with other dimensions: dimensions are part of its identity', async () => {
    const out = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(START),
        EndTime: new Date(START + 10 * DAY),
        MetricDataQueries: [
          {
            Id: 'other',
            MetricStat: { Metric: { ...FREE, Dimensions: [] }, Period: 86_400, Stat: 'Minimum' },
          },
        ],
      }),
    );

    expect(out.MetricDataResults![0]!.Values).toEqual([]);
  });

  it('refuses metric math with the query-compatible error code', async () => {
    const error = await failure(
      cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(START),
          EndTime: new Date(START + DAY),
          MetricDataQueries: [{ Id: 'sum', Expression: 'SUM(METRICS())' }],
        }),
      ),
    );

    expect(error.name).toBe('InvalidParameterValueException');
    expect(error.Code).toBe('InvalidParameterValue');
  });
});

describe('PutMetricData', () => {
  it('stores custom metrics, listed and read back', async () => {
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'Caretaker',
        MetricData: [
          {
            MetricName: 'DaysUntilFull',
            Dimensions: [{ Name: 'target', Value: 'orders' }],
            Value: 42,
            Timestamp: new Date(START),
          },
        ],
      }),
    );

    const listed = await cloudwatch.send(new ListMetricsCommand({ Namespace: 'Caretaker' }));
    const read = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(START - DAY),
        EndTime: new Date(START + DAY),
        MetricDataQueries: [
          {
            Id: 'days',
            MetricStat: {
              Metric: {
                Namespace: 'Caretaker',
                MetricName: 'DaysUntilFull',
                Dimensions: [{ Name: 'target', Value: 'orders' }],
              },
              Period: 3600,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );

    expect(listed.Metrics).toEqual([
      {
        Namespace: 'Caretaker',
        MetricName: 'DaysUntilFull',
        Dimensions: [{ Name: 'target', Value: 'orders' }],
      },
    ]);
    expect(read.MetricDataResults![0]!.Values).toEqual([42]);
  });

  it('refuses the AWS/ namespaces, which only AWS services publish to', async () => {
    const error = await failure(
      cloudwatch.send(
        new PutMetricDataCommand({ Namespace: 'AWS/RDS', MetricData: [{ MetricName: 'X', Value: 1 }] }),
      ),
    );

    expect(error.Code).toBe('InvalidParameterValue');
  });
});

describe('IAM', () => {
  it('lets a role read metrics it is allowed to and refuses the publishing it is not', async () => {
    const { credentials } = roleSession(handle.sandbox, 'capacity-reader', [
      { Effect: 'Allow', Action: 'cloudwatch:GetMetricData', Resource: '*' },
      {
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': 'Caretaker' } },
      },
    ]);
    const role = new CloudWatchClient({ credentials });

    const read = await role.send(
      new GetMetricDataCommand({
        StartTime: new Date(START),
        EndTime: new Date(START + DAY),
        MetricDataQueries: [{ Id: 'free', MetricStat: { Metric: FREE, Period: 86_400, Stat: 'Minimum' } }],
      }),
    );
    const denied = await failure(
      role.send(
        new PutMetricDataCommand({ Namespace: 'Other', MetricData: [{ MetricName: 'X', Value: 1 }] }),
      ),
    );

    expect(read.MetricDataResults![0]!.Values).toEqual([99.5e9]);
    // Query-compatible: the SDK names the error by its Query code, as CloudWatch's Query API did.
    expect(denied.name).toBe('AccessDenied');
    expect(denied.Code).toBe('AccessDenied');
    expect(denied.message).toContain('cloudwatch:PutMetricData');
  });
});
