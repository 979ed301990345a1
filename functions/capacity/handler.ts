/**
 * capacity: the storage forecast of every RDS target (DESIGN §11). Reads the last
 * `capacity.lookbackDays` of daily storage metrics from CloudWatch (FreeStorageSpace for
 * instances, VolumeBytesUsed for Aurora clusters) in one GetMetricData call, fits the growth, and
 * returns days until full per target with its status against the thresholds; publishes
 * DaysUntilFull and StorageGrowthBytesPerDay per target. A target that cannot be read is reported
 * with its error; the others go on.
 */

import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { DBCluster, DBInstance, RDSClient } from '@aws-sdk/client-rds';
import { ENV } from '#common/contract';
import { type CapacityConfig, capacityConfig } from '#common/maintenance/maintenance-config';
import type { CapacityEntry, CapacityResult } from '#common/maintenance/maintenance-results';
import { findCluster, findInstance } from '#common/rds/rds-lookup';
import { type RdsTarget, rdsTargetsFromEnv } from '#common/rds/rds-targets';
import { cloudWatch, rds } from '#common/runtime/clients';
import { permanentErrorInfo } from '#common/runtime/error-info';
import { jsonEnv } from '#common/runtime/json-env';
import { caretakerHandler } from '#common/runtime/middleware';
import { logger } from '#common/runtime/observability';
import { forecast, metricFor, type StorageFacts } from './forecast.ts';
import type { Point } from './growth.ts';
import { type CapacityEvent, capacityEventSchema } from './input.ts';
import { publishCapacity } from './metrics.ts';

const TARGETS = rdsTargetsFromEnv();
const CAPACITY = jsonEnv(ENV.capacity, capacityConfig, '{}');
const DAY = 86_400_000;

export interface CapacityDeps {
  readonly rds: RDSClient;
  readonly cloudWatch: CloudWatchClient;
  readonly now: Date;
}

/** What RDS says of the target's storage; undefined with the reason when it cannot be read. */
async function factsOf(
  deps: CapacityDeps,
  target: RdsTarget,
  config: CapacityConfig,
): Promise<StorageFacts | { error: { name: string; message: string } }> {
  const base = { target: target.name, type: target.type, identifier: target.identifier };
  try {
    if (target.type === 'instance') {
      const db: DBInstance | undefined = await findInstance(deps.rds, target.identifier);
      if (!db)
        return {
          error: { name: 'NotFoundError', message: `DB instance ${target.identifier} does not exist` },
        };
      return {
        ...base,
        allocatedGiB: db.AllocatedStorage ?? 0,
        ...(db.MaxAllocatedStorage ? { maxAllocatedGiB: db.MaxAllocatedStorage } : {}),
      };
    }
    const cluster: DBCluster | undefined = await findCluster(deps.rds, target.identifier);
    if (!cluster)
      return { error: { name: 'NotFoundError', message: `DB cluster ${target.identifier} does not exist` } };
    return { ...base, limitGiB: config.auroraLimitGiB };
  } catch (error) {
    return { error: permanentErrorInfo(error) };
  }
}

/** The daily points of each target's metric over the lookback, from one GetMetricData call (paged). */
async function dailyPoints(
  deps: CapacityDeps,
  targets: readonly RdsTarget[],
  config: CapacityConfig,
): Promise<Map<string, Point[]>> {
  const end = deps.now.getTime();
  // Whole days: from midnight UTC lookbackDays ago.
  const start = Math.floor(end / DAY) * DAY - config.lookbackDays * DAY;
  const queries: MetricDataQuery[] = targets.map((target, index) => {
    const metric = metricFor(target.type);
    return {
      Id: `t${index}`,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/RDS',
          MetricName: metric.name,
          Dimensions: [
            {
              Name: target.type === 'instance' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier',
              Value: target.identifier,
            },
          ],
        },
        Period: 86_400,
        // The day's worst: the least free space, the most used.
        Stat: metric.measures === 'free' ? 'Minimum' : 'Maximum',
      },
    };
  });
  const points = new Map<string, Point[]>(targets.map((target) => [target.name, []]));
  let NextToken: string | undefined;
  do {
    const out = await deps.cloudWatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(start),
        EndTime: new Date(end),
        ScanBy: 'TimestampAscending',
        ...(NextToken ? { NextToken } : {}),
      }),
    );
    for (const result of out.MetricDataResults ?? []) {
      const target = targets[Number(result.Id?.slice(1))];
      if (!target) continue;
      const list = points.get(target.name)!;
      (result.Timestamps ?? []).forEach((timestamp, i) => {
        const value = result.Values?.[i];
        if (value !== undefined) list.push({ t: timestamp.getTime(), value });
      });
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return points;
}

/** The forecast of `targets` (every configured one by default). */
export async function computeCapacity(
  event: CapacityEvent,
  deps: CapacityDeps,
  targets: readonly RdsTarget[] = TARGETS,
  config: CapacityConfig = CAPACITY,
): Promise<CapacityResult> {
  const chosen = event.targets ? targets.filter((t) => event.targets!.includes(t.name)) : targets;
  const [facts, points] = await Promise.all([
    Promise.all(chosen.map((target) => factsOf(deps, target, config))),
    chosen.length > 0 ? dailyPoints(deps, chosen, config) : Promise.resolve(new Map<string, Point[]>()),
  ]);
  const entries: CapacityEntry[] = chosen.map((target, index) => {
    const known = facts[index]!;
    if ('error' in known) {
      return {
        target: target.name,
        type: target.type,
        identifier: target.identifier,
        metric: metricFor(target.type).name,
        points: 0,
        status: 'unknown',
        summary: `no forecast: ${known.error.name}: ${known.error.message}`,
        error: known.error,
      };
    }
    return forecast(known, points.get(target.name) ?? [], config);
  });
  const growing = entries.filter(
    (entry): entry is CapacityEntry & { daysUntilFull: number } => typeof entry.daysUntilFull === 'number',
  );
  const first = growing.sort((a, b) => a.daysUntilFull - b.daysUntilFull)[0];
  return {
    computedAt: deps.now.toISOString(),
    lookbackDays: config.lookbackDays,
    warnDays: config.warnDays,
    criticalDays: config.criticalDays,
    targets: entries,
    bottleneck: first ? { target: first.target, daysUntilFull: first.daysUntilFull } : null,
  };
}

export const handler = caretakerHandler(
  'capacity',
  capacityEventSchema(TARGETS.map((target) => target.name)),
  async (event) => {
    const result = await computeCapacity(event, { rds: rds(), cloudWatch: cloudWatch(), now: new Date() });
    publishCapacity(result);
    logger.info('Capacity forecast', {
      targets: result.targets.map((t) => ({
        target: t.target,
        status: t.status,
        daysUntilFull: t.daysUntilFull,
      })),
    });
    return result;
  },
);
