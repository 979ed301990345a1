/**
 * Which backups depend on which, for retention. Pure.
 *
 * An incremental backup needs every ancestor up to its full backup: their manifests for the hash
 * chain and their objects for the copies it reuses. Deleting an ancestor of a kept backup would
 * break both, so retention must keep the ancestors of everything it keeps (as pgBackRest expires
 * a full backup only together with its incrementals).
 */

/** A backup and its parent, as its manifest records them. */
export interface BackupLink {
  readonly backupId: string;
  /** `null` for a full backup. */
  readonly parentBackupId: string | null;
}

export interface DeletionCheck {
  /** Backups that can be deleted without breaking a kept backup. */
  readonly deletable: string[];
  /** Backups asked to be deleted that a kept backup still needs, with the kept backups needing them. */
  readonly blocked: Array<{ readonly backupId: string; readonly neededBy: string[] }>;
}

/** Every ancestor of `backupId` (parent, grandparent, … up to the full backup), nearest first. */
export function ancestorsOf(links: readonly BackupLink[], backupId: string): string[] {
  const parentOf = new Map(links.map((link) => [link.backupId, link.parentBackupId]));
  const ancestors: string[] = [];
  const seen = new Set([backupId]);
  for (let parent = parentOf.get(backupId) ?? null; parent !== null && !seen.has(parent); ) {
    ancestors.push(parent);
    seen.add(parent);
    parent = parentOf.get(parent) ?? null;
  }
  return ancestors;
}

/** Splits the backups retention wants to delete into those it may delete and those still needed. */
export function checkDeletions(links: readonly BackupLink[], toDelete: readonly string[]): DeletionCheck {
  const deleting = new Set(toDelete);
  const neededBy = new Map<string, string[]>();
  for (const link of links) {
    if (deleting.has(link.backupId)) continue;
    for (const ancestor of ancestorsOf(links, link.backupId)) {
      if (!deleting.has(ancestor)) continue;
      neededBy.set(ancestor, [...(neededBy.get(ancestor) ?? []), link.backupId]);
    }
  }
  return {
    deletable: toDelete.filter((id) => !neededBy.has(id)),
    blocked: toDelete
      .filter((id) => neededBy.has(id))
      .map((id) => ({ backupId: id, neededBy: neededBy.get(id)! })),
  };
}
