/**
 * rds-snapshot end to end on the sandbox (RDS + KMS), through the real handler with its clients
 * configured only by environment: tags and recorded settings, idempotent re-runs, status polling,
 * copies into the DR region under a DR key (from an unencrypted source and from one under
 * aws/rds), Aurora clusters, and the manual snapshot quota (warning, then refusal before AWS's).
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { withSandbox } from '../support/sandbox.ts';
import { waitForCluster, waitForInstance } from './rds-support.ts';

const QUOTA = 10;
withSandbox([kmsService, rdsService], { settings: { rds: { statusDelayMs: 150, snapshotQuota: QUOTA } } });

type Handler = (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
let handler: Handler;
let rds: RDSClient;
let drRds: RDSClient;
let drKeyArn: string;
const context = () => fakeContext('rds-snapshot');

async function untilAvailable(target: string, snapshotIdentifier: string, region?: string) {
  for (let attempt = 0; attempt < 400; attempt++) {
    const status = await handler({ action: 'status', target, snapshotIdentifier, region }, context());
    if (status.done) return status;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${snapshotIdentifier} never became available`);
}

/** Calls the handler as a flow's Retry on ResourceBusyError would (a snapshot makes the source busy a moment). */
async function call(event: object): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await handler(event, context());
    } catch (error) {
      if ((error as Error).name !== 'ResourceBusyError' || attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

async function tagsOf(client: RDSClient, arn: string): Promise<Record<string, string>> {
  const out = await client.send(new ListTagsForResourceCommand({ ResourceName: arn }));
  return Object.fromEntries((out.TagList ?? []).map((tag) => [tag.Key!, tag.Value!]));
}

beforeAll(async () => {
  rds = new RDSClient({});
  drRds = new RDSClient({ region: 'eu-west-1' });
  drKeyArn = (await new KMSClient({ region: 'eu-west-1' }).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  const dr = { region: 'eu-west-1', kmsKeyArn: drKeyArn };
  Object.assign(process.env, {
    CARETAKER_STACK: 'caretaker-test',
    SNAPSHOT_QUOTA: String(QUOTA),
    SNAPSHOT_WARN_PERCENT: '50',
    MAX_CONCURRENT_COPIES: '5',
    RDS_TARGETS: JSON.stringify([
      { name: 'orders', type: 'instance', identifier: 'orders-db', retention: 'daily', crossRegionCopy: dr },
      {
        name: 'billing',
        type: 'instance',
        identifier: 'billing-db',
        retention: 'daily',
        crossRegionCopy: dr,
      },
      { name: 'ledger', type: 'cluster', identifier: 'ledger', retention: 'daily' },
    ]),
  });
  const instance = (id: string, extra: object) =>
    rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        DBInstanceClass: 'db.r6g.large',
        Engine: 'postgres',
        MasterUsername: 'owner',
        MasterUserPassword: 'owner-secret-1',
        BackupRetentionPeriod: 0,
        ...extra,
      }),
    );
  await Promise.all([
    instance('orders-db', {
      DBParameterGroupName: 'orders-params',
      OptionGroupName: 'orders-options',
      DBSubnetGroupName: 'private-subnets',
      VpcSecurityGroupIds: ['sg-0aaaaaaaaaaaaaaaa', 'sg-0bbbbbbbbbbbbbbbb'],
      MultiAZ: true,
      StorageType: 'io2',
      AllocatedStorage: 100,
      DeletionProtection: true,
      Tags: [
        { Key: 'app', Value: 'orders' },
        { Key: 'team', Value: 'payments' },
      ],
    }),
    instance('billing-db', { StorageEncrypted: true }),
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
    waitForInstance(rds, 'billing-db'),
    waitForCluster(rds, 'ledger'),
    waitForInstance(rds, 'ledger-1'),
  ]);
  handler = (await import('../../functions/rds-snapshot/handler.ts')).handler as Handler;
}, 120_000);

