/**
 * Backup planning decisions, pure: full or incremental, copy or reuse each listed object, and
 * how listed objects are cut into batches.
 */
import { compareKeys, findByKey } from './keys.ts';
import type { Manifest, ManifestEntry } from './manifest.ts';
import type { ListedObject } from './s3-io.ts';

/** An object to encrypt and store, as the listing showed it. */
export interface CopyItem {
  readonly action: 'copy';
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: string;
}

/** An unchanged object: the parent's entry, pointing at the parent's (or an earlier) stored copy. */
export interface ReuseItem {
  readonly action: 'reuse';
  readonly entry: ManifestEntry;
}

export type PlanItem = CopyItem | ReuseItem;

/** Reuse the parent's copy when key, ETag and size are unchanged; copy otherwise. */
export function decideItem(listed: ListedObject, parent: ManifestEntry | undefined): PlanItem {
  if (parent && parent.key === listed.key && parent.etag === listed.etag && parent.size === listed.size) {
    return { action: 'reuse', entry: parent };
  }
  return {
    action: 'copy',
    key: listed.key,
    size: listed.size,
    etag: listed.etag,
    lastModified: listed.lastModified,
  };
}

/** The result of comparing a listing with the parent's entries. */
export interface ListingDiff {
  readonly items: PlanItem[];
  /** Keys in the parent that are gone from the listing (they drop out of the new manifest). */
  readonly deleted: string[];
}

/** Compares a complete listing with the parent's entries (both in S3 key order). */
export function diffListing(
  listed: readonly ListedObject[],
  parentEntries: readonly ManifestEntry[],
): ListingDiff {
  const items = listed.map((object) => {
    const index = findByKey(parentEntries, object.key, (entry) => entry.key);
    return decideItem(object, index >= 0 ? parentEntries[index] : undefined);
  });
  const present = new Set(listed.map((object) => object.key));
  const deleted = parentEntries.filter((entry) => !present.has(entry.key)).map((entry) => entry.key);
  return { items, deleted };
}

export interface ModeRequest {
  readonly mode: 'full' | 'incremental';
  /** Take a full backup after this many incrementals. */
  readonly fullEvery: number;
  readonly sourceBucket: string;
  readonly prefix: string;
  readonly keyArn: string;
}

export type ModeDecision =
  | { readonly mode: 'full'; readonly reason: string }
  | { readonly mode: 'incremental'; readonly reason: string };

/** Full or incremental, and why: incremental only onto a compatible parent within `fullEvery`. */
export function chooseMode(request: ModeRequest, parent: Manifest | undefined): ModeDecision {
  if (request.mode === 'full') return { mode: 'full', reason: 'the set is configured for full backups' };
  if (!parent) return { mode: 'full', reason: 'no earlier complete backup' };
  if (parent.chain.depth >= request.fullEvery) {
    return {
      mode: 'full',
      reason: `${parent.chain.depth} incrementals since the last full (fullEvery ${request.fullEvery})`,
    };
  }
  if (parent.source.bucket !== request.sourceBucket || parent.source.prefix !== request.prefix) {
    return { mode: 'full', reason: 'the source bucket or prefix changed since the last backup' };
  }
  if (parent.encryption.keyArn !== request.keyArn) {
    return { mode: 'full', reason: 'the backup key changed since the last backup' };
  }
  return {
    mode: 'incremental',
    reason: `incremental ${parent.chain.depth + 1} of ${request.fullEvery} onto ${parent.backupId}`,
  };
}

/** Limits of one batch: what one Distributed Map child (or one step of the loop) takes on. */
export interface BatchLimits {
  /** At most this many objects (listed, copied or reused). */
  readonly maxItems: number;
  /** At most this many bytes to copy (a batch always takes at least one object). */
  readonly maxCopyBytes: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxItems: 1000, maxCopyBytes: 8 * 1024 ** 3 };

/** Accumulates plan items and says when the current batch is full. */
export class BatchBuilder {
  private items: PlanItem[] = [];
  private copyBytes = 0;

  constructor(private readonly limits: BatchLimits) {}

  /** Whether adding `item` would overflow the current (non-empty) batch. */
  wouldOverflow(item: PlanItem): boolean {
    if (!this.items.length) return false;
    const bytes = item.action === 'copy' ? item.size : 0;
    return this.items.length >= this.limits.maxItems || this.copyBytes + bytes > this.limits.maxCopyBytes;
  }

  add(item: PlanItem): void {
    this.items.push(item);
    if (item.action === 'copy') this.copyBytes += item.size;
  }

  get size(): number {
    return this.items.length;
  }

  /** The last key added, for the listing cursor. */
  get lastKey(): string | undefined {
    const last = this.items[this.items.length - 1];
    return last ? (last.action === 'copy' ? last.key : last.entry.key) : undefined;
  }

  /** Takes the accumulated items and starts a new batch. */
  take(): PlanItem[] {
    const items = this.items;
    this.items = [];
    this.copyBytes = 0;
    return items;
  }
}

/** The key of a plan item. */
export function itemKey(item: PlanItem): string {
  return item.action === 'copy' ? item.key : item.entry.key;
}

/** Whether keys are strictly increasing in S3 order (a sanity check on listings and parts). */
export function strictlyIncreasing(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (compareKeys(keys[i - 1]!, keys[i]!) >= 0) return false;
  return true;
}
