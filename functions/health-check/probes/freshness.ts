/**
 * Backup freshness: the newest verified recovery point of each backup set and RDS target must
 * be younger than the target's recovery-point objective. No verified point at all fails too.
 *
 * For backups only sealed facts count (trusted-backups.ts): a backup whose manifest's KMS seal
 * verifies, verified by a sealed record of that manifest, not dated in the future. Forged
 * manifests and records, future-dated folders, and a sealed catalog head naming a backup that is
 * gone (the newest backups were deleted) fail the check as tampering, with the objects named in
 * the evidence; the age reported is always the true one.
 */
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BackupCrypto } from '#common/backup/crypto';
import { sealCrypto } from '#common/backup/seal-crypto';
import { describeTampering, type TamperFinding } from '#common/backup/tampering';
import { newestSealedVerified } from '#common/backup/trusted-backups';
import {
  listSnapshotRecoveryPoints,
  newestVerified,
  type RecoveryPoint,
} from '#common/retention/recovery-points';
import { nominalMillis, parseIsoDuration } from '#common/time/duration';
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
  /** Forged or altered objects met (backups only): they fail the check. */
  readonly tampering?: readonly TamperFinding[];
  readonly tamperingCount?: number;
}

/** Findings listed in a check's evidence. */
const MAX_EVIDENCE_TAMPERING = 50;

/** Walks the set's backups newest first to the newest sealed, verified one, and evaluates. */
export async function probeBackupFreshness(
  s3: S3Client,
  bucket: string,
  set: BackupSetRpo,
  now: Date,
  crypto: BackupCrypto = sealCrypto(),
): Promise<CheckOutcome> {
  const found = await newestSealedVerified({ s3, bucket, crypto }, set.name, now);
  const point = (p: NonNullable<typeof found.newest>): RecoveryPoint => ({
    target: set.name,
    kind: 'backup',
    id: p.id,
    createdAt: p.createdAt,
    verified: p.verifiedAt !== undefined,
    managed: true,
    ...(p.verifiedAt ? { verifiedAt: p.verifiedAt } : {}),
    tags: {},
  });
  return evaluateFreshness(
    {
      what: `backup set ${set.name}`,
      kind: 'backup',
      rpo: set.rpo,
      newest: found.newest ? point(found.newest) : undefined,
      ...(found.newestUnverified ? { newestUnverified: point(found.newestUnverified) } : {}),
      pointsSeen: found.backupsSeen,
      location: { bucket, prefix: `backups/${set.name}/` },
      tampering: found.tampering,
      tamperingCount: found.tamperingCount,
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
  const tampered = finding.tamperingCount ?? 0;
  const evidence = {
    ...finding.location,
    rpo: finding.rpo,
    rpoSeconds: rpoMs / 1000,
    pointsSeen: finding.pointsSeen,
    ...(finding.newestUnverified ? { newestUnverified: pointEvidence(finding.newestUnverified) } : {}),
    ...(tampered
      ? { tamperingCount: tampered, tampering: (finding.tampering ?? []).slice(0, MAX_EVIDENCE_TAMPERING) }
      : {}),
  };
  const tamperText = tampered
    ? `; TAMPERING, ignored for this check: ${describeTampering(finding.tampering ?? [], tampered)}`
    : '';
  if (!finding.newest) {
    const unverified = finding.newestUnverified
      ? `; newest unverified ${finding.newestUnverified.id} from ${finding.newestUnverified.createdAt.toISOString()}`
      : '';
    return {
      status: 'fail',
      summary: `${finding.what}: no verified ${label} among ${finding.pointsSeen} (RPO ${finding.rpo} = ${hours(rpoMs)})${unverified}${tamperText}`,
      evidence: { ...evidence, ageSeconds: null, newestVerified: null },
    };
  }
  const ageMs = Math.max(0, now.getTime() - finding.newest.createdAt.getTime());
  const stale = ageMs > rpoMs;
  return {
    status: stale || tampered ? 'fail' : 'pass',
    summary: `${finding.what}: newest verified ${label} ${finding.newest.id} is ${hours(ageMs)} old, ${stale ? 'older' : 'younger'} than RPO ${finding.rpo} (${hours(rpoMs)})${tamperText}`,
    evidence: {
      ...evidence,
      ageSeconds: Math.round(ageMs / 1000),
      newestVerified: pointEvidence(finding.newest),
    },
  };
}
