import { describe, expect, it } from 'vitest';
import type { RecoveryPoint } from '#common/retention/recovery-points';
import { CLOCK_SKEW_MS, pickSnapshot } from '../../../../functions/rds-restore/choose.ts';

const NOW = new Date('2026-04-01T05:00:00Z');

function point(id: string, createdAt: string, status = 'available', managed = true): RecoveryPoint {
  return {
    target: 'orders',
    kind: 'snapshot',
    id,
    createdAt: new Date(createdAt),
    verified: managed && status === 'available',
    managed,
    status,
    tags: {},
  };
}

describe('pickSnapshot', () => {
  it('takes the newest available managed snapshot and names the newer ones it passed over', () => {
    const points = [
      point('snap-a', '2026-03-30T02:00:00Z'),
      point('snap-b', '2026-03-31T02:00:00Z'),
      point('snap-c', '2026-04-01T02:00:00Z', 'creating'),
    ];

    const picked = pickSnapshot(points, NOW);

    expect(picked).toEqual({
      point: points[1],
      skipped: [{ id: 'snap-c', kind: 'unavailable', why: 'creating: not restorable yet' }],
    });
  });

  it('ignores a snapshot dated in the future, beyond the clock skew allowed', () => {
    const future = new Date(NOW.getTime() + CLOCK_SKEW_MS + 1000).toISOString();
    const points = [point('snap-a', '2026-03-31T02:00:00Z'), point('snap-forged', future)];

    const picked = pickSnapshot(points, NOW);

    expect(picked).toMatchObject({
      point: { id: 'snap-a' },
      skipped: [{ id: 'snap-forged', kind: 'future' }],
    });
  });

  it('accepts a snapshot within the clock skew', () => {
    const soon = new Date(NOW.getTime() + CLOCK_SKEW_MS - 1000).toISOString();

    expect(pickSnapshot([point('snap-now', soon)], NOW)).toMatchObject({ point: { id: 'snap-now' } });
  });

  it('finds nothing when no snapshot is restorable', () => {
    expect(pickSnapshot([point('snap-a', '2026-03-31T02:00:00Z', 'creating')], NOW)).toEqual({ missing: '' });
  });

  it('takes a given snapshot whatever its age or maker, matching the identifier case-insensitively', () => {
    const points = [
      point('snap-old', '2026-01-01T00:00:00Z', 'available', false),
      point('snap-new', '2026-03-31T02:00:00Z'),
    ];

    expect(pickSnapshot(points, NOW, 'SNAP-OLD')).toEqual({ point: points[0], skipped: [] });
    expect(pickSnapshot(points, NOW, 'snap-other')).toEqual({ missing: 'snap-other' });
  });
});
