import { DeleteDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { cleanSnapshots } from '../../../../functions/cleanup/snapshot-retention.ts';
import { awsServiceError } from '../../../support/aws-errors.ts';

const rdsMock = mockClient(RDSClient);
const TARGET = {
  name: 'orders',
  type: 'instance' as const,
  identifier: 'orders-db',
  retention: 'p',
  rpo: 'PT26H',
};
const POLICY = { keepLast: 1, timeZone: 'UTC', minKeep: 1 };
const OPTIONS = { dryRun: false, now: new Date('2026-03-01T00:00:00Z'), deadline: Number.MAX_SAFE_INTEGER };
const MANAGED = [
  { Key: 'caretaker:managed', Value: 'true' },
  { Key: 'caretaker:target', Value: 'orders' },
];

function snapshot(id: string, day: number, tags = MANAGED, status = 'available') {
  return {
    DBSnapshotIdentifier: id,
    DBSnapshotArn: `arn:aws:rds:us-east-1:1:snapshot:${id}`,
    DBInstanceIdentifier: 'orders-db',
    SnapshotCreateTime: new Date(Date.UTC(2026, 1, day)),
    Status: status,
    TagList: tags,
  };
}

/** The listing shows `listed`; describing one snapshot again shows `now[id]` (or what was listed). */
function rds(
  listed: ReturnType<typeof snapshot>[],
  now: Record<string, ReturnType<typeof snapshot> | null> = {},
) {
  rdsMock.on(DescribeDBSnapshotsCommand).callsFake((input) => {
    if (!input.DBSnapshotIdentifier) return { DBSnapshots: listed };
    const again =
      input.DBSnapshotIdentifier in now
        ? now[input.DBSnapshotIdentifier]
        : listed.find((s) => s.DBSnapshotIdentifier === input.DBSnapshotIdentifier);
    if (!again) throw awsServiceError('DBSnapshotNotFoundFault', 'gone', 404);
    return { DBSnapshots: [again] };
  });
  rdsMock.on(DeleteDBSnapshotCommand).resolves({});
}

beforeEach(() => {
  rdsMock.reset();
});

describe('cleanSnapshots', () => {
  it('checks the tags again right before deleting, and skips a snapshot that lost caretaker:managed', async () => {
    rds([snapshot('old', 1), snapshot('new', 2)], {
      old: snapshot('old', 1, [{ Key: 'caretaker:managed', Value: 'false' }]),
    });

    const report = await cleanSnapshots(new RDSClient({}), TARGET, 'us-east-1', 'p', POLICY, OPTIONS);

    expect(report.deletions).toEqual([
      {
        id: 'old',
        reasons: ['not kept by any rule'],
        outcome: 'skipped',
        detail: 'caretaker:managed is no longer true',
      },
    ]);
    expect(report.status).toBe('incomplete');
    expect(rdsMock.commandCalls(DeleteDBSnapshotCommand)).toHaveLength(0);
  });

  it('treats a snapshot deleted meanwhile as already gone (a re-run after a partial cleanup)', async () => {
    rds([snapshot('old', 1), snapshot('new', 2)], { old: null });

    const report = await cleanSnapshots(new RDSClient({}), TARGET, 'us-east-1', 'p', POLICY, OPTIONS);

    expect(report.deletions).toEqual([
      { id: 'old', reasons: ['not kept by any rule'], outcome: 'already-gone' },
    ]);
    expect(report.status).toBe('done');
  });

  it('skips a snapshot RDS will not delete now (a copy of it in progress) and says so', async () => {
    rds([snapshot('old', 1), snapshot('new', 2)]);
    rdsMock
      .on(DeleteDBSnapshotCommand)
      .rejects(awsServiceError('InvalidDBSnapshotStateFault', 'a copy is in progress'));

    const report = await cleanSnapshots(new RDSClient({}), TARGET, 'us-east-1', 'p', POLICY, OPTIONS);

    expect(report.deletions[0]).toMatchObject({ outcome: 'skipped', detail: 'a copy is in progress' });
  });

  it('deletes a failed managed snapshot as no recovery point, outside the plan', async () => {
    rds([snapshot('broken', 3, MANAGED, 'failed'), snapshot('new', 2)]);

    const report = await cleanSnapshots(new RDSClient({}), TARGET, 'us-east-1', 'p', POLICY, OPTIONS);

    expect(report.deletions).toEqual([
      { id: 'broken', reasons: ['failed snapshot: not a recovery point'], outcome: 'deleted' },
    ]);
  });

  it('starts no deletion once the time budget is spent', async () => {
    rds([snapshot('old', 1), snapshot('new', 2)]);

    const report = await cleanSnapshots(new RDSClient({}), TARGET, 'us-east-1', 'p', POLICY, {
      ...OPTIONS,
      deadline: 0,
    });

    expect(report.deletions[0]).toMatchObject({
      outcome: 'skipped',
      detail: 'time budget spent: the next run deletes it',
    });
    expect(report.status).toBe('incomplete');
  });

  it('refuses an empty inventory and reports a failed listing, touching nothing', async () => {
    rdsMock
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({ DBSnapshots: [] })
      .rejects(awsServiceError('AccessDenied', 'no', 403));

    const empty = await cleanSnapshots(new RDSClient({}), TARGET, 'us-east-1', 'p', POLICY, OPTIONS);
    const failed = await cleanSnapshots(new RDSClient({}), TARGET, 'us-east-1', 'p', POLICY, OPTIONS);

    expect(empty).toMatchObject({ status: 'refused', reason: expect.stringMatching(/empty inventory/) });
    expect(failed).toMatchObject({ status: 'failed', reason: 'no' });
    expect(rdsMock.commandCalls(DeleteDBSnapshotCommand)).toHaveLength(0);
  });
});
