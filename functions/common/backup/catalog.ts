/**
 * Finding backups of a set: complete ones have a manifest (it is written last); folders without
 * one are backups in progress or abandoned. And choosing the one a disaster-recovery restore
 * starts from, on sealed facts only.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { backupIdTime, listBackupIds } from '../retention/recovery-points.ts';
import { NotFoundError, PreconditionFailedError } from '../runtime/errors.ts';
import { logger } from '../runtime/observability.ts';
import { compareKeys } from './keys.ts';
import { manifestKey } from './layout.ts';
import type { BackupStore } from './load.ts';
import { exists } from './s3-io.ts';
import { type TamperFinding, TamperLog } from './tampering.ts';
import { isFutureDated, openBackup } from './trusted-backups.ts';
import { newestTrustedVerification } from './verification-records.ts';
import { loadVerifiedManifest } from './verify.ts';

interface Bucket {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** Complete backups of a set, newest first, optionally only those older than `before`. */
export async function* completeBackupIds(
  store: Bucket,
  set: string,
  before?: string,
): AsyncGenerator<string> {
  const ids = await listBackupIds(store.s3, { bucket: store.bucket, set });
  for (const id of ids.reverse()) {
    if (before !== undefined && compareKeys(id, before) >= 0) continue;
    if (await exists(store.s3, store.bucket, manifestKey(set, id))) yield id;
    else logger.info('Skipping a backup without manifest (in progress or abandoned)', { set, backupId: id });
  }
}

/** The newest complete backup of a set, or undefined. */
export async function latestCompleteBackup(
  store: Bucket,
  set: string,
  before?: string,
): Promise<string | undefined> {
  for await (const id of completeBackupIds(store, set, before)) return id;
  return undefined;
}

/** How far in the future a backup or verification time may be before it is not trusted. */
export { CLOCK_SKEW_MS } from './verification-records.ts';

/** Passed-over backups listed in a choice (the count goes on). */
const MAX_LISTED = 10;

/** A newer backup passed over, and why. `integrity` and `future` are signs of tampering. */
export interface SkippedBackup {
  readonly id: string;
  readonly kind: 'future' | 'incomplete' | 'unverified' | 'integrity';
  readonly why: string;
}

export interface ChosenBackup {
  readonly set: string;
  readonly backupId: string;
  /** When the backup was taken (from its id): the recovery point's time. */
  readonly createdAt: string;
  /** Its newest sealed verification record, or null (a given backup that was never verified). */
  readonly verifiedAt: string | null;
  readonly source: 'newest-verified' | 'given';
  /** One sentence: what was chosen and why. */
  readonly reason: string;
  readonly skipped: readonly SkippedBackup[];
  readonly skippedCount: number;
  /** Forged or altered objects met on the way (never used for the choice). */
  readonly tampering: readonly TamperFinding[];
  readonly tamperingCount: number;
}

/**
 * The backup a restore of `set` starts from: `given`, or the newest one that is complete, sealed
 * (its manifest's KMS seal verifies), not dated in the future, and verified by a sealed
 * verification record of that very manifest (verification-records.ts). Unsealed manifests and
 * records, and anything dated in the future, are passed over and reported as tampering; the
 * restore itself then reads back and checks every object against the sealed manifest.
 */
export async function chooseBackup(
  store: BackupStore,
  set: string,
  now: Date,
  given?: string,
): Promise<ChosenBackup> {
  const ids = await listBackupIds(store.s3, { bucket: store.bucket, set });
  const log = new TamperLog();
  if (given !== undefined) {
    if (!ids.includes(given)) {
      throw new NotFoundError(`Backup ${set}/${given} does not exist`, { set, backupId: given });
    }
    if (!(await exists(store.s3, store.bucket, manifestKey(set, given)))) {
      throw new PreconditionFailedError(
        `Backup ${set}/${given} is incomplete (no manifest): it cannot be restored`,
        { set, backupId: given },
      );
    }
    // A seal that does not verify is an IntegrityError: never restore a backup named but untrusted.
    const loaded = await loadVerifiedManifest(store, set, given);
    const check = await newestTrustedVerification(store, set, given, loaded.sha256, now);
    log.addAll(check.tampering);
    const verifiedAt = check.verifiedAt;
    return {
      set,
      backupId: given,
      createdAt: backupIdTime(given)!.toISOString(),
      verifiedAt: verifiedAt?.toISOString() ?? null,
      source: 'given',
      reason: `${given} as named in the input (sealed; ${verifiedAt ? `verified ${verifiedAt.toISOString()}` : 'never verified: the restore reads back every object first'})`,
      skipped: [],
      skippedCount: 0,
      tampering: log.findings,
      tamperingCount: log.count,
    };
  }
  const skipped: SkippedBackup[] = [];
  for (const id of [...ids].reverse()) {
    const createdAt = backupIdTime(id)!;
    if (isFutureDated(id, now)) {
      skipped.push({ id, kind: 'future', why: 'dated in the future: ignored' });
      log.add({ kind: 'future-dated-backup', key: `backups/${set}/${id}/`, backupId: id });
      continue;
    }
    if (!(await exists(store.s3, store.bucket, manifestKey(set, id)))) {
      skipped.push({ id, kind: 'incomplete', why: 'no manifest (in progress or abandoned)' });
      continue;
    }
    const opened = await openBackup(store, set, id);
    if (opened.kind === 'gone') continue;
    if (opened.kind === 'tampered') {
      logger.warn('Passing over a backup whose manifest does not check out', {
        set,
        backupId: id,
        ...opened.finding,
      });
      skipped.push({ id, kind: 'integrity', why: `${opened.finding.kind}: its manifest does not check out` });
      log.add(opened.finding);
      continue;
    }
    const check = await newestTrustedVerification(store, set, id, opened.loaded.sha256, now);
    log.addAll(check.tampering);
    if (!check.verifiedAt) {
      const forged = check.tampering.length;
      skipped.push({
        id,
        kind: forged ? 'integrity' : 'unverified',
        why: forged ? `not verified: ${forged} verification record(s) do not check out` : 'not verified yet',
      });
      continue;
    }
    const verifiedAt = check.verifiedAt;
    const passed = skipped.length
      ? `; passed over ${skipped.length} newer: ${skipped
          .slice(0, MAX_LISTED)
          .map((s) => `${s.id} (${s.why})`)
          .join(', ')}`
      : '';
    return {
      set,
      backupId: id,
      createdAt: createdAt.toISOString(),
      verifiedAt: verifiedAt.toISOString(),
      source: 'newest-verified',
      reason: `${id} is the newest sealed and verified backup of ${set} (verified ${verifiedAt.toISOString()})${passed}`,
      skipped: skipped.slice(0, MAX_LISTED),
      skippedCount: skipped.length,
      tampering: log.findings,
      tamperingCount: log.count,
    };
  }
  throw new NotFoundError(`Backup set ${set} has no sealed, verified backup among ${ids.length}`, {
    set,
    backupsSeen: ids.length,
    skipped: skipped.slice(0, MAX_LISTED),
    tampering: log.findings.slice(0, MAX_LISTED),
    tamperingCount: log.count,
  });
}
