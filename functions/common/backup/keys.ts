/**
 * S3 key order. S3 lists keys in UTF-8 binary order; JavaScript's `<` compares UTF-16 code units,
 * which disagrees for characters above U+FFFF against U+E000–U+FFFF. Every merge and binary
 * search over listings and manifests uses {@link compareKeys} so they agree with S3.
 */

/** Compares two keys in UTF-8 byte order (the order of an S3 listing). */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–U+DFFF) encode code points above U+FFFF, which sort after every BMP
    // character in UTF-8; other code units compare as their code points do.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Index of the element whose key equals `key` in `sorted` (by {@link compareKeys}), or -1. */
export function findByKey<T>(sorted: readonly T[], key: string, keyOf: (item: T) => string): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const order = compareKeys(keyOf(sorted[mid]!), key);
    if (order === 0) return mid;
    if (order < 0) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}
