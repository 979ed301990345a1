/**
 * Duplicate-id detection under the retention planner (functions/common/retention/duplicate-ids.ts),
 * checked against a Map for small and partitioned (large) inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateIds, hashOf } from '../../../../../functions/common/retention/duplicate-ids.ts';

/** The obvious implementation: first index of each id in a Map. */
function expected(ids: readonly unknown[]): Map<number, number> {
  const first = new Map<string, number>();
  const duplicates = new Map<number, number>();
  ids.forEach((id, index) => {
    if (typeof id !== 'string' || id === '') return;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, index);
    else duplicates.set(index, earlier);
  });
  return duplicates;
}

describe('duplicateIds', () => {
  it('maps each later occurrence to the first, like a Map would', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.constantFrom('a', 'b', 'snap-1', 'é', ''), fc.string({ maxLength: 3 }), fc.constant(7)),
          {
            maxLength: 200,
          },
        ),
        (ids) => {
          // Act
          const found = duplicateIds(ids.length, (index) => ids[index]);

          // Assess
          expect(found).toEqual(expected(ids));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('finds repeats among 300,000 ids spread over many partitions', () => {
    // Prepare: unique ids, with three planted repeats far apart.
    const ids = Array.from({ length: 300_000 }, (_, i) => `rds:prod-db-${i.toString(36)}`);
    ids[250_000] = ids[3]!;
    ids[299_999] = ids[3]!;
    ids[120_000] = ids[119_999]!;

    // Act
    const found = duplicateIds(ids.length, (index) => ids[index]);

    // Assess
    expect([...found].sort((a, b) => a[0] - b[0])).toEqual([
      [120_000, 119_999],
      [250_000, 3],
      [299_999, 3],
    ]);
  });

  it('tells apart different ids whose full hashes collide', () => {
    // Prepare: among a few hundred thousand random ids two share a 32-bit hash (birthday bound).
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    let state = 12345;
    const letter = () => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return String.fromCharCode(97 + ((state >>> 16) % 26));
    };
    for (let i = 0; pair === undefined && i < 2_000_000; i++) {
      const id = Array.from({ length: 10 }, letter).join('');
      const other = seen.get(hashOf(id));
      if (other === undefined) seen.set(hashOf(id), id);
      else if (other !== id) pair = [other, id];
    }
    const [a, b] = pair!;

    // Act
    const distinct = duplicateIds(2, (index) => [a, b][index]);
    const repeated = duplicateIds(4, (index) => [a, b, b, a][index]);

    // Assess
    expect(hashOf(a)).toBe(hashOf(b));
    expect(distinct.size).toBe(0);
    expect(repeated).toEqual(
      new Map([
        [2, 1],
        [3, 0],
      ]),
    );
  });
});
