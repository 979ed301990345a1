/**
 * Latency statistics over a handful of samples.
 *
 * Percentiles use the nearest-rank method: the p-th percentile is a value that was actually
 * measured (with 5 samples, p95 is the slowest one), never an interpolation between two.
 */

export interface LatencyStats {
  readonly count: number;
  readonly minMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** The nearest-rank percentile `p` (0 < p ≤ 100) of `values`; undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1];
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Min, p50, p95, max and mean of `values` in ms (rounded to 0.1 ms); undefined for no values. */
export function latencyStats(values: readonly number[]): LatencyStats | undefined {
  if (values.length === 0) return undefined;
  const sum = values.reduce((total, value) => total + value, 0);
  return {
    count: values.length,
    minMs: round(Math.min(...values)),
    p50Ms: round(percentile(values, 50)!),
    p95Ms: round(percentile(values, 95)!),
    maxMs: round(Math.max(...values)),
    meanMs: round(sum / values.length),
  };
}
