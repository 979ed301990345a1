/**
 * functions/capacity/handler.ts: the forecast of every configured target from the sandbox's
 * CloudWatch (seeded as RDS publishes its metrics) in one GetMetricData call, with RDS described
 * through aws-sdk-client-mock: days until full per target, the bottleneck, a missing instance
 * reported without stopping the others, and the metrics it publishes.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { rdsTarget } from '#common/config/config-sections';
import { capacityConfig } from '#common/maintenance/maintenance-config';
import { computeCapacity } from '../../../../functions/capacity/handler.ts';
import { type CloudWatchService, cloudWatchService } from '../../../../sandbox/services/cloudwatch/index.ts';
import { withSandbox } from '../../../support/sandbox.ts';

const handle = withSandbox([cloudWatchService]);
const DAY = 86_400_000;
const GIB = 1024 ** 3;
const NOW = new Date('2026-11-21T01:00:00Z');
const targets = [
  rdsTarget.parse({ name: 'orders', identifier: 'orders-prod', retention: 'standard' }),
  rdsTarget.parse({ name: 'ledger', type: 'cluster', identifier: 'ledger-prod', retention: 'standard' }),
  rdsTarget.parse({ name: 'gone', identifier: 'gone-prod', retention: 'standard' }),
];
const config = capacityConfig.parse({ lookbackDays: 7 });

const rds = mockClient(RDSClient);

beforeAll(() => {
  const cloudwatch = handle.sandbox.context.service<CloudWatchService>('monitoring')!;
  const days = Array.from({ length: 10 }, (_, i) => NOW.getTime() - (10 - i) * DAY + 3_600_000);
  // orders: 100 GiB allocated, free space falls 1 GiB a day to 20 GiB (older points outside the lookback).
  cloudwatch.putDatapoints(
    'us-east-1',
    {
      namespace: 'AWS/RDS',
      metricName: 'FreeStorageSpace',
      dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-prod' }],
    },
    days.map((timestamp, i) => ({ timestamp, value: (29 - i) * GIB })),
  );
  // ledger: the volume grows 10 GiB a day.
  cloudwatch.putDatapoints(
    'us-east-1',
    {
      namespace: 'AWS/RDS',
      metricName: 'VolumeBytesUsed',
      dimensions: [{ Name: 'DBClusterIdentifier', Value: 'ledger-prod' }],
    },
    days.map((timestamp, i) => ({ timestamp, value: (1000 + 10 * i) * GIB })),
  );
  rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-prod' }).resolves({
    DBInstances: [{ DBInstanceIdentifier: 'orders-prod', AllocatedStorage: 100 }],
  });
  rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'gone-prod' }).rejects(
    Object.assign(new Error('DBInstance gone-prod not found.'), {
      name: 'DBInstanceNotFoundFault',
      $metadata: {},
    }),
  );
  rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ DBClusterIdentifier: 'ledger-prod' }] });
});

describe('computeCapacity', () => {
  it('forecasts each target from its lookback days and names the bottleneck', async () => {
    const result = await computeCapacity(
      {},
      { rds: new RDSClient({}), cloudWatch: new CloudWatchClient({}), now: NOW },
      targets,
      config,
    );

    const [orders, ledger, gone] = result.targets;
    expect(orders).toMatchObject({ target: 'orders', status: 'warning', points: 7, usedBytes: 80 * GIB });
    expect(orders!.daysUntilFull).toBeCloseTo(20, 6);
    expect(ledger).toMatchObject({ target: 'ledger', status: 'ok', usedBytes: 1090 * GIB });
    expect(ledger!.daysUntilFull).toBeCloseTo((131_072 - 1090) / 10, 6);
    expect(gone).toMatchObject({ target: 'gone', status: 'unknown', error: { name: 'NotFoundError' } });
    expect(result.bottleneck).toEqual({ target: 'orders', daysUntilFull: orders!.daysUntilFull });
  });

  it('forecasts only the targets named', async () => {
    const result = await computeCapacity(
      { targets: ['ledger'] },
      { rds: new RDSClient({}), cloudWatch: new CloudWatchClient({}), now: NOW },
      targets,
      config,
    );

    expect(result.targets.map((t) => t.target)).toEqual(['ledger']);
  });
});
