/** functions/capacity/growth.ts and forecast.ts: the fitted growth, days until full and the status. Pure. */
import { describe, expect, it } from 'vitest';
import { forecast } from '../../../../functions/capacity/forecast.ts';
import { capacityStatus, daysUntilFull, fitGrowth } from '../../../../functions/capacity/growth.ts';

const DAY = 86_400_000;
const GIB = 1024 ** 3;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const daily = (values: number[]) => values.map((value, i) => ({ t: T0 + i * DAY, value }));
const thresholds = { warnDays: 30, criticalDays: 7, minDataPoints: 3 };

describe('fitGrowth', () => {
  it('recovers the slope and intercept of points on a line exactly', () => {
    const fit = fitGrowth(daily([10, 13, 16, 19, 22]))!;

    expect(fit.slopePerDay).toBeCloseTo(3, 10);
    expect(fit.intercept).toBeCloseTo(10, 10);
    expect(fit.r2).toBeCloseTo(1, 10);
  });

  it('fits noisy points by least squares, whatever their order', () => {
    const points = daily([100, 104, 101, 107, 108, 110]).reverse();

    const fit = fitGrowth(points)!;

    // Σ(x−x̄)(y−ȳ) / Σ(x−x̄)² over x = 0..5, y = 100, 104, 101, 107, 108, 110.
    expect(fit.slopePerDay).toBeCloseTo(34 / 17.5, 10);
    expect(fit.r2).toBeGreaterThan(0.8);
    expect(fit.r2).toBeLessThan(1);
  });

  it('gives a flat line for flat points, and nothing for fewer than two points or one instant', () => {
    expect(fitGrowth(daily([5, 5, 5]))).toMatchObject({ slopePerDay: 0, intercept: 5, r2: 1 });
    expect(fitGrowth(daily([5]))).toBeUndefined();
    expect(
      fitGrowth([
        { t: T0, value: 1 },
        { t: T0, value: 2 },
      ]),
    ).toBeUndefined();
  });
});

describe('daysUntilFull and capacityStatus', () => {
  it('divides the room left by the growth; never when not growing; zero when full', () => {
    expect(daysUntilFull(80, 100, 4)).toBe(5);
    expect(daysUntilFull(80, 100, 0)).toBeNull();
    expect(daysUntilFull(80, 100, -1)).toBeNull();
    expect(daysUntilFull(100, 100, 1)).toBe(0);
  });

  it('is critical below criticalDays, warning below warnDays, ok otherwise', () => {
    expect(capacityStatus(6.9, thresholds)).toBe('critical');
    expect(capacityStatus(7, thresholds)).toBe('warning');
    expect(capacityStatus(29.9, thresholds)).toBe('warning');
    expect(capacityStatus(30, thresholds)).toBe('ok');
    expect(capacityStatus(null, thresholds)).toBe('ok');
  });
});

describe('forecast', () => {
  const instance = {
    target: 'orders',
    type: 'instance' as const,
    identifier: 'orders-prod',
    allocatedGiB: 100,
  };

  it('reads an instance free space as used storage and predicts when it is full', () => {
    // Free space falls 2 GiB a day from 30 GiB: 70 → 80 GiB used over 6 days; 20 GiB left.
    const entry = forecast(instance, daily([30, 28, 26, 24, 22, 20].map((g) => g * GIB)), thresholds);

    expect(entry).toMatchObject({
      metric: 'FreeStorageSpace',
      capacityBytes: 100 * GIB,
      usedBytes: 80 * GIB,
      freeBytes: 20 * GIB,
      daysUntilFull: 10,
      status: 'warning',
      points: 6,
    });
    expect(entry.growthBytesPerDay).toBeCloseTo(2 * GIB, 0);
    expect(entry.summary).toBe(
      '80.0 GiB of 100.0 GiB used, +2.0 GiB a day over 6 days (fit r² 1.00): full in 10 days',
    );
  });

  it('counts storage autoscaling headroom up to MaxAllocatedStorage', () => {
    const entry = forecast(
      { ...instance, maxAllocatedGiB: 200 },
      daily([30, 28, 26, 24, 22, 20].map((g) => g * GIB)),
      thresholds,
    );

    expect(entry).toMatchObject({ capacityBytes: 200 * GIB, daysUntilFull: 60, status: 'ok' });
    expect(entry.summary).toContain('(autoscaling up to 200 GiB)');
  });

  it('forecasts an Aurora volume against its limit from the used bytes', () => {
    const entry = forecast(
      { target: 'ledger', type: 'cluster', identifier: 'ledger-prod', limitGiB: 128 },
      daily([100, 105, 110, 115].map((g) => g * GIB)),
      thresholds,
    );

    expect(entry).toMatchObject({
      metric: 'VolumeBytesUsed',
      usedBytes: 115 * GIB,
      daysUntilFull: 2.6,
      status: 'critical',
    });
  });

  it('gives no forecast from too few points, saying how many it needs', () => {
    const entry = forecast(instance, daily([30 * GIB, 29 * GIB]), thresholds);

    expect(entry).toMatchObject({ status: 'unknown', points: 2 });
    expect(entry.summary).toBe('2 daily points of FreeStorageSpace (at least 3 needed): no forecast yet');
  });

  it('says a target whose usage shrinks is not growing', () => {
    const entry = forecast(instance, daily([20, 22, 24].map((g) => g * GIB)), thresholds);

    expect(entry).toMatchObject({ daysUntilFull: null, status: 'ok' });
    expect(entry.summary).toContain('not growing');
  });
});
