import { describe, expect, it } from 'vitest';
import {
  combineRestoreRanges,
  combineRollbackRanges,
  partsNotCoveredOnce,
} from '../../../../../functions/common/backup/restore-range.ts';

const subject = { set: 'uploads', backupId: '20260401T050000Z-0a0b0c0d' };
const restored = (from: number, to: number, objects: number) => ({ from, to, objects, bytes: objects * 10 });
const rolledBack = (from: number, to: number, leftAloneKeys: string[] = []) => ({
  from,
  to,
  putBack: 1,
  deleted: 2,
  leftAlone: leftAloneKeys.length,
  leftAloneKeys,
});

describe('partsNotCoveredOnce', () => {
  it('is empty when the ranges cover every part exactly once, in any order', () => {
    expect(
      partsNotCoveredOnce(5, [
        { from: 3, to: 5 },
        { from: 0, to: 3 },
      ]),
    ).toEqual([]);
  });

  it('names parts missed, parts covered twice and a range reaching past the last part', () => {
    expect(
      partsNotCoveredOnce(4, [
        { from: 0, to: 2 },
        { from: 1, to: 2 },
        { from: 3, to: 5 },
      ]),
    ).toEqual([1, 2, 4]);
  });
});

describe('combineRestoreRanges', () => {
  it('adds the ranges up when every part was restored once', () => {
    expect(combineRestoreRanges(subject, 3, [restored(2, 3, 4), restored(0, 2, 6)])).toEqual({
      objects: 10,
      bytes: 100,
    });
  });

  it('is an IntegrityError naming the parts when a range is missing', () => {
    expect(() => combineRestoreRanges(subject, 3, [restored(0, 2, 6)])).toThrow(
      expect.objectContaining({
        name: 'IntegrityError',
        message: expect.stringContaining('parts not restored exactly once: 2'),
      }),
    );
  });
});

describe('combineRollbackRanges', () => {
  it('adds up what was undone and lists the left-alone keys in part order', () => {
    expect(combineRollbackRanges(4, [rolledBack(2, 4, ['t/z']), rolledBack(0, 2, ['t/a'])])).toEqual({
      putBack: 2,
      deleted: 4,
      leftAlone: 2,
      leftAloneKeys: ['t/a', 't/z'],
      uncovered: [],
    });
  });

  it('says which parts no range rolled back', () => {
    expect(combineRollbackRanges(4, [rolledBack(0, 2)]).uncovered).toEqual([2, 3]);
  });
});
