/**
 * Object keys kept in S3's listing order (UTF-8 byte order), with binary search for listings
 * that start after a marker.
 */

/**
 * Compares two keys by their UTF-8 bytes. UTF-16 code-unit order agrees with it except that
 * surrogates (characters above U+FFFF) must sort after U+E000–U+FFFF, as their UTF-8 bytes do.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/**
 * A set of keys that lists in order. Writes are O(1): new keys wait in a pending list and removed
 * ones are only forgotten, and the sorted array is brought up to date by one sort-and-merge when
 * it is next read, so bulk uploads in any key order cost O(n log n), not O(n²).
 */
export class SortedKeys {
  private sorted: string[] = [];
  private pending: string[] = [];
  private readonly members = new Set<string>();
  private stale = 0;

  /** Builds the index from keys in any order. */
  static from(keys: Iterable<string>): SortedKeys {
    const index = new SortedKeys();
    for (const key of keys) index.insert(key);
    return index;
  }

  get length(): number {
    return this.settled().length;
  }

  at(index: number): string | undefined {
    return this.settled()[index];
  }

  /** Index of the first key >= `key`. */
  lowerBound(key: string): number {
    const keys = this.settled();
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareKeys(keys[mid]!, key) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Index of the first key > `key`. */
  upperBound(key: string): number {
    const index = this.lowerBound(key);
    return this.sorted[index] === key ? index + 1 : index;
  }

  /** Index of the first key at or after `from` that does not start with `prefix`. */
  endOfPrefix(prefix: string, from: number): number {
    const keys = this.settled();
    let low = from;
    let high = keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (keys[mid]!.startsWith(prefix)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  insert(key: string): void {
    if (this.members.has(key)) return;
    this.members.add(key);
    this.pending.push(key);
  }

  remove(key: string): void {
    if (this.members.delete(key)) this.stale++;
  }

  /** The sorted keys, after merging pending inserts and dropping removed keys. */
  private settled(): string[] {
    if (this.pending.length === 0 && this.stale === 0) return this.sorted;
    const incoming = this.pending.filter((key) => this.members.has(key)).sort(compareKeys);
    const merged: string[] = [];
    let left = 0;
    let right = 0;
    const take = (key: string): void => {
      // A key removed and added again can sit in both lists: keep it once, and only if present.
      if (this.members.has(key) && merged[merged.length - 1] !== key) merged.push(key);
    };
    while (left < this.sorted.length && right < incoming.length) {
      if (compareKeys(this.sorted[left]!, incoming[right]!) <= 0) take(this.sorted[left++]!);
      else take(incoming[right++]!);
    }
    while (left < this.sorted.length) take(this.sorted[left++]!);
    while (right < incoming.length) take(incoming[right++]!);
    this.sorted = merged;
    this.pending = [];
    this.stale = 0;
    return merged;
  }
}
