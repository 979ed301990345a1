import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { ListObjectsV2Command, type ListObjectsV2CommandInput, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  evaluateFreshness,
  probeBackupFreshness,
  probeSnapshotFreshness,
} from '../../../../../functions/health-check/probes/freshness.ts';

const s3Mock = mockClient(S3Client);
const rdsMock = mockClient(RDSClient);
const NOW = new Date('2026-03-10T12:00:00Z');

afterEach(() => {
  s3Mock.reset();
  rdsMock.reset();
});

/** A bucket holding one set's backups; each id maps to its verification record times. */
function backups(set: string, ids: Record<string, string[]>) {
  s3Mock.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => {
    if (input.Delimiter === '/') {
      return { CommonPrefixes: Object.keys(ids).map((id) => ({ Prefix: `backups/${set}/${id}/` })) };
    }
    const id = input.Prefix?.split('/')[2] ?? '';
    return { Contents: (ids[id] ?? []).map((at) => ({ Key: `${input.Prefix}${at}.json` })) };
  });
}

describe('backup set freshness', () => {
  it('passes when the newest verified backup is younger than the RPO', async () => {
    // Prepare
    backups('uploads', { '20260310T020000Z-0000000a': ['20260310T030000Z'] });

    // Act
    const outcome = await probeBackupFreshness(
      new S3Client({}),
      'bucket',
      { name: 'uploads', rpo: 'PT26H' },
      NOW,
    );

    // Assess
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(
      'backup set uploads: newest verified backup 20260310T020000Z-0000000a is 10 h old, younger than RPO PT26H (26 h)',
    );
    expect(outcome.evidence).toMatchObject({ ageSeconds: 36_000, rpoSeconds: 93_600, bucket: 'bucket' });
  });

  it('fails when the newest verified backup is older than the RPO, even with a newer unverified one', async () => {
    // Prepare
    backups('uploads', {
      '20260308T020000Z-0000000a': ['20260308T030000Z'],
      '20260310T020000Z-0000000b': [],
    });

    // Act
    const outcome = await probeBackupFreshness(
      new S3Client({}),
      'bucket',
      { name: 'uploads', rpo: 'PT26H' },
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

  it('fails when the set has no verified backup at all', async () => {
    // Prepare
    backups('uploads', { '20260310T020000Z-0000000b': [] });

    // Act
    const outcome = await probeBackupFreshness(
      new S3Client({}),
      'bucket',
      { name: 'uploads', rpo: 'PT26H' },
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
});
