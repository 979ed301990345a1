/**
 * Retention over a backup set: the planner over its complete backups, chains held (a kept
 * incremental keeps its ancestors), then deletion of what remains marked, newest first, keeping
 * every object a kept manifest references (backup-delete.ts), and finishing remnants a crashed
 * run left. Anything unreadable stops the set before anything is deleted.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { manifestKey } from '#common/backup/layout';
import { logger } from '#common/observability';
import { backupIdTime } from '#common/recovery-points';
import { planRetention } from '#common/retention';
import type { RetentionPolicy } from '#common/retention-policy';
import { deleteFolder, referencedKeys } from './backup-delete.ts';
import { backupInventory, objectManaged } from './backup-inventory.ts';
import { deletionOrder, holdChains } from './backup-plan.ts';
import { type Deletion, recordDecisions, settle, type TargetReport, targetReport } from './report.ts';
import type { RunOptions } from './snapshot-retention.ts';

/** A remnant younger than this is left alone (belt and braces against a backup just starting). */
const REMNANT_MIN_AGE_MS = 24 * 60 * 60 * 1000;
const REMNANT_REASON = 'remnant of a deleted backup (no manifest, no work in progress)';

/** Plans and applies retention to one backup set. */
export async function cleanBackups(
  s3: S3Client,
  bucket: string,
  set: string,
  policyName: string,
  policy: RetentionPolicy,
  options: RunOptions,
): Promise<TargetReport> {
  const report = targetReport(set, 'backups', policyName);
  try {
    await planAndDelete(s3, bucket, set, policy, options, report);
  } catch (error) {
    report.status = 'failed';
    report.reason = (error as Error).message;
    report.error = error;
  }
  settle(report);
  return report;
}

async function planAndDelete(
  s3: S3Client,
  bucket: string,
  set: string,
  policy: RetentionPolicy,
  options: RunOptions,
  report: TargetReport,
): Promise<void> {
  const inventory = await backupInventory(s3, bucket, set);
  if (inventory.complete.length === 0) {
    report.status = 'refused';
    report.reason = `no complete backups of set ${set} in ${bucket}: refusing to act on an empty inventory`;
    return;
  }
  const planned = planRetention(inventory.complete, policy, { now: options.now });
  const decisions = holdChains(
    planned,
    inventory.complete.map((backup) => ({ id: backup.id, parent: backup.manifest.parent?.backupId ?? null })),
    inventory.inProgress.flatMap((backup) =>
      backup.parent ? [{ id: backup.parent, reason: `parent of backup in progress ${backup.id}` }] : [],
    ),
  );
  recordDecisions(report, decisions);
  const held = decisions.filter((d, i) => d.action === 'keep' && planned[i]?.action === 'delete').length;
  if (held) report.notes.push(`${held} backup(s) the policy would delete are kept as links of a kept chain`);
  if (inventory.inProgress.length) {
    report.notes.push(
      `${inventory.inProgress.length} backup(s) in progress left alone: ${inventory.inProgress.map((b) => b.id).join(', ')}`,
    );
  }

  const toDelete = deletionOrder(decisions);
  const oldEnough = (id: string) =>
    options.now.getTime() - (backupIdTime(id)?.getTime() ?? options.now.getTime()) > REMNANT_MIN_AGE_MS;
  const remnants = inventory.remnants.filter(oldEnough);
  const keptIds = new Set(decisions.filter((d) => d.action === 'keep').map((d) => d.id));
  const kept = inventory.complete.filter((backup) => keptIds.has(backup.id));
  const referenced = await referencedKeys(s3, bucket, set, kept, new Set([...toDelete, ...remnants]));
  const reasons = new Map(decisions.map((d) => [d.id, d.reasons]));

  for (const id of toDelete) {
    report.deletions.push(
      await deleteBackup(s3, bucket, set, id, reasons.get(id) ?? [], referenced, options),
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

async function deleteBackup(
  s3: S3Client,
  bucket: string,
  set: string,
  id: string,
  reasons: readonly string[],
  referenced: ReadonlySet<string>,
  options: RunOptions,
): Promise<Deletion> {
  const base = { id, reasons };
  if (!options.dryRun && Date.now() > options.deadline) {
    return { ...base, outcome: 'skipped', detail: 'time budget spent: the next run deletes it' };
  }
  // Checked right before: only a backup whose manifest is Caretaker's goes.
  const managed = await objectManaged(s3, bucket, manifestKey(set, id));
  if (managed === false)
    return { ...base, outcome: 'skipped', detail: 'its manifest is no longer tagged caretaker:managed=true' };
  const result = await deleteFolder(s3, bucket, set, id, referenced, managed === true, options);
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
      ? { detail: `${result.objectsUnmanaged} object(s) without caretaker:managed=true left alone` }
      : {}),
  };
}
