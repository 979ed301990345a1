/**
 * Finding backups of a set: complete ones have a manifest (it is written last); folders without
 * one are backups in progress or abandoned. And choosing the one a disaster-recovery restore
 * starts from.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { NotFoundError, PreconditionFailedError } from '../errors.ts';
import { logger } from '../observability.ts';
import { backupIdTime, listBackupIds, listVerifications } from '../recovery-points.ts';
import { compareKeys } from './keys.ts';
import { manifestKey } from './layout.ts';
import { type BackupStore, loadManifest } from './load.ts';
import { IntegrityProblem } from './problems.ts';
import { exists } from './s3-io.ts';
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
export const CLOCK_SKEW_MS = 5 * 60_000;
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
  /** Its newest verification record, or null (a given backup that was never verified). */
  readonly verifiedAt: string | null;
  readonly source: 'newest-verified' | 'given';
  /** One sentence: what was chosen and why. */
  readonly reason: string;
  readonly skipped: readonly SkippedBackup[];
  readonly skippedCount: number;
}

/** Verification records that are not dated in the future, newest first. */
async function trustedVerifications(store: BackupStore, set: string, id: string, latest: number) {
  const times = await listVerifications(store.s3, { bucket: store.bucket, set }, id);
  return times.filter((time) => time.getTime() <= latest);
}

/**
 * The backup a restore of `set` starts from: `given`, or the newest one that is complete, sealed
 * (its manifest's KMS seal verifies) and verified (has a verification record), skipping anything
 * dated in the future. Verification records are plain objects; they only pick the candidate — the
 * restore itself reads back and checks every object against the sealed manifest before writing.
 */
export async function chooseBackup(
  store: BackupStore,
  set: string,
  now: Date,
  given?: string,
): Promise<ChosenBackup> {
  const latest = now.getTime() + CLOCK_SKEW_MS;
  const ids = await listBackupIds(store.s3, { bucket: store.bucket, set });
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
    await loadVerifiedManifest(store, set, given);
    const verifiedAt = (await trustedVerifications(store, set, given, latest))[0];
    return {
      set,
      backupId: given,
      createdAt: backupIdTime(given)!.toISOString(),
      verifiedAt: verifiedAt?.toISOString() ?? null,
      source: 'given',
      reason: `${given} as named in the input (sealed; ${verifiedAt ? `verified ${verifiedAt.toISOString()}` : 'never verified: the restore reads back every object first'})`,
      skipped: [],
      skippedCount: 0,
    };
  }
  const skipped: SkippedBackup[] = [];
  for (const id of [...ids].reverse()) {
    const createdAt = backupIdTime(id)!;
    if (createdAt.getTime() > latest) {
      skipped.push({ id, kind: 'future', why: 'dated in the future: ignored' });
      continue;
    }
    if (!(await exists(store.s3, store.bucket, manifestKey(set, id)))) {
      skipped.push({ id, kind: 'incomplete', why: 'no manifest (in progress or abandoned)' });
      continue;
    }
    const [verifiedAt] = await trustedVerifications(store, set, id, latest);
    if (!verifiedAt) {
      skipped.push({ id, kind: 'unverified', why: 'not verified yet' });
      continue;
    }
    try {
      await loadManifest(store, set, id);
    } catch (error) {
      if (!(error instanceof IntegrityProblem)) throw error;
      logger.warn('Passing over a backup whose manifest does not check out', { set, backupId: id, error });
      skipped.push({
        id,
        kind: 'integrity',
        why: `${error.finding.problem}: its manifest does not check out`,
      });
      continue;
    }
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
    };
  }
  throw new NotFoundError(`Backup set ${set} has no sealed, verified backup among ${ids.length}`, {
    set,
    backupsSeen: ids.length,
    skipped: skipped.slice(0, MAX_LISTED),
  });
}
