import { describe, expect, it } from 'vitest';
import {
  formatSubset,
  inSubset,
  parseSubset,
  rotatingSubset,
  type Subset,
  subsetGroup,
} from '../../../../../functions/common/backup/subset.ts';

const keys = Array.from(
  { length: 2000 },
  (_, i) => `backups/set/20260101T000000Z-0000000${i % 10}/objects/${i}`,
);

describe('parseSubset', () => {
  it('reads "all" and "n/t"', () => {
    expect(parseSubset('all')).toEqual({ kind: 'all' });
    expect(parseSubset('3/7')).toEqual({ kind: 'part', n: 3, t: 7 });
  });

  it.each(['0/7', '8/7', '1/0', '1-7', 'some', '1/7/2', ''])('rejects "%s" with a reason', (text) => {
    expect(parseSubset(text)).toMatch(/expected/);
  });

  it('formats back to the same text', () => {
    expect(formatSubset(parseSubset('2/5') as Subset)).toBe('2/5');
    expect(formatSubset({ kind: 'all' })).toBe('all');
  });
});

describe('subset selection', () => {
  it('puts every stored key in exactly one of the t groups, so 1/t … t/t read everything once', () => {
    const t = 7;
    const counts = new Map<string, number>();
    for (let n = 1; n <= t; n++) {
      for (const key of keys.filter((k) => inSubset(k, { kind: 'part', n, t }))) {
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }

    expect(counts.size).toBe(keys.length);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
  });

  it('is stable: a key stays in its group across runs and processes', () => {
    expect(keys.slice(0, 50).map((key) => subsetGroup(key, 5))).toEqual(
      keys.slice(0, 50).map((key) => subsetGroup(key, 5)),
    );
    expect(subsetGroup('backups/a/20260101T000000Z-00000000/objects/00000001/00000', 7)).toBe(
      subsetGroup('backups/a/20260101T000000Z-00000000/objects/00000001/00000', 7),
    );
  });

  it('spreads keys roughly evenly over the groups', () => {
    const t = 4;
    const sizes = Array.from({ length: t }, (_, i) => keys.filter((k) => subsetGroup(k, t) === i + 1).length);

    for (const size of sizes) expect(size).toBeGreaterThan(keys.length / t / 1.5);
  });

  it('reads everything with "all"', () => {
    expect(keys.every((key) => inSubset(key, { kind: 'all' }))).toBe(true);
  });
});

describe('rotatingSubset', () => {
  it('visits every group once over t consecutive runs', () => {
    const groups = Array.from({ length: 7 }, (_, run) => rotatingSubset({ kind: 'part', n: 1, t: 7 }, run));

    expect(groups.map((g) => (g.kind === 'part' ? g.n : 0)).sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('leaves "all" alone', () => {
    expect(rotatingSubset({ kind: 'all' }, 12)).toEqual({ kind: 'all' });
  });
});
