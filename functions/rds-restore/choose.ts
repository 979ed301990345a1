/**
 * `choose`: which snapshot a disaster-recovery restore of a target starts from, and why.
 *
 * Without a given snapshot: the newest `available` manual snapshot of the target carrying
 * the managed tag (`TAG.managed`) in the region the restore runs in (the DR region's cross-region copies
 * when the flow restores there). Snapshots dated in the future are ignored (a clock or a forged
 * record must not win "newest"), and every newer snapshot passed over is named with the reason.
 * With a given snapshot: it must be a manual snapshot of this target in that region and
 * `available`; one Caretaker did not make is accepted (the operator named it) and said so.
 *
 * The result also names the identifier the restore will create (`<source>-r<8 hex>` of the
 * execution), so the flow knows it before the restore runs: a rollback can then delete exactly
 * this execution's copy even when the restore step itself never returned.
 */

import { MANAGED_VALUE, TAG } from '#common/contract';
import { findSnapshot } from '#common/rds/rds-lookup';
import { restoredIdentifier } from '#common/rds/rds-names';
import type { RdsTarget } from '#common/rds/rds-targets';
import { listSnapshotRecoveryPoints, type RecoveryPoint } from '#common/retention/recovery-points';
import { NotFoundError, PreconditionFailedError } from '#common/runtime/errors';
import { type RestoreDeps, regional } from './deps.ts';
import type { ChooseAction } from './input.ts';

/** How far in the future a snapshot time may be before it is treated as untrustworthy. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Passed-over snapshots listed in the result (the count goes on). */
const MAX_LISTED = 10;

/** A newer snapshot passed over, and why. `future` is a sign of a wrong clock or tampering. */
export interface SkippedPoint {
  readonly id: string;
  readonly kind: 'future' | 'unavailable';
  readonly why: string;
}

export interface ChosenSnapshot {
  readonly target: string;
  readonly type: 'instance' | 'cluster';
  readonly region: string;
  readonly snapshotIdentifier: string;
  readonly snapshotArn?: string;
  /** When the data was captured (a copy keeps its original's time): the recovery point's time. */
  readonly createdAt: string;
  /** `newest-verified` (chosen by the rule) or `given` (named in the input). */
  readonly source: 'newest-verified' | 'given';
  readonly managed: boolean;
  /** One sentence: what was chosen and why. */
  readonly reason: string;
  /** Newer snapshots passed over, with why (at most 10 listed). */
  readonly skipped: readonly SkippedPoint[];
  readonly skippedCount: number;
  /** The identifier `restore` will create for this execution. */
  readonly restoredIdentifier: string;
}

/** The choice among a target's snapshots (oldest first), without I/O. */
export function pickSnapshot(
  points: readonly RecoveryPoint[],
  now: Date,
  given?: string,
): { point: RecoveryPoint; skipped: SkippedPoint[] } | { missing: string } {
  const latest = now.getTime() + CLOCK_SKEW_MS;
  if (given !== undefined) {
    const point = points.find((candidate) => candidate.id.toLowerCase() === given.toLowerCase());
    return point ? { point, skipped: [] } : { missing: given };
  }
  const skipped: SkippedPoint[] = [];
  for (const point of [...points].reverse()) {
    if (point.createdAt.getTime() > latest) {
      skipped.push({
        id: point.id,
        kind: 'future',
        why: `dated ${point.createdAt.toISOString()}, in the future: ignored`,
      });
    } else if (!point.verified) {
      skipped.push({
        id: point.id,
        kind: 'unavailable',
        why: `${point.status ?? 'not available'}: not restorable yet`,
      });
    } else {
      return { point, skipped };
    }
  }
  return { missing: '' };
}

/** Chooses the snapshot to restore `target` from. */
export async function chooseSnapshot(
  deps: RestoreDeps,
  target: RdsTarget,
  event: ChooseAction,
  now: Date = new Date(),
): Promise<ChosenSnapshot> {
  const { rds, region } = regional(deps, event.region ?? undefined);
  const given = event.snapshotIdentifier ?? undefined;
  const points = await listSnapshotRecoveryPoints(rds, {
    target: target.name,
    type: target.type,
    identifier: target.identifier,
    includeUnmanaged: given !== undefined,
  });
  const picked = pickSnapshot(points, now, given);
  const what = `${target.type} ${target.identifier} (target ${target.name}) in ${region}`;
  if ('missing' in picked) {
    if (given === undefined) {
      throw new NotFoundError(
        `No available Caretaker-managed snapshot of ${what} among ${points.length}: nothing to restore from`,
        { target: target.name, region, snapshotsSeen: points.length },
      );
    }
    const found = await findSnapshot(rds, target.type, given);
    if (!found) {
      throw new NotFoundError(`Snapshot ${given} does not exist in ${region}`, {
        snapshotIdentifier: given,
        region,
      });
    }
    throw new PreconditionFailedError(
      `Snapshot ${given} is not a manual snapshot of ${what} (it was taken of ${found.sourceIdentifier ?? 'something else'}): refusing to restore ${target.name} from it`,
      { snapshotIdentifier: given, sourceIdentifier: found.sourceIdentifier ?? null, region },
    );
  }
  const { point, skipped } = picked;
  if (given !== undefined && point.status !== 'available') {
    throw new PreconditionFailedError(
      `Snapshot ${point.id} is ${point.status ?? 'not available'}: start again once it is available`,
      { snapshotIdentifier: point.id, status: point.status ?? null, region },
    );
  }
  const age = `taken ${point.createdAt.toISOString()}`;
  const reason =
    given !== undefined
      ? `${point.id} (${age}) as named in the input${point.managed ? '' : `; Caretaker did not make it (not tagged ${TAG.managed}=${MANAGED_VALUE})`}`
      : `${point.id} (${age}) is the newest available Caretaker-managed snapshot of ${what}${
          skipped.length
            ? `; passed over ${skipped.length} newer: ${skipped
                .slice(0, MAX_LISTED)
                .map((s) => `${s.id} (${s.why})`)
                .join(', ')}`
            : ''
        }`;
  return {
    target: target.name,
    type: target.type,
    region,
    snapshotIdentifier: point.id,
    ...(point.arn ? { snapshotArn: point.arn } : {}),
    createdAt: point.createdAt.toISOString(),
    source: given !== undefined ? 'given' : 'newest-verified',
    managed: point.managed,
    reason,
    skipped: skipped.slice(0, MAX_LISTED),
    skippedCount: skipped.length,
    restoredIdentifier: restoredIdentifier(target.identifier, event.executionId),
  };
}
