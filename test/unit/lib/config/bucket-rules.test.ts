/** Restores never land in what is backed up, and the backup bucket is neither a source nor a target. */
import { describe, expect, it } from 'vitest';
import { bucketProblems, looksLikeBackupBucket } from '../../../../lib/config/bucket-rules.ts';

const uploads = { sourceBucket: 'app-data', prefix: 'uploads/' };

describe('DR restore targets', () => {
  it('refuses a default restore into a set that backs up its whole bucket', () => {
    // Prepare: without restoreBucket the set's own bucket is the target, under dr-restore/.
    const config = {
      backupSets: [{ sourceBucket: 'app-data', prefix: '' }],
      disasterRecovery: { restorePrefix: 'dr-restore/' },
    };

    // Act
    const problems = bucketProblems(config);

    // Assess
    expect(problems).toEqual([
      {
        path: ['disasterRecovery', 'restorePrefix'],
        message: expect.stringMatching(
          /^restoring into s3:\/\/app-data\/dr-restore\/ overlaps the source of backupSets\[0\] \(s3:\/\/app-data\/\)/,
        ),
      },
    ]);
  });

  it('refuses a restore bucket and prefix inside another set’s source', () => {
    // Prepare
    const config = {
      backupSets: [uploads, { sourceBucket: 'reports', prefix: 'monthly/' }],
      disasterRecovery: { restoreBucket: 'reports', restorePrefix: 'monthly/restored/' },
    };

    // Act
    const problems = bucketProblems(config);

    // Assess
    expect(problems.map((problem) => problem.path)).toEqual([['disasterRecovery', 'restoreBucket']]);
    expect(problems[0]?.message).toContain('backupSets[1]');
  });

  it('refuses a restore prefix that contains a source prefix', () => {
    // Prepare
    const config = {
      backupSets: [uploads],
      disasterRecovery: { restoreBucket: 'app-data', restorePrefix: '' },
    };

    // Act / Assess
    expect(bucketProblems(config)).toHaveLength(1);
  });

  it('accepts the default restore beside a set’s prefix', () => {
    // Prepare
    const config = { backupSets: [uploads], disasterRecovery: { restorePrefix: 'dr-restore/' } };

    // Act / Assess
    expect(bucketProblems(config)).toEqual([]);
  });

  it('accepts a restore bucket of its own', () => {
    // Prepare
    const config = {
      backupSets: [uploads],
      disasterRecovery: { restoreBucket: 'dr-scratch', restorePrefix: '' },
    };

    // Act / Assess
    expect(bucketProblems(config)).toEqual([]);
  });
});

describe('the backup bucket', () => {
  it('refuses a restore bucket named like a Caretaker backup bucket', () => {
    // Prepare
    const config = {
      backupSets: [uploads],
      disasterRecovery: {
        restoreBucket: 'caretaker-prod-storagebackups1a2b3c4d-x9y8z7w6v5u4',
        restorePrefix: 'x/',
      },
    };

    // Act / Assess
    expect(bucketProblems(config).map((problem) => problem.path)).toEqual([
      ['disasterRecovery', 'restoreBucket'],
    ]);
  });

  it('refuses a backup source named like a Caretaker backup bucket', () => {
    // Prepare
    const config = {
      backupSets: [{ sourceBucket: 'caretaker-prod-storagebackups1a2b3c4d-x9y8z7w6v5u4', prefix: '' }],
      disasterRecovery: { restoreBucket: 'dr-scratch', restorePrefix: '' },
    };

    // Act / Assess
    expect(bucketProblems(config).map((problem) => problem.path)).toEqual([
      ['backupSets', 0, 'sourceBucket'],
    ]);
  });

  it('does not take the access-log bucket for the backup bucket', () => {
    expect(looksLikeBackupBucket('caretaker-prod-storageaccesslogs5e6f7a8b-abc')).toBe(false);
  });
});
