/**
 * Retention over a backup set: the planner over its sealed backups (docs/security.md: forged or
 * future-dated folders count for nothing and are never deleted; they are reported as tampering),
 * chains held (a kept incremental keeps its ancestors), the catalog head's newest backup and every
 * backup older than a real backup whose manifest was edited held too, then deletion of what
 * remains marked, newest first, keeping every object a kept manifest references
 * (backup-delete.ts), and finishing remnants a crashed run left. Anything unreadable stops the set
 * before anything is deleted.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { catalogHeadFindings } from '#common/backup/catalog-head';
import type { BackupCrypto } from '#common/backup/crypto';
import { manifestKey } from '#common/backup/layout';
import { sha256Hex } from '#common/backup/manifest';
import { getBytes } from '#common/backup/s3-io';
import { describeTampering } from '#common/backup/tampering';
import { MANAGED_VALUE, TAG } from '#common/contract';
import { backupIdTime } from '#common/retention/recovery-points';
import { planRetention } from '#common/retention/retention';
import type { RetentionPolicy } from '#common/retention/retention-policy';
import { logger } from '#common/runtime/observability';
import { deleteFolder, deleteRecordsAndManifest, referencedKeys } from './backup-delete.ts';
import { type BackupInventory, backupInventory } from './backup-inventory.ts';
import { deletionOrder, holdChains } from './backup-plan.ts';
import type { FolderQueue } from './folder-queue.ts';
import { type Deletion, recordDecisions, settle, type TargetReport, targetReport } from './report.ts';
import type { RunOptions } from './snapshot-retention.ts';

/** A remnant younger than this is left alone (belt and braces against a backup just starting). */
const REMNANT_MIN_AGE_MS = 24 * 60 * 60 * 1000;
export const REMNANT_REASON = 'remnant of a deleted backup (no manifest, no work in progress)';

export interface BackupRunOptions extends RunOptions {
  /**
   * Fanned out (a real run of the Cleanup flow): each backup going gets only its crash-safe first
   * step here (verification records and manifest), and every folder to empty is queued for the
   * Distributed Map instead of being emptied in this call.
   */
  readonly fanOut?: FolderQueue;
}

/** Plans and applies retention to one backup set. */
export async function cleanBackups(
  s3: S3Client,
  crypto: BackupCrypto,
  bucket: string,
  set: string,
  policyName: string,
  policy: RetentionPolicy,
  options: BackupRunOptions,
): Promise<TargetReport> {
  const report = targetReport(set, 'backups', policyName);
  try {
    await planAndDelete(s3, crypto, bucket, set, policy, options, report);
  } catch (error) {
    report.status = 'failed';
    report.reason = (error as Error).message;
    report.error = error;
  }
  settle(report);
  return report;
}

/** Puts the tampering the inventory found (and the catalog head's verdict) into the report. */
function reportTampering(inventory: BackupInventory, set: string, now: Date, report: TargetReport): void {
  const sealed = new Set(inventory.complete.map((backup) => backup.id));
  const tampered = new Set(inventory.tampered);
  inventory.tampering.addAll(
    catalogHeadFindings(
      inventory.head,
      set,
      (id) => (sealed.has(id) ? 'sealed' : tampered.has(id) ? 'tampered' : 'absent'),
      now,
    ),
  );
  if (inventory.tampering.count === 0) return;
  report.tampering = inventory.tampering.findings;
  report.tamperingCount = inventory.tampering.count;
  report.notes.push(
    `TAMPERING: ${describeTampering(inventory.tampering.findings, inventory.tampering.count)}; ignored for every decision and left in place`,
  );
  logger.error('Signs of tampering in the backup bucket', {
    set,
    count: inventory.tampering.count,
    findings: inventory.tampering.findings.slice(0, 20),
  });
}

/** Backups held whatever the policy says: the catalog head's newest, and the possible ancestors of an edited one. */
function heldRoots(inventory: BackupInventory): { id: string; reason: string }[] {
  const roots: { id: string; reason: string }[] = [];
  if (inventory.head.state === 'sealed') {
    roots.push({
      id: inventory.head.head.newestBackupId,
      reason: 'newest backup in the sealed catalog head',
    });
  }
  for (const edited of inventory.edited) {
    for (const backup of inventory.complete) {
      if (backup.id < edited) {
        roots.push({ id: backup.id, reason: `possible ancestor of ${edited}, whose manifest was edited` });
      }
    }
  }
  return roots;
}

