/**
 * Storage growth and the days until storage is full (DESIGN §11), pure: a least-squares line
 * through daily points, and a forecast from it. Used storage grows by the fitted slope; storage is
 * full when the used storage reaches the capacity.
 */

/** One daily point: when (epoch ms) and the value (bytes). */
export interface Point {
  readonly t: number;
  readonly value: number;
}

/** A fitted line: value ≈ intercept + slopePerDay × days since the first point. */
export interface Fit {
  readonly slopePerDay: number;
  readonly intercept: number;
  /** How well the line explains the points (1: exactly; 0: not at all). */
  readonly r2: number;
  readonly points: number;
}

const DAY = 86_400_000;

/** The least-squares line through `points` (at least two, at different times), or undefined. */
export function fitGrowth(points: readonly Point[]): Fit | undefined {
  if (points.length < 2) return undefined;
  const t0 = Math.min(...points.map((p) => p.t));
  const xs = points.map((p) => (p.t - t0) / DAY);
  const ys = points.map((p) => p.value);
  const n = points.length;
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - meanX;
    const dy = ys[i]! - meanY;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return undefined;
  const slopePerDay = sxy / sxx;
  return {
    slopePerDay,
    intercept: meanY - slopePerDay * meanX,
    // A flat series is explained exactly by a flat line.
    r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy),
    points: n,
  };
}

/** Days until `used` reaches `capacity` at `growthPerDay`; null when not growing; 0 when already full. */
export function daysUntilFull(used: number, capacity: number, growthPerDay: number): number | null {
  if (used >= capacity) return 0;
  if (growthPerDay <= 0) return null;
  return (capacity - used) / growthPerDay;
}

export interface Thresholds {
  readonly warnDays: number;
  readonly criticalDays: number;
}

/** `critical` below criticalDays, `warning` below warnDays, `ok` otherwise (or when not growing). */
export function capacityStatus(days: number | null, thresholds: Thresholds): 'ok' | 'warning' | 'critical' {
  if (days === null) return 'ok';
  if (days < thresholds.criticalDays) return 'critical';
  if (days < thresholds.warnDays) return 'warning';
  return 'ok';
}
