/**
 * Backup freshness: the newest verified recovery point of each backup set and RDS target must
 * be younger than the target's recovery-point objective. No verified point at all fails too.
 */
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import { nominalMillis, parseIsoDuration } from '#common/duration';
import {
  listSnapshotRecoveryPoints,
  newestVerified,
  newestVerifiedBackup,
  type RecoveryPoint,
} from '#common/recovery-points';
import type { CheckSet } from '../check-set.ts';
import type { CheckOutcome } from '../evaluate.ts';

export type BackupSetRpo = CheckSet['backupSets'][number];
export type RdsTargetRpo = CheckSet['rdsTargets'][number];

/** What was found for one target, for the pure evaluation. */
export interface FreshnessFinding {
  /** `backup set uploads`, `RDS instance orders-prod (target orders)`. */
  readonly what: string;
  readonly kind: RecoveryPoint['kind'];
  readonly rpo: string;
  readonly newest: RecoveryPoint | undefined;
  readonly newestUnverified?: RecoveryPoint;
  /** How many recovery points were looked at (verified or not). */
  readonly pointsSeen: number;
  readonly location: Readonly<Record<string, string>>;
}

/** Lists the set's backups (newest first, stopping at the first verified one) and evaluates. */
export async function probeBackupFreshness(
  s3: S3Client,
  bucket: string,
  set: BackupSetRpo,
  now: Date,
): Promise<CheckOutcome> {
  const found = await newestVerifiedBackup(s3, { bucket, set: set.name });
  return evaluateFreshness(
    {
      what: `backup set ${set.name}`,
      kind: 'backup',
      rpo: set.rpo,
      newest: found.newest,
      ...(found.newestUnverified ? { newestUnverified: found.newestUnverified } : {}),
      pointsSeen: found.backupsSeen,
      location: { bucket, prefix: `backups/${set.name}/` },
    },
    now,
  );
}

/** Lists the target's managed snapshots and evaluates. */
export async function probeSnapshotFreshness(
  rds: RDSClient,
  target: RdsTargetRpo,
  now: Date,
): Promise<CheckOutcome> {
  const points = await listSnapshotRecoveryPoints(rds, {
    target: target.name,
    type: target.type,
    identifier: target.identifier,
  });
  const newest = newestVerified(points);
  const newestUnverified = points
    .filter((p) => !p.verified && (!newest || p.createdAt > newest.createdAt))
    .at(-1);
  return evaluateFreshness(
    {
      what: `RDS ${target.type} ${target.identifier} (target ${target.name})`,
      kind: 'snapshot',
      rpo: target.rpo,
      newest,
      ...(newestUnverified ? { newestUnverified } : {}),
      pointsSeen: points.length,
      location: { type: target.type, identifier: target.identifier },
    },
    now,
  );
}

function hours(ms: number): string {
  return `${Math.round((ms / 3_600_000) * 10) / 10} h`;
}

function pointEvidence(point: RecoveryPoint) {
  return {
    id: point.id,
    createdAt: point.createdAt.toISOString(),
    verified: point.verified,
    ...(point.verifiedAt ? { verifiedAt: point.verifiedAt.toISOString() } : {}),
    ...(point.status ? { status: point.status } : {}),
  };
}

/** Fails when there is no verified point or the newest is older than the RPO; passes otherwise (pure). */
export function evaluateFreshness(finding: FreshnessFinding, now: Date): CheckOutcome {
  const duration = parseIsoDuration(finding.rpo);
  if (!duration) throw new RangeError(`invalid RPO duration "${finding.rpo}"`);
  const rpoMs = nominalMillis(duration);
  const label = finding.kind === 'backup' ? 'backup' : 'snapshot';
  const evidence = {
    ...finding.location,
    rpo: finding.rpo,
    rpoSeconds: rpoMs / 1000,
    pointsSeen: finding.pointsSeen,
    ...(finding.newestUnverified ? { newestUnverified: pointEvidence(finding.newestUnverified) } : {}),
  };
  if (!finding.newest) {
    const unverified = finding.newestUnverified
      ? `; newest unverified ${finding.newestUnverified.id} from ${finding.newestUnverified.createdAt.toISOString()}`
      : '';
    return {
      status: 'fail',
      summary: `${finding.what}: no verified ${label} among ${finding.pointsSeen} (RPO ${finding.rpo} = ${hours(rpoMs)})${unverified}`,
      evidence: { ...evidence, ageSeconds: null, newestVerified: null },
    };
  }
  const ageMs = Math.max(0, now.getTime() - finding.newest.createdAt.getTime());
  const stale = ageMs > rpoMs;
  return {
    status: stale ? 'fail' : 'pass',
    summary: `${finding.what}: newest verified ${label} ${finding.newest.id} is ${hours(ageMs)} old, ${stale ? 'older' : 'younger'} than RPO ${finding.rpo} (${hours(rpoMs)})`,
    evidence: {
      ...evidence,
      ageSeconds: Math.round(ageMs / 1000),
      newestVerified: pointEvidence(finding.newest),
    },
  };
}
