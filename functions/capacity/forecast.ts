/**
 * One RDS target's storage forecast from its CloudWatch history, pure: instances report
 * `FreeStorageSpace` (the used storage is the capacity minus it; storage autoscaling raises the
 * capacity to `MaxAllocatedStorage`), Aurora clusters `VolumeBytesUsed` (the volume grows by itself
 * up to the engine's limit).
 */
import type { CapacityEntry } from '#common/maintenance/maintenance-results';
import { capacityStatus, daysUntilFull, fitGrowth, type Point, type Thresholds } from './growth.ts';

const GIB = 1024 ** 3;

/** What is known of the target besides its metric. */
export interface StorageFacts {
  readonly target: string;
  readonly type: 'instance' | 'cluster';
  readonly identifier: string;
  /** Instances: allocated storage (GiB) and the autoscaling maximum, if set. */
  readonly allocatedGiB?: number;
  readonly maxAllocatedGiB?: number;
  /** Clusters: the volume limit (GiB). */
  readonly limitGiB?: number;
}

/** The metric to read for a target: its name and whether it measures free (instances) or used (clusters) storage. */
export function metricFor(type: 'instance' | 'cluster'): {
  readonly name: string;
  readonly measures: 'free' | 'used';
} {
  return type === 'instance'
    ? { name: 'FreeStorageSpace', measures: 'free' }
    : { name: 'VolumeBytesUsed', measures: 'used' };
}

const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

/** The forecast of one target from its daily points (oldest first or not: they are sorted here). */
export function forecast(
  facts: StorageFacts,
  points: readonly Point[],
  options: Thresholds & { readonly minDataPoints: number },
): CapacityEntry {
  const metric = metricFor(facts.type);
  const base = { target: facts.target, type: facts.type, identifier: facts.identifier, metric: metric.name };
  const capacityBytes =
    facts.type === 'instance'
      ? Math.max(facts.allocatedGiB ?? 0, facts.maxAllocatedGiB ?? 0) * GIB
      : (facts.limitGiB ?? 0) * GIB;
  const sorted = [...points].sort((a, b) => a.t - b.t);
  if (sorted.length < options.minDataPoints) {
    return {
      ...base,
      points: sorted.length,
      status: 'unknown',
      summary: `${sorted.length} daily point${sorted.length === 1 ? '' : 's'} of ${metric.name} (at least ${options.minDataPoints} needed): no forecast yet`,
      ...(capacityBytes > 0 ? { capacityBytes } : {}),
    };
  }
  // Used storage per day: for instances the capacity the instance has now minus its free space then
  // (allocated, without autoscaling headroom), so a rise in free space reads as shrinking usage.
  const allocatedBytes = (facts.allocatedGiB ?? 0) * GIB;
  const used = sorted.map((p) => ({
    t: p.t,
    value: metric.measures === 'free' ? allocatedBytes - p.value : p.value,
  }));
  const fit = fitGrowth(used)!;
  const latest = used.at(-1)!.value;
  const days = daysUntilFull(latest, capacityBytes, fit.slopePerDay);
  const status = capacityStatus(days, options);
  const growth = `${fit.slopePerDay >= 0 ? '+' : '−'}${gib(Math.abs(fit.slopePerDay))} a day`;
  const full =
    days === null
      ? 'not growing'
      : days === 0
        ? 'FULL'
        : `full in ${days < 1 ? '<1' : Math.floor(days)} days`;
  const autoscaling =
    facts.type === 'instance' && (facts.maxAllocatedGiB ?? 0) > (facts.allocatedGiB ?? 0)
      ? ` (autoscaling up to ${facts.maxAllocatedGiB} GiB)`
      : '';
  return {
    ...base,
    capacityBytes,
    usedBytes: Math.max(0, latest),
    freeBytes: capacityBytes - latest,
    growthBytesPerDay: fit.slopePerDay,
    daysUntilFull: days,
    points: sorted.length,
    status,
    summary: `${gib(Math.max(0, latest))} of ${gib(capacityBytes)} used${autoscaling}, ${growth} over ${sorted.length} days (fit r² ${fit.r2.toFixed(2)}): ${full}`,
  };
}
