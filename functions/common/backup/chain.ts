/**
 * The manifest hash chain, checked link by link. Pure: the caller fetches the parent's bytes.
 *
 * A full backup starts a chain (`parent: null`, depth 0). Each incremental records its parent's
 * id and the SHA-256 of the parent's manifest bytes; since the child's manifest is sealed, an
 * edited or removed ancestor is detected from any later backup of the chain.
 */
import { compareKeys } from './keys.ts';
import { manifestKey } from './layout.ts';
import { type Manifest, manifestSchema, sha256Hex } from './manifest.ts';
import type { Problem } from './problems.ts';

/** Problems with a chain's start: a full backup must be its own chain's root. */
export function rootProblems(manifest: Manifest): Problem[] {
  if (manifest.parent !== null) return [];
  const ok =
    manifest.mode === 'full' &&
    manifest.chain.depth === 0 &&
    manifest.chain.fullBackupId === manifest.backupId;
  return ok
    ? []
    : [
        {
          problem: 'broken-chain',
          backupId: manifest.backupId,
          detail: `a backup without parent must be a full backup of depth 0 rooted at itself (mode ${manifest.mode}, depth ${manifest.chain.depth}, full ${manifest.chain.fullBackupId})`,
        },
      ];
}

/** The outcome of checking one link: the parent manifest (when it checks out) and any problems. */
export interface LinkCheck {
  readonly parent?: Manifest;
  readonly problems: Problem[];
}

/**
 * Checks the link from `child` to its parent, given the parent manifest's bytes as stored
 * (undefined when missing). The child must have a parent.
 */
export function checkLink(child: Manifest, parentBytes: Uint8Array | undefined): LinkCheck {
  const link = child.parent;
  if (!link) return { problems: rootProblems(child) };
  const storedKey = manifestKey(child.set, link.backupId);
  const about = { backupId: child.backupId, storedKey };
  if (!parentBytes) {
    return { problems: [{ ...about, problem: 'missing-parent', detail: `parent ${link.backupId}` }] };
  }
  const actual = sha256Hex(parentBytes);
  if (actual !== link.manifestSha256) {
    return {
      problems: [{ ...about, problem: 'edited-parent', expected: link.manifestSha256, actual }],
    };
  }
  let parent: Manifest;
  try {
    parent = manifestSchema.parse(JSON.parse(Buffer.from(parentBytes).toString('utf8')));
  } catch (error) {
    // The bytes are the ones the child sealed, so the parent was written unreadable: report it.
    return {
      problems: [
        {
          ...about,
          problem: 'broken-chain',
          detail: `parent manifest unreadable: ${(error as Error).message}`,
        },
      ],
    };
  }
  const inconsistencies = [
    parent.backupId !== link.backupId && `parent manifest is for ${parent.backupId}`,
    parent.set !== child.set && `parent belongs to set ${parent.set}`,
    compareKeys(parent.backupId, child.backupId) >= 0 && 'parent is not older than the child',
    child.mode !== 'incremental' && 'a backup with a parent must be incremental',
    child.chain.fullBackupId !== parent.chain.fullBackupId &&
      `child's full backup ${child.chain.fullBackupId} differs from parent's ${parent.chain.fullBackupId}`,
    child.chain.depth !== parent.chain.depth + 1 &&
      `child depth ${child.chain.depth} is not parent depth ${parent.chain.depth} + 1`,
  ].filter((text): text is string => typeof text === 'string');
  return {
    parent,
    problems: inconsistencies.map((detail) => ({ ...about, problem: 'broken-chain' as const, detail })),
  };
}
