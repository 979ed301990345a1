/**
 * Looks up the parent backup's entry for a source key, loading the parent's parts on demand.
 * The listing arrives in key order, so each part is loaded about once; only the part in use is
 * kept in memory.
 */
import { compareKeys, findByKey } from './keys.ts';
import { type BackupStore, loadPart } from './load.ts';
import type { Manifest, ManifestEntry, ManifestPart } from './manifest.ts';

export class ParentIndex {
  private cached: ManifestPart | undefined;
  private readonly parts;

  constructor(
    private readonly store: BackupStore,
    private readonly manifest: Manifest,
  ) {
    this.parts = manifest.parts.filter((part) => part.firstKey !== undefined && part.lastKey !== undefined);
  }

  /** The parent's entry for `key`, or undefined when the parent did not have it. */
  async lookup(key: string): Promise<ManifestEntry | undefined> {
    // The first part whose last key is >= key is the only one that can hold it.
    let low = 0;
    let high = this.parts.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (compareKeys(this.parts[mid]!.lastKey!, key) >= 0) {
        found = mid;
        high = mid - 1;
      } else low = mid + 1;
    }
    const descriptor = found >= 0 ? this.parts[found] : undefined;
    if (!descriptor || compareKeys(descriptor.firstKey!, key) > 0) return undefined;
    if (this.cached?.batch !== descriptor.batch)
      this.cached = await loadPart(this.store, this.manifest, descriptor);
    const objects = this.cached.objects;
    const index = findByKey(objects, key, (entry) => entry.key);
    return index >= 0 ? objects[index] : undefined;
  }
}