async function planAndDelete(
  s3: S3Client,
  crypto: BackupCrypto,
  bucket: string,
  set: string,
  policy: RetentionPolicy,
  options: BackupRunOptions,
  report: TargetReport,
): Promise<void> {
  const inventory = await backupInventory(s3, bucket, set, crypto, options.now);
  reportTampering(inventory, set, options.now, report);
  if (inventory.complete.length === 0) {
    report.status = 'refused';
    report.reason = `no complete backups of set ${set} in ${bucket} whose seal verifies: refusing to act on an empty inventory`;
    return;
  }
  const planned = planRetention(inventory.complete, policy, { now: options.now });
  const held = new Map(heldRoots(inventory).map((root) => [root.id, root.reason]));
  const decisions = holdChains(
    planned.map((decision) =>
      decision.action === 'delete' && held.has(decision.id)
        ? { id: decision.id, action: 'keep' as const, reasons: [held.get(decision.id)!] }
        : decision,
    ),
    [
      ...inventory.complete.map((backup) => ({
        id: backup.id,
        parent: backup.manifest.parent?.backupId ?? null,
      })),
      // A folder whose manifest does not verify may still be a link a sealed backup chains through.
      ...inventory.tamperedLinks,
    ],
    inventory.inProgress.flatMap((backup) =>
      backup.parent ? [{ id: backup.parent, reason: `parent of backup in progress ${backup.id}` }] : [],
    ),
  );
  recordDecisions(report, decisions);
  const links = decisions.filter(
    (d, i) => d.action === 'keep' && planned[i]?.action === 'delete' && !held.has(d.id),
  ).length;
  if (links)
    report.notes.push(`${links} backup(s) the policy would delete are kept as links of a kept chain`);
  if (inventory.inProgress.length) {
    report.notes.push(
      `${inventory.inProgress.length} backup(s) in progress left alone: ${inventory.inProgress.map((b) => b.id).join(', ')}`,
    );
  }

  const sealedSha = new Map(inventory.complete.map((backup) => [backup.id, backup.sha256]));
  const toDelete = deletionOrder(decisions);
  const oldEnough = (id: string) =>
    options.now.getTime() - (backupIdTime(id)?.getTime() ?? options.now.getTime()) > REMNANT_MIN_AGE_MS;
  const remnants = inventory.remnants.filter(oldEnough);
  const reasons = new Map(decisions.map((d) => [d.id, d.reasons]));
  if (options.fanOut) {
    const queue = options.fanOut;
    for (const id of toDelete) {
      const deletion = await firstStep(
        s3,
        bucket,
        set,
        id,
        sealedSha.get(id)!,
        reasons.get(id) ?? [],
        options,
        queue,
      );
      if (deletion) report.deletions.push(deletion);
    }
    let left = 0;
    for (const id of remnants) {
      if (queue.full) left++;
      else queue.add({ set, id, kind: 'remnant', reasons: [REMNANT_REASON], deleted: 0 });
    }
    if (left) {
      report.notes.push(
        `${left} remnant(s) left for the next run: at most ${queue.capacity} folders are emptied a run`,
      );
    }
    return;
  }
  const keptIds = new Set(decisions.filter((d) => d.action === 'keep').map((d) => d.id));
  const kept = inventory.complete.filter((backup) => keptIds.has(backup.id));
  const referenced = await referencedKeys(s3, bucket, set, kept, new Set([...toDelete, ...remnants]));

  for (const id of toDelete) {
    report.deletions.push(
      await deleteBackup(s3, bucket, set, id, sealedSha.get(id)!, reasons.get(id) ?? [], referenced, options),
    );
  }
  for (const id of remnants) {
    const deletion = await deleteRemnant(s3, bucket, set, id, referenced, options);
    if (deletion) report.deletions.push(deletion);
  }
  const stillReferenced = report.deletions.reduce((sum, d) => sum + (d.objectsReferenced ?? 0), 0);
  if (stillReferenced) {
    report.notes.push(
      `${stillReferenced} object(s) of deleted backups are kept: kept backups still reference them`,
    );
  }
}