describe('create', () => {
  it('tags the snapshot with the contract tags, the source settings and the source tags', async () => {
    const result = await call({
      action: 'create',
      target: 'orders',
      executionId: 'exec-create-1',
      kind: 'rollback-point',
    });

    expect(result).toMatchObject({
      created: true,
      target: 'orders',
      snapshotIdentifier: expect.stringMatching(/^caretaker-orders-[0-9a-f]{12}-rollback-point$/),
      quota: { used: 1, limit: QUOTA, warnPercent: 50 },
      quotaWarning: false,
      settingsRecorded: true,
    });
    const tags = await tagsOf(rds, result.snapshotArn);
    expect(tags).toMatchObject({
      'caretaker:managed': 'true',
      'caretaker:stack': 'caretaker-test',
      'caretaker:execution': 'exec-create-1',
      'caretaker:kind': 'rollback-point',
      'caretaker:target': 'orders',
      'caretaker:settings': 'v1 instance',
      'caretaker:settings:class': 'db.r6g.large',
      'caretaker:settings:parameter-group': 'orders-params',
      'caretaker:settings:option-group': 'orders-options',
      'caretaker:settings:subnet-group': 'private-subnets',
      'caretaker:settings:security-groups': 'sg-0aaaaaaaaaaaaaaaa sg-0bbbbbbbbbbbbbbbb',
      'caretaker:settings:storage': 'type=io2 allocated=100',
      app: 'orders',
      team: 'payments',
    });
    expect(tags['caretaker:settings:network']).toMatch(/multi-az=true/);
    expect(tags['caretaker:settings:flags']).toMatch(/deletion-protection=true/);
  });

  it('returns the same snapshot when the execution runs again, without making a second', async () => {
    const event = { action: 'create', target: 'orders', executionId: 'exec-rerun', kind: 'snapshot' };
    const first = await call(event);

    const second = await call(event);

    expect(second).toMatchObject({ created: false, snapshotIdentifier: first.snapshotIdentifier });
    const all = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'orders-db' }));
    const named = (all.DBSnapshots ?? []).filter((s) => s.DBSnapshotIdentifier === first.snapshotIdentifier);
    expect(named).toHaveLength(1);
  });

  it('reports progress until the snapshot is available', async () => {
    const created = await call({
      action: 'create',
      target: 'orders',
      executionId: 'exec-poll',
      kind: 'snapshot',
    });

    const done = await untilAvailable('orders', created.snapshotIdentifier);

    expect(done).toMatchObject({ status: 'available', percentProgress: 100, done: true });
  });

  it('records a cluster snapshot with the cluster settings and its writer class and parameter group', async () => {
    const result = await call({ action: 'create', target: 'ledger', executionId: 'exec-cluster' });

    const tags = await tagsOf(rds, result.snapshotArn);
    expect(result).toMatchObject({ type: 'cluster', created: true, quota: { used: 1 } });
    expect(tags).toMatchObject({
      'caretaker:settings': 'v1 cluster',
      'caretaker:settings:class': 'db.r7g.xlarge',
      'caretaker:settings:parameter-group': 'ledger-cluster-params',
      'caretaker:settings:instance-parameter-group': 'ledger-instance-params',
      'caretaker:settings:subnet-group': 'ledger-subnets',
      'caretaker:settings:security-groups': 'sg-0cccccccccccccccc',
    });
  });
});

describe('copy to the DR region', () => {
  it('copies an unencrypted snapshot encrypted under the DR key, and says so', async () => {
    const created = await call({ action: 'create', target: 'orders', executionId: 'exec-copy-plain' });
    await untilAvailable('orders', created.snapshotIdentifier);

    const copied = await handler(
      {
        action: 'copy',
        target: 'orders',
        executionId: 'exec-copy-plain',
        snapshotIdentifier: created.snapshotIdentifier,
      },
      context(),
    );
    const done = await untilAvailable('orders', created.snapshotIdentifier, 'eu-west-1');

    expect(copied.copy).toMatchObject({
      created: true,
      region: 'eu-west-1',
      kmsKeyId: drKeyArn,
      encrypted: true,
    });
    expect(copied.notes.join(' ')).toMatch(/source snapshot is unencrypted: the DR copy is encrypted under/);
    expect(done).toMatchObject({ region: 'eu-west-1', encrypted: true, kmsKeyId: drKeyArn });
    const tags = await tagsOf(drRds, done.snapshotArn);
    expect(tags).toMatchObject({
      'caretaker:managed': 'true',
      'caretaker:execution': 'exec-copy-plain',
      'caretaker:copied-from': 'us-east-1',
      'caretaker:settings:class': 'db.r6g.large',
      app: 'orders',
    });
  });

  it('re-encrypts a snapshot under aws/rds with the DR key, says so, and returns the same copy on a re-run', async () => {
    const created = await call({ action: 'create', target: 'billing', executionId: 'exec-copy-aws' });
    await untilAvailable('billing', created.snapshotIdentifier);
    const event = {
      action: 'copy',
      target: 'billing',
      executionId: 'exec-copy-aws',
      snapshotIdentifier: created.snapshotIdentifier,
    };

    const first = await handler(event, context());
    const again = await handler(event, context());

    expect(created.kmsKeyId).toMatch(/alias\/aws\/rds$/);
    expect(first.copy).toMatchObject({ created: true, kmsKeyId: drKeyArn });
    expect(first.notes.join(' ')).toMatch(/AWS-managed key aws\/rds/);
    expect(again.copy).toMatchObject({ created: false, snapshotIdentifier: created.snapshotIdentifier });
  });
});

describe('the manual snapshot quota', () => {
  it('warns from the warning percentage and refuses at the quota, before AWS would', async () => {
    const results: any[] = [];
    let refusal: unknown;
    for (let n = 1; n <= QUOTA + 1 && !refusal; n++) {
      try {
        results.push(await call({ action: 'create', target: 'orders', executionId: `exec-quota-${n}` }));
      } catch (error) {
        refusal = error;
      }
    }

    const used = results.map((result) => result.quota.used);
    expect(used.at(-1)).toBe(QUOTA);
    expect(results.filter((result) => result.quota.used >= QUOTA / 2).every((r) => r.quotaWarning)).toBe(
      true,
    );
    expect(results.filter((result) => result.quota.used < QUOTA / 2).some((r) => r.quotaWarning)).toBe(false);
    expect(results.at(-1).notes.join(' ')).toMatch(
      /holds 10 manual DB snapshots of a quota of 10 \(100 %, warning at 50 %\)/,
    );
    expect(refusal).toMatchObject({
      name: 'QuotaExceededError',
      message: expect.stringMatching(/already holds 10 manual DB snapshots of a quota of 10/),
    });
  });
});
