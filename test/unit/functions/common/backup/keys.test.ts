import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys, findByKey } from '../../../../../functions/common/backup/keys.ts';

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('compareKeys', () => {
  it('orders keys as S3 lists them (UTF-8 bytes), not as JavaScript compares UTF-16', () => {
    const bmpHigh = '\uFF5E'; // ～, U+FF5E
    const astral = '😀'; // U+1F600, a surrogate pair in UTF-16

    expect(bmpHigh > astral).toBe(true); // JavaScript's order
    expect(compareKeys(bmpHigh, astral)).toBeLessThan(0); // S3's order
  });

  it('agrees with a byte comparison of the UTF-8 encodings for any keys', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(utf8Order(a, b)));
      }),
    );
  });
});

describe('findByKey', () => {
  it('finds every key of a sorted list and misses keys that are absent', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: 'grapheme' }), { minLength: 1 }),
        fc.string(),
        (keys, probe) => {
          const sorted = [...keys].sort(compareKeys);
          for (const [index, key] of sorted.entries()) expect(findByKey(sorted, key, (k) => k)).toBe(index);
          if (!keys.includes(probe)) expect(findByKey(sorted, probe, (k) => k)).toBe(-1);
        },
      ),
    );
  });
});
