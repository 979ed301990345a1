/**
 * The backups a decision may rest on (DESIGN §8, docs/security.md): a backup counts only when its
 * manifest's KMS seal verifies and its id is not dated in the future; it is *verified* only through
 * a sealed verification record of that very manifest (verification-records.ts). Everything else —
 * a forged manifest, a future-dated folder, a forged record, a catalog head naming a backup that
 * is gone — is a {@link TamperFinding}: ignored for the decision and reported.
 *
 * Used by the freshness check (the newest sealed, verified backup), backup-verify and
 * backup-restore (the newest sealed backup when none is named) and, through
 * {@link openBackup}, by cleanup's inventory.
 */

import { backupIdTime, listBackupIds } from '../retention/recovery-points.ts';
import { AccessDeniedError, NotFoundError } from '../runtime/errors.ts';
import { logger } from '../runtime/observability.ts';
import {
  type BackupStanding,
  catalogHeadFindings,
  type HeadReading,
  readCatalogHead,
} from './catalog-head.ts';
import { compareKeys } from './keys.ts';
import { manifestKey, sealKey } from './layout.ts';
import { type BackupStore, type LoadedManifest, loadManifest } from './load.ts';
import { IntegrityProblem } from './problems.ts';
import { exists } from './s3-io.ts';
import { type TamperFinding, TamperLog } from './tampering.ts';
import { CLOCK_SKEW_MS, newestTrustedVerification } from './verification-records.ts';

/** A folder's manifest, authenticated; or why it does not count; or nothing (it vanished). */
export type OpenedBackup =
  | { readonly kind: 'sealed'; readonly loaded: LoadedManifest }
  | { readonly kind: 'tampered'; readonly finding: TamperFinding }
  | { readonly kind: 'gone' };

/**
 * Opens a backup's manifest against its seal. A seal that opens for this very backup but vouches
 * for other bytes means a real backup's manifest was edited (`edited-manifest`); anything else that
 * fails is a forgery (`unsealed-manifest`). KMS refusing access throws AccessDeniedError.
 */
export async function openBackup(store: BackupStore, set: string, id: string): Promise<OpenedBackup> {
  try {
    return { kind: 'sealed', loaded: await loadManifest(store, set, id) };
  } catch (error) {
    if (error instanceof AccessDeniedError) throw error;
    if (!(error instanceof IntegrityProblem)) throw error;
    const { finding } = error;
    if (finding.problem === 'missing-manifest') return { kind: 'gone' };
    const realSealFailed =
      finding.problem === 'edited-manifest' &&
      typeof finding.expected === 'string' &&
      /^[0-9a-f]{64}$/.test(finding.expected);
    return {
      kind: 'tampered',
      finding: {
        kind: realSealFailed ? 'edited-manifest' : 'unsealed-manifest',
        key: finding.problem === 'missing-seal' ? sealKey(set, id) : manifestKey(set, id),
        backupId: id,
        detail: finding.detail ?? finding.problem,
      },
    };
  }
}

/** Whether a backup id is dated later than `now` allows (clock skew aside). */
export function isFutureDated(id: string, now: Date): boolean {
  const at = backupIdTime(id);
  return at !== undefined && at.getTime() > now.getTime() + CLOCK_SKEW_MS;
}

function futureFinding(set: string, id: string): TamperFinding {
  return {
    kind: 'future-dated-backup',
    key: `backups/${set}/${id}/`,
    backupId: id,
    detail: `dated ${backupIdTime(id)!.toISOString()}`,
  };
}

export interface TrustedPoint {
  readonly id: string;
  readonly createdAt: Date;
  readonly manifestSha256: string;
  readonly verifiedAt?: Date;
  /** The verification record that made it verified. */
  readonly recordKey?: string;
}

export interface NewestVerified {
  /** The newest sealed backup with a sealed verification record, if any. */
  readonly newest?: TrustedPoint;
  /** The newest sealed backup newer than `newest` without one. */
  readonly newestUnverified?: TrustedPoint;
  /** Backup folders listed (any content). */
  readonly backupsSeen: number;
  readonly tampering: readonly TamperFinding[];
  readonly tamperingCount: number;
  readonly head: HeadReading;
}

/**
 * Walks a set's backups newest first to the newest sealed and verified one, collecting every sign
 * of tampering on the way, then checks the catalog head against what was found. Cost: one
 * manifest read and seal check per backup walked, plus the records each needs.
 */
