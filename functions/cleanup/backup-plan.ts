/**
 * What retention may delete of a backup set once the planner has decided. Pure.
 *
 * The planner sees recovery points; backups are also links of a hash chain. An incremental
 * backup's verification and restore check every manifest back to its full backup, so a backup
 * the planner would delete is kept while a kept backup (or a backup in progress, through its
 * parent) chains to it: deleting it would make the kept backup unverifiable. Such a backup is
 * kept with the reason `chain of <child>`.
 */
import type { RetentionDecision } from '#common/retention/retention';

/** A complete backup as the plan needs it. */
export interface ChainLink {
  readonly id: string;
  /** The parent backup (null for a full backup). */
  readonly parent: string | null;
}

/**
 * The planner's decisions with every ancestor of a kept backup (and of each `extraRoots` id, the
 * parents of backups in progress) turned into a keep. Input order is kept.
 */
export function holdChains(
  decisions: readonly RetentionDecision[],
  links: readonly ChainLink[],
  extraRoots: readonly { readonly id: string; readonly reason: string }[] = [],
): RetentionDecision[] {
  const parentOf = new Map(links.map((link) => [link.id, link.parent]));
  const keptBy = new Map<string, string>();
  const walk = (start: string | null | undefined, reason: string) => {
    for (let id = start; id && !keptBy.has(id); id = parentOf.get(id)) keptBy.set(id, reason);
  };
  for (const root of extraRoots) walk(root.id, root.reason);
  for (const decision of decisions) {
    if (decision.action === 'keep') walk(parentOf.get(decision.id), `chain of ${decision.id}`);
  }
  return decisions.map((decision) => {
    const reason = keptBy.get(decision.id);
    if (decision.action === 'keep' || reason === undefined) return decision;
    return { id: decision.id, action: 'keep', reasons: [reason] };
  });
}

/** Backups to delete, newest first (a child before its parent, so every remaining chain stays whole). */
export function deletionOrder(decisions: readonly RetentionDecision[]): string[] {
  return decisions
    .filter((decision) => decision.action === 'delete')
    .map((decision) => decision.id)
    .sort()
    .reverse();
}
