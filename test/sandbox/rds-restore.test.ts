/**
 * rds-restore end to end on the sandbox (RDS + KMS), through the real handlers with clients
 * configured only by environment: a snapshot taken by rds-snapshot is restored with the source's
 * settings and tags, the data is really there, a switch-over (rds-switch-over) makes the original
 * endpoint serve it, the undo brings the original back, and the restored copy — which held the
 * production name — is deleted with a final snapshot (never the original). Aurora clusters
 * restore with their writer.
 */
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { withSandbox } from '../support/sandbox.ts';
import { waitForCluster, waitForInstance, withPg } from './rds-support.ts';

withSandbox([kmsService, rdsService], { settings: { rds: { statusDelayMs: 150 } } });

type Handler = (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
let snapshotHandler: Handler;
let restore: Handler;
let switchOver: Handler;
let rds: RDSClient;
const MASTER = { user: 'orders_admin', password: 'orders-secret-1', database: 'orders' };
const EXECUTION = 'arn:aws:states:us-east-1:000000000000:execution:caretaker-DisasterRecovery:drill-1';
const STARTED_AT = '2026-03-29T01:02:03.000Z';
let snapshotId: string;
let restoredId: string;

const context = () => fakeContext('rds-restore');

/** Calls a handler as a flow would: Retry on ResourceBusyError, loop with a Wait until `done`. */
async function until(
  handler: Handler,
  event: object,
  done: (result: any) => boolean,
  seen: any[] = [],
): Promise<any> {
  for (let attempt = 0; attempt < 800; attempt++) {
    let result: any;
    try {
      result = await handler(event, context());
    } catch (error) {
      if ((error as Error).name !== 'ResourceBusyError') throw error;
    }
    if (result) seen.push(result);
    if (result && done(result)) return result;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never done: ${JSON.stringify(event)}`);
}

async function describe1(id: string) {
  const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  return out.DBInstances![0]!;
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const out = await rds.send(new ListTagsForResourceCommand({ ResourceName: arn }));
  return Object.fromEntries((out.TagList ?? []).map((tag) => [tag.Key!, tag.Value!]));
}

async function rowsAt(id: string): Promise<{ rows: number; changed: number }> {
  const instance = await describe1(id);
  return withPg(instance.Endpoint ?? {}, MASTER, async (client) => {
    const result = await client.query(
      "SELECT count(*)::int AS rows, count(*) FILTER (WHERE note = 'changed')::int AS changed FROM orders",
    );
    return result.rows[0] as { rows: number; changed: number };
  });
}

beforeAll(async () => {
  rds = new RDSClient({});
  Object.assign(process.env, {
    CARETAKER_STACK: 'caretaker-test',
    RDS_TARGETS: JSON.stringify([
      { name: 'orders', type: 'instance', identifier: 'orders-db', retention: 'daily' },
      { name: 'ledger', type: 'cluster', identifier: 'ledger', retention: 'daily' },
    ]),
  });
  await Promise.all([
    rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'orders-db',
        DBInstanceClass: 'db.r6g.large',
        Engine: 'postgres',
        MasterUsername: MASTER.user,
        MasterUserPassword: MASTER.password,
        DBName: MASTER.database,
        DBParameterGroupName: 'orders-params',
        OptionGroupName: 'orders-options',
        DBSubnetGroupName: 'private-subnets',
        VpcSecurityGroupIds: ['sg-0aaaaaaaaaaaaaaaa', 'sg-0bbbbbbbbbbbbbbbb'],
        MultiAZ: true,
        StorageType: 'io2',
        AllocatedStorage: 100,
        DeletionProtection: true,
        BackupRetentionPeriod: 0,
        Tags: [{ Key: 'app', Value: 'orders' }],
      }),
    ),
    rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: 'ledger',
        Engine: 'aurora-postgresql',
        MasterUsername: 'owner',
        MasterUserPassword: 'owner-secret-1',
        DBClusterParameterGroupName: 'ledger-cluster-params',
        DBSubnetGroupName: 'ledger-subnets',
        VpcSecurityGroupIds: ['sg-0cccccccccccccccc'],
      }),
    ),
  ]);
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'ledger-1',
      DBClusterIdentifier: 'ledger',
      Engine: 'aurora-postgresql',
      DBInstanceClass: 'db.r7g.xlarge',
      DBParameterGroupName: 'ledger-instance-params',
    }),
  );
  await Promise.all([
    waitForInstance(rds, 'orders-db'),
    waitForCluster(rds, 'ledger'),
    waitForInstance(rds, 'ledger-1'),
  ]);
  await withPg((await describe1('orders-db')).Endpoint ?? {}, MASTER, async (client) => {
    await client.query('CREATE TABLE orders (id int PRIMARY KEY, note text NOT NULL)');
    await client.query("INSERT INTO orders SELECT n, 'original' FROM generate_series(1, 1000) AS n");
  });
  snapshotHandler = (await import('../../functions/rds-snapshot/handler.ts')).handler as Handler;
  restore = (await import('../../functions/rds-restore/handler.ts')).handler as Handler;
  switchOver = (await import('../../functions/rds-switch-over/handler.ts')).handler as Handler;
  const created = await until(
    snapshotHandler,
    { action: 'create', target: 'orders', executionId: EXECUTION, kind: 'drill' },
    () => true,
  );
  snapshotId = created.snapshotIdentifier;
  // Changed after the snapshot: the restored copy must not have this.
  await withPg((await describe1('orders-db')).Endpoint ?? {}, MASTER, async (client) => {
    await client.query("UPDATE orders SET note = 'changed' WHERE id <= 100");
  });
  await until(
    snapshotHandler,
    { action: 'status', target: 'orders', snapshotIdentifier: snapshotId },
    (r) => r.done,
  );
}, 120_000);

describe('restore', () => {
  it('restores with the source settings and tags, and a re-run continues instead of restoring twice', async () => {
    const event = {
      action: 'restore',
      target: 'orders',
      executionId: EXECUTION,
      snapshotIdentifier: snapshotId,
    };

    const first = await until(restore, event, () => true);
    const again = await until(restore, event, () => true);
    await until(restore, { action: 'status', target: 'orders', identifier: first.identifier }, (r) => r.done);

    restoredId = first.identifier;
    expect(first).toMatchObject({
      created: true,
      settingsSource: 'snapshot',
      identifier: expect.stringMatching(/^orders-db-r[0-9a-f]{8}$/),
    });
    expect(again).toMatchObject({ created: false, identifier: restoredId });
    const restored = await describe1(restoredId);
    expect(restored).toMatchObject({
      DBInstanceClass: 'db.r6g.large',
      DBParameterGroups: [expect.objectContaining({ DBParameterGroupName: 'orders-params' })],
      OptionGroupMemberships: [expect.objectContaining({ OptionGroupName: 'orders-options' })],
      DBSubnetGroup: expect.objectContaining({ DBSubnetGroupName: 'private-subnets' }),
      VpcSecurityGroups: [
        expect.objectContaining({ VpcSecurityGroupId: 'sg-0aaaaaaaaaaaaaaaa' }),
        expect.objectContaining({ VpcSecurityGroupId: 'sg-0bbbbbbbbbbbbbbbb' }),
      ],
      MultiAZ: true,
      StorageType: 'io2',
      DeletionProtection: false,
    });
    expect(await tagsOf(restored.DBInstanceArn!)).toMatchObject({
      app: 'orders',
      'caretaker:managed': 'true',
      'caretaker:kind': 'drill',
      'caretaker:execution': EXECUTION,
      'caretaker:restored-from': snapshotId,
      'caretaker:protect-on-promote': 'true',
    });
  });

  it('holds the data as it was at the snapshot', async () => {
    expect(await rowsAt(restoredId)).toEqual({ rows: 1000, changed: 0 });
    expect(await rowsAt('orders-db')).toEqual({ rows: 1000, changed: 100 });
  });
});

describe('switch-over and undo', () => {
  const switchEvent = () => ({
    action: 'switch-over',
    target: 'orders',
    executionId: EXECUTION,
    restoredIdentifier: restoredId,
    startedAt: STARTED_AT,
  });

  it('makes the original endpoint serve the restored data, parking the original as <id>-old-<time>', async () => {
    const calls: any[] = [];
    const done = await until(switchOver, switchEvent(), (r) => r.done, calls);
    const again = await switchOver(switchEvent(), context());

    const phases = calls.map((call) => call.phase).filter((phase, i, all) => phase !== all[i - 1]);
    expect(phases).toEqual(['renaming-source', 'renaming-restored', 'promoted']);
    expect(done).toMatchObject({ oldIdentifier: 'orders-db-old-20260329010203', phase: 'promoted' });
    expect(again).toMatchObject({ done: true, phase: 'done' });
    expect(await rowsAt('orders-db')).toEqual({ rows: 1000, changed: 0 });
    expect(await rowsAt('orders-db-old-20260329010203')).toEqual({ rows: 1000, changed: 100 });
    const promoted = await describe1('orders-db');
    const tags = await tagsOf(promoted.DBInstanceArn!);
    expect(tags['caretaker:managed']).toBeUndefined();
    expect(tags['caretaker:promoted-at']).toBeDefined();
    expect(promoted.DeletionProtection).toBe(true);
  });

  it('undoes the switch-over given only the execution: the original is back under its name, the copy unprotected', async () => {
    const calls: any[] = [];
    const undo = { action: 'undo-switch-over', target: 'orders', executionId: EXECUTION };
    const done = await until(switchOver, undo, (r) => r.done, calls);

    // A call may find the copy under its name again but still renaming ('renaming-restored'),
    // depending on when it polls.
    const phases = calls
      .map((call) => call.phase)
      .filter((phase) => phase !== 'renaming-restored')
      .filter((phase, i, all) => phase !== all[i - 1]);
    expect(phases).toEqual(['renaming-restored-back', 'renaming-source-back', 'done']);
    expect(done).toMatchObject({ phase: 'done' });
    expect(await rowsAt('orders-db')).toEqual({ rows: 1000, changed: 100 });
    expect(await rowsAt(restoredId)).toEqual({ rows: 1000, changed: 0 });
    const copy = await describe1(restoredId);
    expect(copy.DeletionProtection).toBe(false);
    const copyTags = await tagsOf(copy.DBInstanceArn!);
    expect(copyTags).toHaveProperty('caretaker:took-source-name');
    expect(copyTags).not.toHaveProperty('caretaker:promoted-at');
    const original = await describe1('orders-db');
    const originalTags = await tagsOf(original.DBInstanceArn!);
    expect(originalTags).not.toHaveProperty('caretaker:managed');
    expect(originalTags).not.toHaveProperty('caretaker:parked-by');
  });
});

describe('delete', () => {
  it('refuses the original and anything another execution restored', async () => {
    await expect(
      restore(
        { action: 'delete', target: 'orders', executionId: EXECUTION, identifier: 'orders-db' },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'PreconditionFailedError' });
    await expect(
      restore(
        { action: 'delete', target: 'orders', executionId: 'another-run', identifier: restoredId },
        context(),
      ),
    ).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: expect.stringMatching(/not restored by execution another-run/),
    });
  });

  it('deletes the copy that held the production name only with a final snapshot, and a re-run after it is gone is done', async () => {
    const event = { action: 'delete', target: 'orders', executionId: EXECUTION, identifier: restoredId };

    const started = await until(restore, event, () => true);
    const gone = await until(
      restore,
      { action: 'status', target: 'orders', identifier: restoredId },
      (r) => !r.exists,
    );
    const again = await restore(event, context());

    expect(started).toMatchObject({ status: 'deleting', done: false });
    expect(started.finalSnapshot).toMatch(/^caretaker-orders-[0-9a-f]{12}-final$/);
    expect(gone.status).toBe('not-found');
    expect(again).toMatchObject({ status: 'not-found', done: true });
    expect((await describe1('orders-db')).DBInstanceStatus).toBe('available');
    // The writes the copy could have taken while it served as orders-db are in its final snapshot.
    const final = await rds.send(
      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: started.finalSnapshot }),
    );
    expect(final.DBSnapshots?.[0]).toMatchObject({ DBInstanceIdentifier: restoredId });
  });
});

describe('Aurora clusters', () => {
  it('restore with the cluster settings and a writer of the captured class and parameter group, then delete', async () => {
    const execution = 'cluster-drill-1';
    const created = await until(
      snapshotHandler,
      { action: 'create', target: 'ledger', executionId: execution },
      () => true,
    );
    await until(
      snapshotHandler,
      { action: 'status', target: 'ledger', snapshotIdentifier: created.snapshotIdentifier },
      (r) => r.done,
    );

    const restored = await until(
      restore,
      {
        action: 'restore',
        target: 'ledger',
        executionId: execution,
        snapshotIdentifier: created.snapshotIdentifier,
      },
      () => true,
    );
    const ready = await until(
      restore,
      { action: 'status', target: 'ledger', identifier: restored.identifier },
      (r) => r.done,
    );
    const cluster = (
      await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: restored.identifier }))
    ).DBClusters![0]!;
    const writer = await describe1(restored.writerIdentifier);
    await until(
      restore,
      { action: 'delete', target: 'ledger', executionId: execution, identifier: restored.identifier },
      () => true,
    );
    const gone = await until(
      restore,
      { action: 'status', target: 'ledger', identifier: restored.identifier },
      (r) => !r.exists,
    );

    expect(ready.members).toEqual([
      { identifier: restored.writerIdentifier, status: 'available', writer: true },
    ]);
    expect(cluster).toMatchObject({
      DBClusterParameterGroup: 'ledger-cluster-params',
      DBSubnetGroup: 'ledger-subnets',
      VpcSecurityGroups: [expect.objectContaining({ VpcSecurityGroupId: 'sg-0cccccccccccccccc' })],
    });
    expect(writer).toMatchObject({
      DBInstanceClass: 'db.r7g.xlarge',
      DBParameterGroups: [expect.objectContaining({ DBParameterGroupName: 'ledger-instance-params' })],
    });
    expect(gone.status).toBe('not-found');
  });
});
