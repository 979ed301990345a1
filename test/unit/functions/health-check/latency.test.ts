import { describe, expect, it } from 'vitest';
import { latencyStats, percentile } from '../../../../functions/health-check/latency.ts';

describe('percentile (nearest rank)', () => {
  it('takes the slowest of five samples as p95 and the middle one as p50', () => {
    expect(percentile([50, 10, 40, 20, 30], 95)).toBe(50);
    expect(percentile([50, 10, 40, 20, 30], 50)).toBe(30);
  });

  it('takes the 95th of 100 samples as p95', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 95)).toBe(95);
  });

  it('has no percentile for no samples', () => {
    expect(percentile([], 95)).toBeUndefined();
  });

  it('rejects a percentile outside (0, 100]', () => {
    expect(() => percentile([1], 0)).toThrow(RangeError);
  });
});

describe('latencyStats', () => {
  it('summarises samples rounded to 0.1 ms', () => {
    expect(latencyStats([10.04, 20.06, 30])).toEqual({
      count: 3,
      minMs: 10,
      p50Ms: 20.1,
      p95Ms: 30,
      maxMs: 30,
      meanMs: 20,
    });
  });
});
