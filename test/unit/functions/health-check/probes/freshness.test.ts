import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecoveryPoint } from '../../../../../functions/common/retention/recovery-points.ts';
import {
  evaluateFreshness,
  probeSnapshotFreshness,
} from '../../../../../functions/health-check/probes/freshness.ts';

const rdsMock = mockClient(RDSClient);
const NOW = new Date('2026-03-10T12:00:00Z');

afterEach(() => {
  rdsMock.reset();
});

describe('RDS target freshness', () => {
  const target = { name: 'orders', type: 'instance' as const, identifier: 'orders-prod', rpo: 'P1D' };
  const managed = [
    { Key: 'caretaker:managed', Value: 'true' },
    { Key: 'caretaker:target', Value: 'orders' },
  ];

  it('passes when the newest available managed snapshot is younger than the RPO', async () => {
    // Prepare
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 's1',
          Status: 'available',
          SnapshotCreateTime: new Date('2026-03-10T02:00:00Z'),
          TagList: managed,
        },
      ],
    });

    // Act
    const outcome = await probeSnapshotFreshness(new RDSClient({}), target, NOW);

    // Assess
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(
      'RDS instance orders-prod (target orders): newest verified snapshot s1 is 10 h old, younger than RPO P1D (24 h)',
    );
  });

  it('fails when the only recent snapshot is still being created', async () => {
    // Prepare
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 's0',
          Status: 'available',
          SnapshotCreateTime: new Date('2026-03-08T02:00:00Z'),
          TagList: managed,
        },
        {
          DBSnapshotIdentifier: 's1',
          Status: 'creating',
          SnapshotCreateTime: new Date('2026-03-10T02:00:00Z'),
          TagList: managed,
        },
      ],
    });

    // Act
    const outcome = await probeSnapshotFreshness(new RDSClient({}), target, NOW);

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('newest verified snapshot s0 is 58 h old, older than RPO P1D (24 h)');
    expect(outcome.evidence).toMatchObject({ newestUnverified: { id: 's1', status: 'creating' } });
  });

  it('fails when there is no managed snapshot', async () => {
    // Prepare
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });

    // Act
    const outcome = await probeSnapshotFreshness(new RDSClient({}), target, NOW);

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('no verified snapshot among 0');
  });
});

describe('evaluateFreshness', () => {
  it('passes a point exactly as old as the RPO', () => {
    // Act
    const outcome = evaluateFreshness(
      {
        what: 'backup set uploads',
        kind: 'backup',
        rpo: 'PT1H',
        newest: {
          target: 'uploads',
          kind: 'backup',
          id: 'b',
          createdAt: new Date(NOW.getTime() - 3_600_000),
          verified: true,
          managed: true,
          tags: {},
        },
        pointsSeen: 1,
        location: {},
      },
      NOW,
    );

    // Assess
    expect(outcome.status).toBe('pass');
  });

  const backupPoint = (id: string, hoursOld: number, verified = true): RecoveryPoint => ({
    target: 'uploads',
    kind: 'backup',
    id,
    createdAt: new Date(NOW.getTime() - hoursOld * 3_600_000),
    verified,
    managed: true,
    tags: {},
  });
  const backupSet = { what: 'backup set uploads', kind: 'backup' as const, rpo: 'PT26H', location: {} };

  it('fails when the newest verified backup is older than the RPO, naming a newer unverified one', () => {
    // Act
    const outcome = evaluateFreshness(
      {
        ...backupSet,
        newest: backupPoint('20260308T020000Z-0000000a', 58),
        newestUnverified: backupPoint('20260310T020000Z-0000000b', 10, false),
        pointsSeen: 2,
      },
      NOW,
    );

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('is 58 h old, older than RPO PT26H (26 h)');
    expect(outcome.evidence).toMatchObject({
      ageSeconds: 208_800,
      newestUnverified: { id: '20260310T020000Z-0000000b', verified: false },
    });
  });

  it('fails on tampering with the true age of the newest sealed backup, naming the forged objects', () => {
    // Act
    const outcome = evaluateFreshness(
      {
        ...backupSet,
        newest: backupPoint('20260310T020000Z-0000000a', 10),
        pointsSeen: 3,
        tampering: [
          { kind: 'future-dated-backup', key: 'backups/uploads/20990101T000000Z-00000000/' },
          { kind: 'unsealed-verification', key: 'backups/uploads/x/verifications/20260310T110000Z.json' },
        ],
        tamperingCount: 2,
      },
      NOW,
    );

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(
      'backup set uploads: newest verified backup 20260310T020000Z-0000000a is 10 h old, younger than RPO PT26H (26 h); TAMPERING, ignored for this check: 2 forged or altered objects: 1 future-dated-backup (backups/uploads/20990101T000000Z-00000000/); 1 unsealed-verification (backups/uploads/x/verifications/20260310T110000Z.json)',
    );
    expect(outcome.evidence).toMatchObject({ ageSeconds: 36_000, tamperingCount: 2 });
  });

  it('fails when the set has no verified backup at all', () => {
    // Act
    const outcome = evaluateFreshness(
      {
        ...backupSet,
        newest: undefined,
        newestUnverified: backupPoint('20260310T020000Z-0000000b', 10, false),
        pointsSeen: 1,
      },
      NOW,
    );

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toMatch(
      /^backup set uploads: no verified backup among 1 \(RPO PT26H = 26 h\); newest unverified/,
    );
    expect(outcome.evidence.ageSeconds).toBeNull();
  });
});