export async function newestSealedVerified(
  store: BackupStore,
  set: string,
  now: Date,
): Promise<NewestVerified> {
  const ids = await listBackupIds(store.s3, { bucket: store.bucket, set });
  const log = new TamperLog();
  const standing = new Map<string, BackupStanding>();
  let newest: TrustedPoint | undefined;
  let newestUnverified: TrustedPoint | undefined;
  for (const id of [...ids].reverse()) {
    if (isFutureDated(id, now)) {
      log.add(futureFinding(set, id));
      standing.set(id, 'tampered');
      continue;
    }
    if (!(await exists(store.s3, store.bucket, manifestKey(set, id)))) {
      standing.set(id, 'absent');
      continue;
    }
    const opened = await openBackup(store, set, id);
    if (opened.kind !== 'sealed') {
      if (opened.kind === 'tampered') log.add(opened.finding);
      standing.set(id, opened.kind === 'tampered' ? 'tampered' : 'absent');
      continue;
    }
    standing.set(id, 'sealed');
    const point = { id, createdAt: backupIdTime(id)!, manifestSha256: opened.loaded.sha256 };
    const verification = await newestTrustedVerification(store, set, id, opened.loaded.sha256, now);
    log.addAll(verification.tampering);
    if (verification.verifiedAt) {
      newest = { ...point, verifiedAt: verification.verifiedAt, recordKey: verification.key! };
      break;
    }
    newestUnverified ??= point;
  }
  const listed = new Set(ids);
  const head = await readCatalogHead(store, set, { checkDeleted: true });
  log.addAll(
    catalogHeadFindings(
      head,
      set,
      (id) => standing.get(id) ?? (listed.has(id) ? 'unexamined' : 'absent'),
      now,
    ),
  );
  if (log.count)
    logger.warn('Signs of tampering in the backup bucket', {
      set,
      count: log.count,
      findings: log.findings.slice(0, 20),
    });
  return {
    ...(newest ? { newest } : {}),
    ...(newestUnverified ? { newestUnverified } : {}),
    backupsSeen: ids.length,
    tampering: log.findings,
    tamperingCount: log.count,
    head,
  };
}

/** A backup chosen when none was named, and why. */
export interface NewestSealed {
  readonly backupId: string;
  readonly reason: string;
  readonly tampering: readonly TamperFinding[];
  readonly tamperingCount: number;
}

/**
 * The newest complete backup of a set whose manifest's seal verifies and which is not dated in
 * the future (optionally only those older than `before`): what verify and restore take when no
 * backup is named. Throws NotFoundError when there is none.
 */
export async function newestSealedBackup(
  store: BackupStore,
  set: string,
  now: Date,
  before?: string,
): Promise<NewestSealed> {
  const ids = await listBackupIds(store.s3, { bucket: store.bucket, set });
  const log = new TamperLog();
  let passed = 0;
  for (const id of [...ids].reverse()) {
    if (before !== undefined && compareKeys(id, before) >= 0) continue;
    if (isFutureDated(id, now)) {
      log.add(futureFinding(set, id));
      passed++;
      continue;
    }
    if (!(await exists(store.s3, store.bucket, manifestKey(set, id)))) continue;
    const opened = await openBackup(store, set, id);
    if (opened.kind === 'tampered') {
      log.add(opened.finding);
      passed++;
      continue;
    }
    if (opened.kind === 'gone') continue;
    const skipped = passed
      ? `; passed over ${passed} newer folder(s) that do not check out (${log.findings
          .slice(0, 5)
          .map((f) => `${f.backupId ?? f.key}: ${f.kind}`)
          .join(', ')}${log.count > 5 ? ', …' : ''})`
      : '';
    if (log.count)
      logger.warn('Signs of tampering in the backup bucket', {
        set,
        count: log.count,
        findings: log.findings.slice(0, 20),
      });
    return {
      backupId: id,
      reason: `${id} is the newest complete backup of ${set} whose manifest seal verifies${skipped}`,
      tampering: log.findings,
      tamperingCount: log.count,
    };
  }
  throw new NotFoundError(`Backup set ${set} has no complete backup whose manifest seal verifies`, {
    set,
    backupsSeen: ids.length,
    tampering: log.findings.slice(0, 20),
    tamperingCount: log.count,
  });
}
