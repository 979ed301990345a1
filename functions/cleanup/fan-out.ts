/**
 * The fanned-out cleanup of backup data (docs/backup-scaling.md#cleanup-of-backup-data): the
 * `plan` step queues the folders to empty (backup-retention.ts, folder-queue.ts); here, `folder`
 * empties one of them call after call in a Distributed Map child, and `finish` adds the
 * children's counts into the run's report.
 *
 * A child trusts nothing but its item (from the plan, in the payload) and sealed manifests: what
 * kept backups reference under its folder is recomputed on every call from the set's current
 * manifests whose seal verifies, so an object a kept backup references is never deleted — even a
 * backup that completed after the plan.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { type Budget, expired } from '#common/backup/budget';
import type { BackupCrypto } from '#common/backup/crypto';
import { backupPrefix, manifestKey } from '#common/backup/layout';
import type { Manifest } from '#common/backup/manifest';
import { exists, listPage } from '#common/backup/s3-io';
import { isFutureDated, openBackup } from '#common/backup/trusted-backups';
import { MANAGED_VALUE, TAG } from '#common/contract';
import { listBackupIds } from '#common/retention/recovery-points';
import { mapLimited } from '#common/runtime/map-limited';
import { emptyFolderPage, referencedKeys } from './backup-delete.ts';
import type { FolderCursor, FolderEvent, FolderItem, FolderSummary } from './input.ts';
import { type CleanupReport, type Deletion, settle, summarise, type TargetReport } from './report.ts';

interface Store {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly crypto: BackupCrypto;
}

/** Stored keys under backup `id`'s folder that a sealed manifest of the set references now. */
export async function folderReferences(
  store: Store,
  set: string,
  id: string,
  now: Date,
): Promise<Set<string>> {
  const ids = (await listBackupIds(store.s3, { bucket: store.bucket, set })).filter(
    (other) => other !== id && !isFutureDated(other, now),
  );
  const opened = await mapLimited(ids, 8, async (other) => ({
    id: other,
    opened: await openBackup(store, set, other),
  }));
  // Only sealed manifests count (docs/security.md); one missing or forged is no backup anyone restores.
  const sealed: { id: string; manifest: Manifest }[] = [];
  for (const entry of opened) {
    if (entry.opened.kind === 'sealed') sealed.push({ id: entry.id, manifest: entry.opened.loaded.manifest });
  }
  return referencedKeys(store.s3, store.bucket, set, sealed, new Set([id]));
}

/** Why a queued folder must be left alone now, if it must. */
async function reasonToLeave(store: Store, set: string, id: string): Promise<string | undefined> {
  if (await exists(store.s3, store.bucket, manifestKey(set, id)))
    return 'its folder holds a manifest.json again: left alone';
  const work = await listPage(store.s3, store.bucket, `${backupPrefix(set, id)}work/`, undefined, 1);
  if (work.objects.length) return 'its folder holds work in progress: left alone';
  return undefined;
}

export type FolderOutcome =
  | { readonly done: false; readonly cursor: FolderCursor }
  | { readonly done: true; readonly summary: FolderSummary };

/**
 * Empties one queued folder page by page until it is empty or the budget is spent (at least one
 * page per call, so every call makes progress). A `backup` folder's objects are Caretaker's (its
 * sealed manifest said so); a `remnant`'s are each checked for the managed tag (`TAG.managed`).
 */
export async function emptyFolderStep(
  store: Store,
  event: Pick<FolderEvent, 'set' | 'id' | 'kind' | 'cursor'>,
  budget: Budget,
  now: Date,
): Promise<FolderOutcome> {
  const { set, id } = event;
  const counts = {
    objectsDeleted: event.cursor?.objectsDeleted ?? 0,
    objectsReferenced: event.cursor?.objectsReferenced ?? 0,
    objectsUnmanaged: event.cursor?.objectsUnmanaged ?? 0,
  };
  const leave = await reasonToLeave(store, set, id);
  if (leave) return { done: true, summary: { set, id, ...counts, skipped: leave } };
  const referenced = await folderReferences(store, set, id, now);
  let startAfter = event.cursor?.startAfter;
  do {
    const page = await emptyFolderPage(
      store.s3,
      store.bucket,
      backupPrefix(set, id),
      startAfter,
      referenced,
      {
        checkTags: event.kind === 'remnant',
        dryRun: false,
      },
    );
    counts.objectsDeleted += page.objectsDeleted;
    counts.objectsReferenced += page.objectsReferenced;
    counts.objectsUnmanaged += page.objectsUnmanaged;
    startAfter = page.next;
  } while (startAfter !== undefined && !expired(budget));
  if (startAfter !== undefined) return { done: false, cursor: { startAfter, ...counts } };
  return { done: true, summary: { set, id, ...counts } };
}

/** The report entry of one emptied folder (none for a remnant that had nothing to delete, as before). */
function deletionOf(item: FolderItem, result: FolderSummary): Deletion | undefined {
  const objectsDeleted = item.deleted + result.objectsDeleted;
  const base = { id: item.id, reasons: item.reasons };
  if (result.skipped) return { ...base, outcome: 'skipped', detail: result.skipped, objectsDeleted };
  if (item.kind === 'remnant' && objectsDeleted === 0) return undefined;
  return {
    ...base,
    outcome: 'deleted',
    objectsDeleted,
    objectsReferenced: result.objectsReferenced,
    ...(result.objectsUnmanaged
      ? { detail: `${result.objectsUnmanaged} object(s) without ${TAG.managed}=${MANAGED_VALUE} left alone` }
      : {}),
  };
}

/**
 * The plan's report with every emptied folder's deletion added to its set, notes and statuses
 * settled and totals recomputed. Every folder must have exactly one result, in order (the
 * Distributed Map keeps its items' order): anything else is a wiring fault, not a partial success.
 */
export function finishReport(
  report: Pick<CleanupReport, 'dryRun' | 'now' | 'targets'>,
  folders: readonly FolderItem[],
  results: readonly FolderSummary[],
): CleanupReport {
  const mismatch = folders.findIndex((item, i) => results[i]?.set !== item.set || results[i]?.id !== item.id);
  if (folders.length !== results.length || mismatch !== -1) {
    throw new Error(
      `The Distributed Map returned ${results.length} result(s) for ${folders.length} folder(s)${mismatch === -1 ? '' : `; result ${mismatch} is not for ${folders[mismatch]!.set}/${folders[mismatch]!.id}`}`,
    );
  }
  const targets: TargetReport[] = report.targets.map((target) => ({
    ...target,
    deletions: [...target.deletions],
    notes: [...target.notes],
  }));
  const setReport = (set: string) => targets.find((t) => t.resource === 'backups' && t.name === set);
  folders.forEach((item, i) => {
    const target = setReport(item.set);
    if (!target) throw new Error(`The folder ${item.set}/${item.id} belongs to no backup set of the report`);
    const deletion = deletionOf(item, results[i]!);
    if (deletion) target.deletions.push(deletion);
  });
  for (const target of targets.filter((t) =>
    folders.some((item) => item.set === t.name && t.resource === 'backups'),
  )) {
    const stillReferenced = target.deletions.reduce((sum, d) => sum + (d.objectsReferenced ?? 0), 0);
    if (stillReferenced) {
      target.notes.push(
        `${stillReferenced} object(s) of deleted backups are kept: kept backups still reference them`,
      );
    }
    settle(target);
  }
  return summarise(report.dryRun, new Date(report.now), targets);
}
