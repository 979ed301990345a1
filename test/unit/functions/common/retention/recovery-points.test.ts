import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { ListObjectsV2Command, type ListObjectsV2CommandInput, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  backupIdTime,
  listBackupIds,
  listSnapshotRecoveryPoints,
  newestVerified,
  verificationTime,
} from '../../../../../functions/common/retention/recovery-points.ts';

const s3Mock = mockClient(S3Client);
const rdsMock = mockClient(RDSClient);
const s3 = new S3Client({});
const rds = new RDSClient({});
const BUCKET = 'caretaker-backups';

afterEach(() => {
  s3Mock.reset();
  rdsMock.reset();
});

/** ListObjectsV2 over a list of keys, with its prefix/delimiter/continuation semantics and small pages. */
function bucketWith(keys: string[], pageSize = 2) {
  const sorted = [...keys].sort();
  s3Mock.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => {
    const prefix = input.Prefix ?? '';
    const entries: { key?: string; common?: string }[] = [];
    for (const key of sorted.filter((k) => k.startsWith(prefix))) {
      const rest = key.slice(prefix.length);
      const cut = input.Delimiter ? rest.indexOf(input.Delimiter) : -1;
      if (cut >= 0) {
        const common = prefix + rest.slice(0, cut + 1);
        if (entries.at(-1)?.common !== common) entries.push({ common });
      } else entries.push({ key });
    }
    const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
    const page = entries.slice(start, start + pageSize);
    const truncated = start + pageSize < entries.length;
    return {
      Contents: page.filter((e) => e.key).map((e) => ({ Key: e.key })),
      CommonPrefixes: page.filter((e) => e.common).map((e) => ({ Prefix: e.common })),
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: String(start + pageSize) } : {}),
    };
  });
}

function backup(set: string, id: string, verifications: string[] = []) {
  return [
    `backups/${set}/${id}/manifest.json`,
    `backups/${set}/${id}/objects/a.bin`,
    `backups/${set}/${id}/objects/b.bin`,
    ...verifications.map((at) => `backups/${set}/${id}/verifications/${at}.json`),
  ];
}

