/**
 * Finds repeated ids among up to millions of points without a Map of strings (whose rehashing and
 * garbage collection cost hundreds of milliseconds at a million ids) and without one big hash
 * table (where every probe misses the cache). Ids are hashed in one sequential pass, partitioned
 * by the top bits of their hash (a stable scatter, so input order survives), and each partition
 * is checked in a small open-addressing table that stays in cache. Strings are compared only when
 * two full hashes match.
 */

/** Aim for partitions of about this many ids: their table (2 × 2 slots × 4 bytes each) fits L2. */
const PARTITION_TARGET = 2048;
const MAX_PARTITION_BITS = 12;

/**
 * Every repeated id, as a map from the index of each later occurrence to the index of the first.
 * Values that are not non-empty strings are skipped (the caller reports them).
 */
export function duplicateIds(count: number, idAt: (index: number) => unknown): Map<number, number> {
  const duplicates = new Map<number, number>();
  const hashes = new Int32Array(count);
  const valid = new Uint8Array(count);
  const partitionBits = Math.min(
    MAX_PARTITION_BITS,
    Math.max(0, Math.ceil(Math.log2(Math.max(1, count / PARTITION_TARGET)))),
  );
  const partitions = 1 << partitionBits;
  const shift = 32 - partitionBits;
  const partitionOf = (hash: number): number => (partitionBits === 0 ? 0 : hash >>> shift);
  const starts = new Uint32Array(partitions + 1);
  for (let i = 0; i < count; i++) {
    const id = idAt(i);
    if (typeof id !== 'string' || id === '') continue;
    const hash = hashOf(id);
    hashes[i] = hash;
    valid[i] = 1;
    starts[partitionOf(hash) + 1]!++;
  }
  for (let p = 0; p < partitions; p++) starts[p + 1]! += starts[p]!;
  const members = new Uint32Array(starts[partitions]!);
  const cursor = starts.slice(0, partitions);
  let largest = 0;
  for (let i = 0; i < count; i++) {
    if (valid[i] === 1) members[cursor[partitionOf(hashes[i]!)]!++] = i;
  }
  for (let p = 0; p < partitions; p++) largest = Math.max(largest, starts[p + 1]! - starts[p]!);

  // Slot pairs: [index of the first occurrence, its full hash].
  const table = new Int32Array(2 * tableSize(largest));
  for (let p = 0; p < partitions; p++) {
    const from = starts[p]!;
    const to = starts[p + 1]!;
    const size = tableSize(to - from);
    const mask = size - 1;
    table.fill(-1, 0, 2 * size);
    for (let k = from; k < to; k++) {
      const index = members[k]!;
      const hash = hashes[index]!;
      // The partition used the top bits; the slot comes from the bottom ones.
      let slot = hash & mask;
      for (;;) {
        const held = table[2 * slot]!;
        if (held === -1) {
          table[2 * slot] = index;
          table[2 * slot + 1] = hash;
          break;
        }
        if (table[2 * slot + 1] === hash && idAt(held) === idAt(index)) {
          duplicates.set(index, held);
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
  }
  return duplicates;
}

/** A power of two at least twice `entries`: linear probing stays short at half load. */
function tableSize(entries: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(8, entries * 2)));
}

/** FNV-1a over UTF-16 code units, then a final avalanche so the top and bottom bits both mix. */
export function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}
