/**
 * The sandbox's CloudWatch metric store: datapoints per metric (namespace, name, dimensions, region)
 * and the statistics GetMetricData computes over them, per period. Pure apart from the state file
 * it is kept in.
 */
import { join } from 'node:path';
import { readStateFile, writeStateFile } from '../../core/state-file.ts';

export interface Dimension {
  readonly Name: string;
  readonly Value: string;
}

/** One metric, as CloudWatch identifies it: namespace, name and the exact set of dimensions. */
export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
}

/** One published value (or a statistic set: `count` values summing to `sum`). */
export interface Sample {
  /** Epoch milliseconds. */
  readonly t: number;
  readonly sum: number;
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

export const STATISTICS = ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'] as const;
export type Statistic = (typeof STATISTICS)[number];

interface StoredMetric extends MetricIdentity {
  readonly region: string;
  samples: Sample[];
}

/** Dimensions in a canonical order, so `{a, b}` and `{b, a}` are the same metric. */
function canonical(dimensions: readonly Dimension[]): Dimension[] {
  return [...dimensions].sort((x, y) => x.Name.localeCompare(y.Name));
}

function keyOf(region: string, metric: MetricIdentity): string {
  return JSON.stringify([region, metric.namespace, metric.metricName, canonical(metric.dimensions)]);
}

/** Aggregates samples into one value of `statistic`. */
export function statisticOf(samples: readonly Sample[], statistic: Statistic): number {
  const sum = samples.reduce((total, sample) => total + sample.sum, 0);
  const count = samples.reduce((total, sample) => total + sample.count, 0);
  switch (statistic) {
    case 'Sum':
      return sum;
    case 'SampleCount':
      return count;
    case 'Average':
      return sum / count;
    case 'Minimum':
      return Math.min(...samples.map((sample) => sample.min));
    case 'Maximum':
      return Math.max(...samples.map((sample) => sample.max));
  }
}

/**
 * One value per period with samples in [start, end), each stamped with its period's start. Periods
 * are aligned to multiples of the period since the epoch (a 1-day period starts at 00:00 UTC).
 */
export function aggregate(
  samples: readonly Sample[],
  options: {
    readonly start: number;
    readonly end: number;
    readonly periodSeconds: number;
    readonly statistic: Statistic;
  },
): { timestamp: number; value: number }[] {
  const period = options.periodSeconds * 1000;
  const buckets = new Map<number, Sample[]>();
  for (const sample of samples) {
    if (sample.t < options.start || sample.t >= options.end) continue;
    const bucket = Math.floor(sample.t / period) * period;
    const list = buckets.get(bucket) ?? [];
    list.push(sample);
    buckets.set(bucket, list);
  }
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([timestamp, list]) => ({ timestamp, value: statisticOf(list, options.statistic) }));
}

/** The metrics of one sandbox, kept in `<dataDir>/cloudwatch/metrics.json`. */
export class MetricStore {
  private readonly metrics = new Map<string, StoredMetric>();
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'cloudwatch', 'metrics.json');
    const stored = readStateFile(this.file) as StoredMetric[] | undefined;
    for (const metric of stored ?? []) this.metrics.set(keyOf(metric.region, metric), metric);
  }

  /** Adds samples to a metric (created on first use). */
  put(region: string, metric: MetricIdentity, samples: readonly Sample[]): void {
    const key = keyOf(region, metric);
    const stored = this.metrics.get(key) ?? {
      region,
      namespace: metric.namespace,
      metricName: metric.metricName,
      dimensions: canonical(metric.dimensions),
      samples: [],
    };
    stored.samples.push(...samples);
    this.metrics.set(key, stored);
    writeStateFile(this.file, [...this.metrics.values()]);
  }

  /** The samples of exactly this metric (same dimensions), or none. */
  samples(region: string, metric: MetricIdentity): readonly Sample[] {
    return this.metrics.get(keyOf(region, metric))?.samples ?? [];
  }

  /** The metrics of a region matching the filters (ListMetrics). */
  list(
    region: string,
    filter: {
      namespace?: string;
      metricName?: string;
      dimensions?: readonly { Name: string; Value?: string }[];
    },
  ): MetricIdentity[] {
    return [...this.metrics.values()]
      .filter(
        (metric) =>
          metric.region === region &&
          (filter.namespace === undefined || metric.namespace === filter.namespace) &&
          (filter.metricName === undefined || metric.metricName === filter.metricName) &&
          (filter.dimensions ?? []).every((wanted) =>
            metric.dimensions.some(
              (d) => d.Name === wanted.Name && (wanted.Value === undefined || d.Value === wanted.Value),
            ),
          ),
      )
      .map(({ namespace, metricName, dimensions }) => ({ namespace, metricName, dimensions }));
  }
}