describe('backup ids and verification record names', () => {
  it('reads the UTC creation time from a backupId', () => {
    expect(backupIdTime('20260102T030405Z-0a1b2c3d')?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });

  it('rejects folders that are not backupIds, including impossible dates', () => {
    expect(backupIdTime('latest')).toBeUndefined();
    expect(backupIdTime('20261302T030405Z-0a1b2c3d')).toBeUndefined();
    expect(backupIdTime('20260102T250405Z-0a1b2c3d')).toBeUndefined();
  });

  it('reads the time of a verification record from its key, with or without milliseconds', () => {
    expect(verificationTime('backups/x/id/verifications/20260102T030405Z.json')?.toISOString()).toBe(
      '2026-01-02T03:04:05.000Z',
    );
    expect(verificationTime('backups/x/id/verifications/20260102T030405.250Z.json')?.toISOString()).toBe(
      '2026-01-02T03:04:05.250Z',
    );
  });
});

describe('backup ids of a set', () => {
  it('lists backupIds oldest first and ignores folders in the set that are not backupIds', async () => {
    // Prepare
    bucketWith([
      ...backup('uploads', '20260102T020000Z-00000002'),
      ...backup('uploads', '20260101T020000Z-00000001'),
      'backups/uploads/tmp/x.json',
    ]);

    // Act
    const ids = await listBackupIds(s3, { bucket: BUCKET, set: 'uploads' });

    // Assess
    expect(ids).toEqual(['20260101T020000Z-00000001', '20260102T020000Z-00000002']);
  });
});

const tags = (entries: Record<string, string>) =>
  Object.entries(entries).map(([Key, Value]) => ({ Key, Value }));
const MANAGED = { 'caretaker:managed': 'true', 'caretaker:target': 'orders', 'caretaker:kind': 'snapshot' };

describe('snapshot recovery points', () => {
  it('lists managed manual snapshots of an instance, across pages, oldest first', async () => {
    // Prepare
    rdsMock
      .on(DescribeDBSnapshotsCommand, {
        DBInstanceIdentifier: 'orders-prod',
        SnapshotType: 'manual',
        Marker: undefined,
      })
      .resolves({
        DBSnapshots: [
          {
            DBSnapshotIdentifier: 'caretaker-orders-2',
            DBSnapshotArn: 'arn:aws:rds:us-east-1:111122223333:snapshot:caretaker-orders-2',
            Status: 'available',
            SnapshotCreateTime: new Date('2026-01-02T02:00:00Z'),
            TagList: tags({ ...MANAGED, 'caretaker:drill-verified': '2026-01-03T05:00:00Z' }),
          },
          {
            DBSnapshotIdentifier: 'someone-elses',
            Status: 'available',
            SnapshotCreateTime: new Date('2026-01-04T02:00:00Z'),
            TagList: [],
          },
        ],
        Marker: 'page-2',
      });
    rdsMock.on(DescribeDBSnapshotsCommand, { Marker: 'page-2' }).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'caretaker-orders-1',
          Status: 'available',
          SnapshotCreateTime: new Date('2026-01-01T02:00:00Z'),
          TagList: tags(MANAGED),
        },
        {
          DBSnapshotIdentifier: 'caretaker-orders-3',
          Status: 'creating',
          SnapshotCreateTime: new Date('2026-01-05T02:00:00Z'),
          TagList: tags(MANAGED),
        },
      ],
    });

    // Act
    const points = await listSnapshotRecoveryPoints(rds, {
      target: 'orders',
      type: 'instance',
      identifier: 'orders-prod',
    });

    // Assess
    expect(points.map((p) => [p.id, p.verified, p.status])).toEqual([
      ['caretaker-orders-1', true, 'available'],
      ['caretaker-orders-2', true, 'available'],
      ['caretaker-orders-3', false, 'creating'],
    ]);
    expect(points[1]).toMatchObject({
      target: 'orders',
      kind: 'snapshot',
      managed: true,
      verifiedAt: new Date('2026-01-03T05:00:00Z'),
      arn: 'arn:aws:rds:us-east-1:111122223333:snapshot:caretaker-orders-2',
    });
    expect(newestVerified(points)?.id).toBe('caretaker-orders-2');
  });

  it('includes unmanaged snapshots, marked unmanaged and unverified, only when asked', async () => {
    // Prepare
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'manual-1',
          Status: 'available',
          SnapshotCreateTime: new Date(),
          TagList: [],
        },
      ],
    });

    // Act
    const points = await listSnapshotRecoveryPoints(rds, {
      target: 'orders',
      type: 'instance',
      identifier: 'orders-prod',
      includeUnmanaged: true,
    });

    // Assess
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ id: 'manual-1', managed: false, verified: false });
  });

  it('uses the original creation time of a cross-region copy', async () => {
    // Prepare
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'copy-1',
          Status: 'available',
          SnapshotCreateTime: new Date('2026-01-02T06:00:00Z'),
          OriginalSnapshotCreateTime: new Date('2026-01-02T02:00:00Z'),
          TagList: tags(MANAGED),
        },
      ],
    });

    // Act
    const points = await listSnapshotRecoveryPoints(rds, {
      target: 'orders',
      type: 'instance',
      identifier: 'orders-prod',
    });

    // Assess
    expect(points[0]?.createdAt).toEqual(new Date('2026-01-02T02:00:00Z'));
  });

  it('leaves out snapshots tagged for another target', async () => {
    // Prepare
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'other-target',
          Status: 'available',
          SnapshotCreateTime: new Date(),
          TagList: tags({ ...MANAGED, 'caretaker:target': 'billing' }),
        },
      ],
    });

    // Act
    const points = await listSnapshotRecoveryPoints(rds, {
      target: 'orders',
      type: 'instance',
      identifier: 'orders-prod',
    });

    // Assess
    expect(points).toEqual([]);
  });

  it('reads tags with ListTagsForResource when the describe response carries no TagList', async () => {
    // Prepare
    const arn = 'arn:aws:rds:us-east-1:111122223333:snapshot:untagged-in-response';
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'untagged-in-response',
          DBSnapshotArn: arn,
          Status: 'available',
          SnapshotCreateTime: new Date(),
        },
      ],
    });
    rdsMock.on(ListTagsForResourceCommand, { ResourceName: arn }).resolves({ TagList: tags(MANAGED) });

    // Act
    const points = await listSnapshotRecoveryPoints(rds, {
      target: 'orders',
      type: 'instance',
      identifier: 'orders-prod',
    });

    // Assess
    expect(points.map((p) => p.id)).toEqual(['untagged-in-response']);
  });

  it('lists managed cluster snapshots of an Aurora cluster', async () => {
    // Prepare
    rdsMock
      .on(DescribeDBClusterSnapshotsCommand, { DBClusterIdentifier: 'orders-aurora', SnapshotType: 'manual' })
      .resolves({
        DBClusterSnapshots: [
          {
            DBClusterSnapshotIdentifier: 'caretaker-aurora-1',
            DBClusterSnapshotArn: 'arn:aws:rds:us-east-1:111122223333:cluster-snapshot:caretaker-aurora-1',
            Status: 'available',
            SnapshotCreateTime: new Date('2026-01-01T02:00:00Z'),
            TagList: tags(MANAGED),
          },
        ],
      });

    // Act
    const points = await listSnapshotRecoveryPoints(rds, {
      target: 'orders',
      type: 'cluster',
      identifier: 'orders-aurora',
    });

    // Assess
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ id: 'caretaker-aurora-1', verified: true, kind: 'snapshot' });
    expect(rdsMock.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(0);
  });
});
