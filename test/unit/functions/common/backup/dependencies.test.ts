import { describe, expect, it } from 'vitest';
import {
  ancestorsOf,
  type BackupLink,
  checkDeletions,
} from '../../../../../functions/common/backup/dependencies.ts';

// Two chains: F1 ← I1 ← I2, and F2 ← I3.
const links: BackupLink[] = [
  { backupId: 'F1', parentBackupId: null },
  { backupId: 'I1', parentBackupId: 'F1' },
  { backupId: 'I2', parentBackupId: 'I1' },
  { backupId: 'F2', parentBackupId: null },
  { backupId: 'I3', parentBackupId: 'F2' },
];

describe('ancestorsOf', () => {
  it('walks up to the full backup, nearest first', () => {
    expect(ancestorsOf(links, 'I2')).toEqual(['I1', 'F1']);
    expect(ancestorsOf(links, 'F2')).toEqual([]);
  });

  it('stops at a parent that is not listed (already gone) and at cycles', () => {
    expect(ancestorsOf([{ backupId: 'I9', parentBackupId: 'gone' }], 'I9')).toEqual(['gone']);
    expect(
      ancestorsOf(
        [
          { backupId: 'A', parentBackupId: 'B' },
          { backupId: 'B', parentBackupId: 'A' },
        ],
        'A',
      ),
    ).toEqual(['B']);
  });
});

describe('checkDeletions', () => {
  it('lets a whole chain go', () => {
    expect(checkDeletions(links, ['F1', 'I1', 'I2'])).toEqual({ deletable: ['F1', 'I1', 'I2'], blocked: [] });
  });

  it('blocks deleting an ancestor of a kept backup and names who needs it', () => {
    expect(checkDeletions(links, ['F1', 'I1', 'I3'])).toEqual({
      deletable: ['I3'],
      blocked: [
        { backupId: 'F1', neededBy: ['I2'] },
        { backupId: 'I1', neededBy: ['I2'] },
      ],
    });
  });
});
