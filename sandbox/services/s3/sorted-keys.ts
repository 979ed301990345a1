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

export class SortedKeys {
  private readonly keys: string[] = [];

  /** Builds the index from keys in any order. */
  static from(keys: Iterable<string>): SortedKeys {
    const index = new SortedKeys();
    index.keys.push(...keys);
    index.keys.sort(compareKeys);
    return index;
  }

  get length(): number {
    return this.keys.length;
  }

  at(index: number): string | undefined {
    return this.keys[index];
  }

  /** Index of the first key >= `key`. */
  lowerBound(key: string): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareKeys(this.keys[mid]!, key) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Index of the first key > `key`. */
  upperBound(key: string): number {
    const index = this.lowerBound(key);
    return this.keys[index] === key ? index + 1 : index;
  }

  /** Index of the first key at or after `from` that does not start with `prefix`. */
  endOfPrefix(prefix: string, from: number): number {
    let low = from;
    let high = this.keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.keys[mid]!.startsWith(prefix)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  insert(key: string): void {
    const index = this.lowerBound(key);
    if (this.keys[index] !== key) this.keys.splice(index, 0, key);
  }

  remove(key: string): void {
    const index = this.lowerBound(key);
    if (this.keys[index] === key) this.keys.splice(index, 1);
  }
}