const MANIFEST_CHANGED = 'its manifest changed since its seal was checked';

/**
 * Backup `id`'s manifest as it is right before its deletion (undefined: gone already), or
 * `changed` when it is not the one whose seal verified: only that one may go. Checked by its
 * digest, with no KMS call.
 */
async function manifestAsSealed(
  s3: S3Client,
  bucket: string,
  set: string,
  id: string,
  sealedSha256: string,
): Promise<Buffer | undefined | 'changed'> {
  const bytes = await getBytes(s3, bucket, manifestKey(set, id));
  return bytes && sha256Hex(bytes) !== sealedSha256 ? 'changed' : bytes;
}

/**
 * A fanned-out run's part of deleting backup `id` (newest first): its verification records and
 * manifest, after checking the manifest is the one whose seal verified; its folder is then queued
 * for the Distributed Map. Returns a deletion only when the backup is not queued (skipped).
 */
async function firstStep(
  s3: S3Client,
  bucket: string,
  set: string,
  id: string,
  sealedSha256: string,
  reasons: readonly string[],
  options: RunOptions,
  queue: FolderQueue,
): Promise<Deletion | undefined> {
  const base = { id, reasons };
  if (queue.full) {
    return {
      ...base,
      outcome: 'skipped',
      detail: `more than ${queue.capacity} folders to empty in this run: the next run deletes it`,
    };
  }
  if (Date.now() > options.deadline) {
    return { ...base, outcome: 'skipped', detail: 'time budget spent: the next run deletes it' };
  }
  const bytes = await manifestAsSealed(s3, bucket, set, id, sealedSha256);
  if (bytes === 'changed') return { ...base, outcome: 'skipped', detail: MANIFEST_CHANGED };
  // Gone meanwhile (a run that crashed after this step): what is left is a remnant's, checked object by object.
  const deleted = bytes ? await deleteRecordsAndManifest(s3, bucket, set, id) : 0;
  logger.info('Deleted backup manifest; its folder is queued', { set, backupId: id, deleted });
  queue.add({ set, id, kind: bytes ? 'backup' : 'remnant', reasons: [...reasons], deleted });
  return undefined;
}

async function deleteBackup(
  s3: S3Client,
  bucket: string,
  set: string,
  id: string,
  sealedSha256: string,
  reasons: readonly string[],
  referenced: ReadonlySet<string>,
  options: RunOptions,
): Promise<Deletion> {
  const base = { id, reasons };
  if (!options.dryRun && Date.now() > options.deadline) {
    return { ...base, outcome: 'skipped', detail: 'time budget spent: the next run deletes it' };
  }
  const bytes = await manifestAsSealed(s3, bucket, set, id, sealedSha256);
  if (bytes === 'changed') return { ...base, outcome: 'skipped', detail: MANIFEST_CHANGED };
  const result = await deleteFolder(s3, bucket, set, id, referenced, bytes !== undefined, options);
  logger.info(options.dryRun ? 'Would delete backup' : 'Deleted backup', { set, backupId: id, ...result });
  return {
    ...base,
    outcome: options.dryRun ? 'would-delete' : result.partial ? 'partial' : 'deleted',
    objectsDeleted: result.objectsDeleted,
    objectsReferenced: result.objectsReferenced,
  };
}

async function deleteRemnant(
  s3: S3Client,
  bucket: string,
  set: string,
  id: string,
  referenced: ReadonlySet<string>,
  options: RunOptions,
): Promise<Deletion | undefined> {
  if (!options.dryRun && Date.now() > options.deadline) return undefined;
  const result = await deleteFolder(s3, bucket, set, id, referenced, false, options);
  if (result.objectsDeleted === 0) return undefined;
  return {
    id,
    reasons: [REMNANT_REASON],
    outcome: options.dryRun ? 'would-delete' : result.partial ? 'partial' : 'deleted',
    objectsDeleted: result.objectsDeleted,
    objectsReferenced: result.objectsReferenced,
    ...(result.objectsUnmanaged
      ? { detail: `${result.objectsUnmanaged} object(s) without ${TAG.managed}=${MANAGED_VALUE} left alone` }
      : {}),
  };
}
