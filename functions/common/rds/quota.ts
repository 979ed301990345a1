/**
 * Manual snapshot quota arithmetic (DESIGN §10): say so before AWS refuses. Pure.
 *
 * RDS counts manual DB snapshots and manual DB cluster snapshots per region against separate
 * quotas (100 each by default; raised through Service Quotas, so the limit is configuration).
 */
import { QuotaExceededError } from '../runtime/errors.ts';

/** What the result reports about a quota. */
export interface QuotaUse {
  /** Manual snapshots in the region (after this call's snapshot, when it made one). */
  readonly used: number;
  readonly limit: number;
  /** Warn at or above this percentage of the limit. */
  readonly warnPercent: number;
}

export interface QuotaAssessment {
  readonly quota: QuotaUse;
  /** At or above the warning percentage. */
  readonly warning: boolean;
  /** A sentence for the result's notes when `warning`, else undefined. */
  readonly note?: string;
}

/** Whether `used` reaches `warnPercent` of `limit`. */
export function isNearQuota(used: number, limit: number, warnPercent: number): boolean {
  return used * 100 >= warnPercent * limit;
}

/**
 * Refuses a new snapshot when the region already holds `limit` manual snapshots of the kind,
 * naming the count and the quota.
 */
export function requireRoomFor(what: string, region: string, used: number, limit: number): void {
  if (used >= limit) {
    throw new QuotaExceededError(
      `${region} already holds ${used} manual ${what} of a quota of ${limit}: refusing to create another; delete old snapshots (cleanup) or raise the quota (Service Quotas) and the config's quotas.manualSnapshots`,
      { region, used, limit, what },
    );
  }
}

/** The quota as reported after the call, with a warning at or above the warning percentage. */
export function assessQuota(
  what: string,
  region: string,
  used: number,
  limit: number,
  warnPercent: number,
): QuotaAssessment {
  const quota = { used, limit, warnPercent };
  if (!isNearQuota(used, limit, warnPercent)) return { quota, warning: false };
  const percent = Math.round((used * 100) / limit);
  return {
    quota,
    warning: true,
    note: `${region} holds ${used} manual ${what} of a quota of ${limit} (${percent} %, warning at ${warnPercent} %)`,
  };
}
