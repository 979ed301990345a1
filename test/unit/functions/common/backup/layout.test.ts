import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../../../../functions/common/backup/keys.ts';
import {
  compactIso,
  isBackupId,
  newBackupId,
  storedObjectKey,
  verificationKey,
} from '../../../../../functions/common/backup/layout.ts';
import { backupIdTime, verificationTime } from '../../../../../functions/common/retention/recovery-points.ts';

const TIME = new Date('2026-03-04T05:06:07.890Z');

describe('newBackupId', () => {
  it('starts with the UTC time so ids sort by time, as recovery points read them', () => {
    const id = newBackupId(TIME);

    expect(isBackupId(id)).toBe(true);
    expect(id.startsWith('20260304T050607Z-')).toBe(true);
    expect(backupIdTime(id)?.toISOString()).toBe('2026-03-04T05:06:07.000Z');
  });

  it('is the same for the same execution (a retried start agrees) and differs across executions', () => {
    expect(newBackupId(TIME, 'exec-1')).toBe(newBackupId(TIME, 'exec-1'));
    expect(newBackupId(TIME, 'exec-1')).not.toBe(newBackupId(TIME, 'exec-2'));
  });
});

describe('storedObjectKey', () => {
  it('sorts in batch then item order, whatever the numbers', () => {
    const keys = [
      storedObjectKey('s', '20260101T000000Z-00000000', 1, 9),
      storedObjectKey('s', '20260101T000000Z-00000000', 1, 10),
      storedObjectKey('s', '20260101T000000Z-00000000', 2, 0),
      storedObjectKey('s', '20260101T000000Z-00000000', 10, 0),
    ];

    expect([...keys].sort(compareKeys)).toEqual(keys);
  });
});

describe('verificationKey', () => {
  it('names the record by its compact ISO time, which recovery points read back', () => {
    const key = verificationKey('docs', '20260101T000000Z-00000000', TIME);

    expect(key).toBe('backups/docs/20260101T000000Z-00000000/verifications/20260304T050607Z.json');
    expect(verificationTime(key)?.toISOString()).toBe('2026-03-04T05:06:07.000Z');
    expect(compactIso(TIME, true)).toBe('20260304T050607.890Z');
  });
});
