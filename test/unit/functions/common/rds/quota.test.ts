import { describe, expect, it } from 'vitest';
import { assessQuota, isNearQuota, requireRoomFor } from '../../../../../functions/common/rds/quota.ts';

describe('requireRoomFor', () => {
  it('allows one more below the quota', () => {
    expect(() => requireRoomFor('DB snapshots', 'eu-west-1', 99, 100)).not.toThrow();
  });

  it('refuses at the quota with a QuotaExceededError naming the count and the quota', () => {
    let error: unknown;
    try {
      requireRoomFor('DB snapshots', 'eu-west-1', 100, 100);
    } catch (caught) {
      error = caught;
    }

    expect(error).toMatchObject({
      name: 'QuotaExceededError',
      message: expect.stringMatching(/eu-west-1 already holds 100 manual DB snapshots of a quota of 100/),
      details: { region: 'eu-west-1', used: 100, limit: 100 },
    });
  });
});

describe('assessQuota', () => {
  it('warns exactly from the warning percentage', () => {
    expect(isNearQuota(79, 100, 80)).toBe(false);
    expect(isNearQuota(80, 100, 80)).toBe(true);
  });

  it('reports the use and a note when near the quota', () => {
    const assessed = assessQuota('DB cluster snapshots', 'us-east-1', 9, 10, 80);

    expect(assessed).toMatchObject({ quota: { used: 9, limit: 10, warnPercent: 80 }, warning: true });
    expect(assessed.note).toBe(
      'us-east-1 holds 9 manual DB cluster snapshots of a quota of 10 (90 %, warning at 80 %)',
    );
  });

  it('has no note below the warning percentage', () => {
    expect(assessQuota('DB snapshots', 'us-east-1', 1, 10, 80)).toEqual({
      quota: { used: 1, limit: 10, warnPercent: 80 },
      warning: false,
    });
  });
});
