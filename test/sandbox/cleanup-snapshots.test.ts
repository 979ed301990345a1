/**
 * cleanup over RDS snapshots on the sandbox (RDS + KMS), through the real handlers with clients
 * configured only by environment: with an aggressive policy over a mix of managed and unmanaged
 * snapshots (and copies in the DR region), a dry run reports exactly what would go and why and
 * deletes nothing; the real run deletes only the managed snapshots the planner marked, keeps the
 * newest verified one and never touches unmanaged ones or another target's; a re-run finds
 * nothing left to do; an empty inventory is refused without stopping the other targets.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { withSandbox } from '../support/sandbox.ts';
import { waitForInstance, waitForSnapshot } from './rds-support.ts';

withSandbox([kmsService, rdsService], { settings: { rds: { statusDelayMs: 150 } } });

type Handler = (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
let snapshot: Handler;
let cleanup: Handler;
let rds: RDSClient;
let drRds: RDSClient;
const managed: string[] = [];
const copies: string[] = [];
const context = () => fakeContext('cleanup', 600_000);

/** A flow step with Retry on ResourceBusyError, polled until done. */
async function until(
  handler: Handler,
  event: object,
  done: (result: any) => boolean = () => true,
): Promise<any> {
  for (let attempt = 0; attempt < 800; attempt++) {
    try {
      const result = await handler(event, context());
      if (done(result)) return result;
    } catch (error) {
      if ((error as Error).name !== 'ResourceBusyError') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never done: ${JSON.stringify(event)}`);
}

async function snapshotIds(client: RDSClient): Promise<string[]> {
  const out = await client.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }));
  return (out.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier!).sort();
}

/** A snapshot made outside Caretaker (or tagged for something else), taken once the instance is free. */
async function foreignSnapshot(id: string, tags: { Key: string; Value: string }[]): Promise<void> {
  await waitForInstance(rds, 'orders-db');
  await rds.send(
    new CreateDBSnapshotCommand({ DBSnapshotIdentifier: id, DBInstanceIdentifier: 'orders-db', Tags: tags }),
  );
  await waitForSnapshot(rds, id);
}

beforeAll(async () => {
  rds = new RDSClient({});
  drRds = new RDSClient({ region: 'eu-west-1' });
  const drKey = (await new KMSClient({ region: 'eu-west-1' }).send(new CreateKeyCommand({}))).KeyMetadata!
    .Arn!;
  Object.assign(process.env, {
    CARETAKER_STACK: 'caretaker-test',
    RDS_TARGETS: JSON.stringify([
      {
        name: 'orders',
        identifier: 'orders-db',
        retention: 'aggressive',
        crossRegionCopy: { region: 'eu-west-1', kmsKeyArn: drKey },
      },
      { name: 'empty', identifier: 'empty-db', retention: 'aggressive' },
    ]),
    RETENTION_POLICIES: JSON.stringify({ aggressive: { keepLast: 1 } }),
  });
  for (const id of ['orders-db', 'empty-db']) {
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'postgres',
        MasterUsername: 'owner',
        MasterUserPassword: 'owner-secret-1',
        BackupRetentionPeriod: 0,
      }),
    );
  }
  await Promise.all([waitForInstance(rds, 'orders-db'), waitForInstance(rds, 'empty-db')]);
  snapshot = (await import('../../functions/rds-snapshot/handler.ts')).handler as Handler;
  cleanup = (await import('../../functions/cleanup/handler.ts')).handler as Handler;

  await foreignSnapshot('hand-made-before', []);
  for (let n = 1; n <= 4; n++) {
    const created = await until(snapshot, {
      action: 'create',
      target: 'orders',
      executionId: `routine-${n}`,
    });
    await until(
      snapshot,
      { action: 'status', target: 'orders', snapshotIdentifier: created.snapshotIdentifier },
      (r) => r.done,
    );
    managed.push(created.snapshotIdentifier);
    if (n >= 3) {
      const event = {
        action: 'copy',
        target: 'orders',
        executionId: `routine-${n}`,
        snapshotIdentifier: created.snapshotIdentifier,
      };
      await until(snapshot, event);
      await until(
        snapshot,
        {
          action: 'status',
          target: 'orders',
          snapshotIdentifier: created.snapshotIdentifier,
          region: 'eu-west-1',
        },
        (r) => r.done,
      );
      copies.push(created.snapshotIdentifier);
    }
    if (n === 2) await foreignSnapshot('hand-made-between', [{ Key: 'caretaker:managed', Value: 'false' }]);
  }
  await foreignSnapshot('other-target', [
    { Key: 'caretaker:managed', Value: 'true' },
    { Key: 'caretaker:target', Value: 'billing' },
  ]);
}, 120_000);

describe('cleanup of RDS snapshots', () => {
  it('reports in a dry run exactly what would be deleted and why, and deletes nothing', async () => {
    const before = await snapshotIds(rds);

    const report = await cleanup({ dryRun: true, targets: ['orders'] }, context());

    const [primary, dr] = report.targets;
    expect(primary).toMatchObject({
      name: 'orders',
      region: 'us-east-1',
      resource: 'rds-snapshots',
      status: 'done',
    });
    expect(primary.deletions).toEqual(
      managed.slice(0, 3).map((id) => ({ id, reasons: ['not kept by any rule'], outcome: 'would-delete' })),
    );
    expect(primary.decisions.find((d: any) => d.id === managed[3])).toEqual({
      id: managed[3],
      action: 'keep',
      reasons: ['last (1 of 1)', 'newest verified'],
    });
    expect(
      primary.decisions
        .filter((d: any) => d.reasons.includes('unmanaged'))
        .map((d: any) => d.id)
        .sort(),
    ).toEqual(['hand-made-before', 'hand-made-between']);
    expect(dr).toMatchObject({
      region: 'eu-west-1',
      deletions: [{ id: copies[0], outcome: 'would-delete' }],
    });
    expect(report.totals).toMatchObject({ deleted: 0, wouldDelete: 4 });
    expect(await snapshotIds(rds)).toEqual(before);
  });

  it('deletes only the managed snapshots the planner marked, in both regions, and nothing else', async () => {
    const report = await cleanup({ dryRun: false, targets: ['orders'] }, context());

    expect(report.totals).toMatchObject({ deleted: 4, failedTargets: 0, refusedTargets: 0 });
    expect(await snapshotIds(rds)).toEqual(
      ['hand-made-before', 'hand-made-between', 'other-target', managed[3]!].sort(),
    );
    expect(await snapshotIds(drRds)).toEqual([copies[1]!]);
  });

  it('finds nothing left to do when run again', async () => {
    const report = await cleanup({ dryRun: false, targets: ['orders'] }, context());

    expect(report.totals).toMatchObject({ deleted: 0, wouldDelete: 0 });
    expect(report.targets.map((t: any) => t.status)).toEqual(['done', 'done']);
  });

  it('refuses an empty inventory with a named error, after cleaning the other targets', async () => {
    const kept = await snapshotIds(rds);

    const error = await cleanup({ dryRun: false }, context()).catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      name: 'PreconditionFailedError',
      message: expect.stringMatching(
        /empty \(us-east-1\) refused: no manual snapshots of instance empty-db in us-east-1: refusing to act on an empty inventory/,
      ),
    });
    expect(await snapshotIds(rds)).toEqual(kept);
  });

  it('reports the refusal in a dry run instead of failing', async () => {
    const report = await cleanup({ dryRun: true, targets: ['empty'] }, context());

    expect(report.targets).toEqual([expect.objectContaining({ name: 'empty', status: 'refused' })]);
    expect(report.totals.refusedTargets).toBe(1);
  });
});
