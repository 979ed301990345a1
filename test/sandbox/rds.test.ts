/**
 * The sandbox's RDS DB instances, driven by the AWS SDK v3 configured only by environment: real
 * PostgreSQL servers behind CreateDBInstance, statuses observed by polling, Describe filters,
 * Modify (pending or applied), Delete, tags, pending maintenance (described and applied) and the
 * real error codes.
 */
import {
  AddTagsToResourceCommand,
  ApplyPendingMaintenanceActionCommand,
  CreateDBInstanceCommand,
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DBSnapshotNotFoundFault,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribePendingMaintenanceActionsCommand,
  InvalidDBInstanceStateFault,
  ListTagsForResourceCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RemoveTagsFromResourceCommand,
  ResourceNotFoundFault,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { type RdsService, rdsService } from '../../sandbox/services/rds/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import {
  failure,
  instanceStatus,
  pollUntil,
  waitForInstance,
  waitForSnapshot,
  withPg,
} from './rds-support.ts';

const handle = withSandbox([kmsService, rdsService], { settings: { rds: { statusDelayMs: 250 } } });
const MASTER = { user: 'master', password: 'orders-secret-1', database: 'app' };
let rds: RDSClient;
let createdStatuses: string[];

function createInstance(
  id: string,
  extra: Partial<ConstructorParameters<typeof CreateDBInstanceCommand>[0]> = {},
) {
  return rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      DBInstanceClass: 'db.t3.micro',
      Engine: 'postgres',
      MasterUsername: MASTER.user,
      MasterUserPassword: MASTER.password,
      DBName: MASTER.database,
      ...extra,
    }),
  );
}

async function describeInstance(id: string) {
  const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  const instance = out.DBInstances?.[0];
  if (!instance) throw new Error(`no instance ${id}`);
  return instance;
}

beforeAll(async () => {
  rds = new RDSClient({});
  const created = await createInstance('Orders', {
    Tags: [{ Key: 'team', Value: 'payments' }],
    VpcSecurityGroupIds: ['sg-0123456789abcdef0'],
    DBParameterGroupName: 'orders-params',
  });
  expect(created.DBInstance?.DBInstanceStatus).toBe('creating');
  await Promise.all([
    createInstance('scratch', { BackupRetentionPeriod: 0 }).then(() => waitForInstance(rds, 'scratch')),
    createInstance('modified', { BackupRetentionPeriod: 0, EngineVersion: '16.3' }).then(() =>
      waitForInstance(rds, 'modified'),
    ),
    waitForInstance(rds, 'orders').then((seen) => {
      createdStatuses = seen;
    }),
  ]);
}, 120_000);

describe('CreateDBInstance', () => {
  it('moves through creating and backing-up to available, observed by polling', () => {
    expect(createdStatuses).toEqual(['creating', 'backing-up', 'available']);
  });

  it('serves the database named DBName on the reported endpoint, logged in as the master user', async () => {
    const instance = await describeInstance('orders');

    const who = await withPg(instance.Endpoint ?? {}, MASTER, async (client) => {
      await client.query('CREATE TABLE t (id int)');
      return (await client.query('SELECT current_user AS user, current_database() AS db')).rows[0];
    });

    expect(instance.Endpoint?.Address).toBe('127.0.0.1');
    expect(who).toEqual({ user: 'master', db: 'app' });
  });

  it('really requires the master password', async () => {
    const instance = await describeInstance('orders');

    const error = await failure(
      withPg(instance.Endpoint ?? {}, { ...MASTER, password: 'wrong-password' }, () => Promise.resolve()),
    );

    expect(error.message).toMatch(/password authentication failed for user "master"/);
  });

  it('keeps the identifier in lower case with the settings it was given and AWS defaults', async () => {
    const instance = await describeInstance('ORDERS');

    expect(instance).toMatchObject({
      DBInstanceIdentifier: 'orders',
      DBInstanceArn: 'arn:aws:rds:us-east-1:000000000000:db:orders',
      Engine: 'postgres',
      MasterUsername: 'master',
      DBName: 'app',
      VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0123456789abcdef0', Status: 'active' }],
      DBParameterGroups: [{ DBParameterGroupName: 'orders-params', ParameterApplyStatus: 'in-sync' }],
      OptionGroupMemberships: [{ OptionGroupName: 'default:postgres-18', Status: 'in-sync' }],
      DBSubnetGroup: { DBSubnetGroupName: 'default' },
      TagList: [{ Key: 'team', Value: 'payments' }],
      BackupRetentionPeriod: 1,
      MultiAZ: false,
    });
    expect(instance.DbiResourceId).toMatch(/^db-[A-Z0-9]{26}$/);
    expect(instance.EngineVersion).toMatch(/^\d+\.\d+$/);
  });

  it('takes the first automated snapshot while backing-up', async () => {
    const out = await rds.send(
      new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'orders', SnapshotType: 'automated' }),
    );

    expect(out.DBSnapshots).toHaveLength(1);
    expect(out.DBSnapshots?.[0]).toMatchObject({ SnapshotType: 'automated', Status: 'available' });
    expect(out.DBSnapshots?.[0]?.DBSnapshotIdentifier).toMatch(/^rds:orders-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}$/);
  });

  it('refuses a taken identifier with DBInstanceAlreadyExists', async () => {
    const error = await failure(createInstance('orders'));

    expect(error).toBeInstanceOf(DBInstanceAlreadyExistsFault);
    expect(error.Code).toBe('DBInstanceAlreadyExists');
  });

  it('refuses an invalid identifier, a missing parameter and an unknown engine with their codes', async () => {
    const badId = await failure(createInstance('1-bad--id'));
    const missing = await failure(
      rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: 'x1',
          Engine: 'postgres',
          DBInstanceClass: 'db.t3.micro',
        }),
      ),
    );
    const engine = await failure(createInstance('x2', { Engine: 'oracle-ee' }));

    expect(badId.name).toBe('InvalidParameterValue');
    expect(missing.name).toBe('MissingParameter');
    expect(missing.message).toMatch(/MasterUsername/);
    expect(engine.name).toBe('InvalidParameterValue');
  });
});

describe('DescribeDBInstances', () => {
  it('lists every instance of the region, sorted by identifier', async () => {
    const out = await rds.send(new DescribeDBInstancesCommand({}));

    expect(out.DBInstances?.map((instance) => instance.DBInstanceIdentifier)).toEqual([
      'modified',
      'orders',
      'scratch',
    ]);
    expect(out.Marker).toBeUndefined();
  });

  it('filters by db-instance-id (identifier or ARN) and by engine', async () => {
    const byId = await rds.send(
      new DescribeDBInstancesCommand({
        Filters: [
          { Name: 'db-instance-id', Values: ['scratch', 'arn:aws:rds:us-east-1:000000000000:db:orders'] },
        ],
      }),
    );
    const byEngine = await rds.send(
      new DescribeDBInstancesCommand({ Filters: [{ Name: 'engine', Values: ['aurora-postgresql'] }] }),
    );

    expect(byId.DBInstances?.map((instance) => instance.DBInstanceIdentifier)).toEqual(['orders', 'scratch']);
    expect(byEngine.DBInstances).toEqual([]);
  });

  it('keeps regions apart', async () => {
    const elsewhere = new RDSClient({ region: 'eu-west-1' });

    const out = await elsewhere.send(new DescribeDBInstancesCommand({}));
    const error = await failure(
      elsewhere.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders' })),
    );

    expect(out.DBInstances).toEqual([]);
    expect(error).toBeInstanceOf(DBInstanceNotFoundFault);
  });

  it('answers an unknown identifier with DBInstanceNotFound (404)', async () => {
    const error = await failure(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nope' })));

    expect(error).toBeInstanceOf(DBInstanceNotFoundFault);
    expect(error.Code).toBe('DBInstanceNotFound');
    expect(error.$metadata?.httpStatusCode).toBe(404);
  });

  it('rejects an unknown filter and MaxRecords outside 20..100 with InvalidParameterValue', async () => {
    const filter = await failure(
      rds.send(new DescribeDBInstancesCommand({ Filters: [{ Name: 'colour', Values: ['blue'] }] })),
    );
    const tooFew = await failure(rds.send(new DescribeDBInstancesCommand({ MaxRecords: 5 })));

    expect(filter.name).toBe('InvalidParameterValue');
    expect(tooFew.name).toBe('InvalidParameterValue');
  });
});

describe('ModifyDBInstance', () => {
  it('without ApplyImmediately, keeps class, version and rename in PendingModifiedValues', async () => {
    const out = await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: 'scratch',
        DBInstanceClass: 'db.r6g.large',
        EngineVersion: '18.9',
        DBParameterGroupName: 'tuned',
        NewDBInstanceIdentifier: 'scratch-later',
      }),
    );

    expect(out.DBInstance?.DBInstanceStatus).toBe('available');
    expect(out.DBInstance?.DBInstanceClass).toBe('db.t3.micro');
    expect(out.DBInstance?.PendingModifiedValues).toEqual({
      DBInstanceClass: 'db.r6g.large',
      EngineVersion: '18.9',
      DBInstanceIdentifier: 'scratch-later',
    });
    expect(out.DBInstance?.DBParameterGroups).toEqual([
      { DBParameterGroupName: 'tuned', ParameterApplyStatus: 'pending-reboot' },
    ]);
  });

  it('with ApplyImmediately, upgrades through upgrading and applies class, version and parameter group', async () => {
    const before = await describeInstance('modified');

    const out = await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: 'modified',
        DBInstanceClass: 'db.m7g.large',
        EngineVersion: '16.4',
        DBParameterGroupName: 'pg16-tuned',
        ApplyImmediately: true,
      }),
    );
    const seen = await waitForInstance(rds, 'modified');
    const after = await describeInstance('modified');

    expect(out.DBInstance?.DBInstanceStatus).toBe('upgrading');
    expect(seen).toEqual(['upgrading', 'available']);
    expect(after).toMatchObject({
      DBInstanceClass: 'db.m7g.large',
      EngineVersion: '16.4',
      DBParameterGroups: [{ DBParameterGroupName: 'pg16-tuned', ParameterApplyStatus: 'in-sync' }],
      Endpoint: before.Endpoint,
    });
    expect(after.PendingModifiedValues).toBeUndefined();
    await withPg(after.Endpoint ?? {}, MASTER, (client) => client.query('SELECT 1'));
  });

  it('refuses a change while the instance is not available with InvalidDBInstanceState', async () => {
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: 'modified',
        DBInstanceClass: 'db.m7g.xlarge',
        ApplyImmediately: true,
      }),
    );

    const error = await failure(
      rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: 'modified',
          DBInstanceClass: 'db.t3.small',
          ApplyImmediately: true,
        }),
      ),
    );
    await waitForInstance(rds, 'modified');

    expect(error).toBeInstanceOf(InvalidDBInstanceStateFault);
    expect(error.Code).toBe('InvalidDBInstanceState');
  });

  it('refuses a downgrade and an unannounced major upgrade with InvalidParameterCombination', async () => {
    const downgrade = await failure(
      rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: 'modified',
          EngineVersion: '16.1',
          ApplyImmediately: true,
        }),
      ),
    );
    const major = await failure(
      rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: 'modified',
          EngineVersion: '17.2',
          ApplyImmediately: true,
        }),
      ),
    );

    expect(downgrade.name).toBe('InvalidParameterCombination');
    expect(major.name).toBe('InvalidParameterCombination');
    expect(major.message).toMatch(/AllowMajorVersionUpgrade/);
  });

  it('changes the master password inside the database', async () => {
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: 'modified',
        MasterUserPassword: 'rotated-secret-2',
      }),
    );
    const seen = await waitForInstance(rds, 'modified');
    const instance = await describeInstance('modified');

    const who = await withPg(
      instance.Endpoint ?? {},
      { ...MASTER, password: 'rotated-secret-2' },
      async (client) => (await client.query('SELECT current_user AS user')).rows[0],
    );
    const old = await failure(withPg(instance.Endpoint ?? {}, MASTER, () => Promise.resolve()));

    expect(seen).toEqual(['resetting-master-credentials', 'available']);
    expect(who).toEqual({ user: 'master' });
    expect(old.message).toMatch(/password authentication failed/);
  });
});

describe('tags', () => {
  const arn = 'arn:aws:rds:us-east-1:000000000000:db:orders';

  it('adds, lists and removes tags by ARN', async () => {
    await rds.send(
      new AddTagsToResourceCommand({
        ResourceName: arn,
        Tags: [
          { Key: 'caretaker:managed', Value: 'true' },
          { Key: 'team', Value: 'ledger' },
        ],
      }),
    );
    const added = await rds.send(new ListTagsForResourceCommand({ ResourceName: arn }));
    await rds.send(new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: ['team'] }));
    const removed = await rds.send(new ListTagsForResourceCommand({ ResourceName: arn }));

    expect(added.TagList).toEqual([
      { Key: 'team', Value: 'ledger' },
      { Key: 'caretaker:managed', Value: 'true' },
    ]);
    expect(removed.TagList).toEqual([{ Key: 'caretaker:managed', Value: 'true' }]);
  });

  it('answers an unknown resource with its type-specific not-found error', async () => {
    const db = await failure(
      rds.send(
        new ListTagsForResourceCommand({ ResourceName: 'arn:aws:rds:us-east-1:000000000000:db:ghost' }),
      ),
    );
    const snapshot = await failure(
      rds.send(
        new ListTagsForResourceCommand({ ResourceName: 'arn:aws:rds:us-east-1:000000000000:snapshot:ghost' }),
      ),
    );
    const otherRegion = await failure(
      rds.send(
        new ListTagsForResourceCommand({ ResourceName: 'arn:aws:rds:eu-west-1:000000000000:db:orders' }),
      ),
    );

    expect(db).toBeInstanceOf(DBInstanceNotFoundFault);
    expect(snapshot).toBeInstanceOf(DBSnapshotNotFoundFault);
    expect(otherRegion.name).toBe('InvalidParameterValue');
  });

  it('refuses tag keys with the reserved aws: prefix', async () => {
    const error = await failure(
      rds.send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: [{ Key: 'aws:owner', Value: 'x' }] })),
    );

    expect(error.name).toBe('InvalidParameterValue');
  });
});

describe('DescribePendingMaintenanceActions', () => {
  it('reports the actions seeded through the service, per resource and by filter', async () => {
    const service = handle.sandbox.context.service<RdsService>('rds');
    const arn = service?.seedPendingMaintenanceAction('us-east-1', 'orders', {
      Action: 'system-update',
      Description: 'New Operating System update is available',
      AutoAppliedAfterDate: new Date('2030-01-01T00:00:00Z'),
      OptInStatus: 'pending',
    });

    const all = await rds.send(new DescribePendingMaintenanceActionsCommand({}));
    const byFilter = await rds.send(
      new DescribePendingMaintenanceActionsCommand({
        Filters: [{ Name: 'db-instance-id', Values: ['scratch'] }],
      }),
    );
    const byResource = await rds.send(
      new DescribePendingMaintenanceActionsCommand({ ResourceIdentifier: arn }),
    );

    expect(all.PendingMaintenanceActions).toEqual([
      {
        ResourceIdentifier: 'arn:aws:rds:us-east-1:000000000000:db:orders',
        PendingMaintenanceActionDetails: [
          {
            Action: 'system-update',
            Description: 'New Operating System update is available',
            AutoAppliedAfterDate: new Date('2030-01-01T00:00:00Z'),
            OptInStatus: 'pending',
          },
        ],
      },
    ]);
    expect(byFilter.PendingMaintenanceActions).toEqual([]);
    expect(byResource.PendingMaintenanceActions).toHaveLength(1);
  });

  it('can be seeded over the unsigned inspection route, for rehearsals run from another process', async () => {
    const response = await fetch(`${handle.sandbox.url}/_sandbox/rds/pending-maintenance`, {
      method: 'POST',
      body: JSON.stringify({
        resource: 'modified',
        action: { Action: 'db-upgrade', ForcedApplyDate: '2031-02-03T04:05:06Z' },
      }),
    });
    const seeded = (await response.json()) as { resourceArn: string };

    const out = await rds.send(
      new DescribePendingMaintenanceActionsCommand({ ResourceIdentifier: seeded.resourceArn }),
    );

    expect(seeded.resourceArn).toBe('arn:aws:rds:us-east-1:000000000000:db:modified');
    expect(out.PendingMaintenanceActions?.[0]?.PendingMaintenanceActionDetails).toEqual([
      { Action: 'db-upgrade', ForcedApplyDate: new Date('2031-02-03T04:05:06Z') },
    ]);
  });

  it('answers an unknown resource with ResourceNotFoundFault', async () => {
    const error = await failure(
      rds.send(
        new DescribePendingMaintenanceActionsCommand({
          ResourceIdentifier: 'arn:aws:rds:us-east-1:000000000000:db:ghost',
        }),
      ),
    );

    expect(error).toBeInstanceOf(ResourceNotFoundFault);
  });
});

describe('ApplyPendingMaintenanceAction', () => {
  it('applies an action now: maintenance while the server restarts, then available, the action gone, the data kept', async () => {
    const service = handle.sandbox.context.service<RdsService>('rds');
    const arn = service!.seedPendingMaintenanceAction('us-east-1', 'orders', {
      Action: 'os-upgrade',
      Description: 'Security patch: OS update',
    });
    const instance = await describeInstance('orders');
    await withPg(instance.Endpoint ?? {}, MASTER, (client) =>
      client.query("CREATE TABLE IF NOT EXISTS patched AS SELECT 'before the patch' AS note"),
    );

    const out = await rds.send(
      new ApplyPendingMaintenanceActionCommand({
        ResourceIdentifier: arn,
        ApplyAction: 'os-upgrade',
        OptInType: 'immediate',
      }),
    );
    const during = await instanceStatus(rds, 'orders');
    await waitForInstance(rds, 'orders');
    const left = await rds.send(new DescribePendingMaintenanceActionsCommand({ ResourceIdentifier: arn }));
    const after = await describeInstance('orders');
    const rows = await withPg(after.Endpoint ?? {}, MASTER, (client) =>
      client.query('SELECT note FROM patched'),
    );

    expect(out.ResourcePendingMaintenanceActions?.PendingMaintenanceActionDetails).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'os-upgrade',
          OptInStatus: 'immediate',
          CurrentApplyDate: expect.any(Date),
        }),
      ]),
    );
    expect(during).toBe('maintenance');
    const actions = (left.PendingMaintenanceActions ?? []).flatMap(
      (r) => r.PendingMaintenanceActionDetails ?? [],
    );
    expect(actions.map((a) => a.Action)).not.toContain('os-upgrade');
    expect(rows.rows).toEqual([{ note: 'before the patch' }]);
  });

  it('records next-maintenance and undo-opt-in without applying anything', async () => {
    const service = handle.sandbox.context.service<RdsService>('rds');
    const arn = service!.seedPendingMaintenanceAction('us-east-1', 'orders', { Action: 'db-upgrade' });

    const later = await rds.send(
      new ApplyPendingMaintenanceActionCommand({
        ResourceIdentifier: arn,
        ApplyAction: 'db-upgrade',
        OptInType: 'next-maintenance',
      }),
    );
    const status = await instanceStatus(rds, 'orders');
    const undone = await rds.send(
      new ApplyPendingMaintenanceActionCommand({
        ResourceIdentifier: arn,
        ApplyAction: 'db-upgrade',
        OptInType: 'undo-opt-in',
      }),
    );

    const find = (out: typeof later) =>
      out.ResourcePendingMaintenanceActions?.PendingMaintenanceActionDetails?.find(
        (a) => a.Action === 'db-upgrade',
      );
    expect(find(later)?.OptInStatus).toBe('next-maintenance');
    expect(status).toBe('available');
    expect(find(undone)?.OptInStatus).toBeUndefined();
  });

  it('refuses an action that is not pending, an unknown OptInType and an unknown resource', async () => {
    const arn = 'arn:aws:rds:us-east-1:000000000000:db:orders';

    const notPending = await failure(
      rds.send(
        new ApplyPendingMaintenanceActionCommand({
          ResourceIdentifier: arn,
          ApplyAction: 'hardware-maintenance',
          OptInType: 'immediate',
        }),
      ),
    );
    const badType = await failure(
      rds.send(
        new ApplyPendingMaintenanceActionCommand({
          ResourceIdentifier: arn,
          ApplyAction: 'db-upgrade',
          OptInType: 'tomorrow',
        }),
      ),
    );
    const ghost = await failure(
      rds.send(
        new ApplyPendingMaintenanceActionCommand({
          ResourceIdentifier: 'arn:aws:rds:us-east-1:000000000000:db:ghost',
          ApplyAction: 'db-upgrade',
          OptInType: 'immediate',
        }),
      ),
    );

    expect(notPending.name).toBe('InvalidParameterValue');
    expect(notPending.message).toContain('hardware-maintenance is not pending');
    expect(badType.name).toBe('InvalidParameterValue');
    expect(ghost).toBeInstanceOf(ResourceNotFoundFault);
  });
});

describe('DeleteDBInstance', () => {
  it('needs FinalDBSnapshotIdentifier unless SkipFinalSnapshot', async () => {
    const error = await failure(rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'scratch' })));

    expect(error.name).toBe('InvalidParameterCombination');
  });

  it('takes the final snapshot, shows deleting, then the instance is gone and its server stopped', async () => {
    const instance = await describeInstance('scratch');
    await withPg(instance.Endpoint ?? {}, MASTER, (client) =>
      client.query("CREATE TABLE kept AS SELECT 'last words' AS note"),
    );

    const out = await rds.send(
      new DeleteDBInstanceCommand({
        DBInstanceIdentifier: 'scratch',
        FinalDBSnapshotIdentifier: 'scratch-final',
      }),
    );
    const seen = await pollUntil(
      () => instanceStatus(rds, 'scratch').catch((error: Error) => error.name),
      'DBInstanceNotFoundFault',
      'deleted instance',
    );
    await waitForSnapshot(rds, 'scratch-final');
    const refused = await failure(withPg(instance.Endpoint ?? {}, MASTER, () => Promise.resolve()));

    expect(out.DBInstance?.DBInstanceStatus).toBe('deleting');
    expect(seen).toEqual(['deleting', 'DBInstanceNotFoundFault']);
    expect(refused.message).toMatch(/ECONNREFUSED/);
  });

  it('deletes an instance that is still creating, but cannot take its final snapshot', async () => {
    await createInstance('short-lived');

    const withSnapshot = await failure(
      rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: 'short-lived',
          FinalDBSnapshotIdentifier: 'never',
        }),
      ),
    );
    const out = await rds.send(
      new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'short-lived', SkipFinalSnapshot: true }),
    );
    const seen = await pollUntil(
      () => instanceStatus(rds, 'short-lived').catch((error: Error) => error.name),
      'DBInstanceNotFoundFault',
      'instance deleted while creating',
    );

    expect(withSnapshot).toBeInstanceOf(InvalidDBInstanceStateFault);
    expect(withSnapshot.message).toMatch(/creating - a final snapshot cannot be taken/);
    expect(out.DBInstance?.DBInstanceStatus).toBe('deleting');
    expect(seen).toEqual(['deleting', 'DBInstanceNotFoundFault']);
  });

  it('refuses to delete an instance that is already being deleted or does not exist', async () => {
    const error = await failure(
      rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'scratch', SkipFinalSnapshot: true })),
    );

    expect(error).toBeInstanceOf(DBInstanceNotFoundFault);
  });
});

describe('inspection', () => {
  it('lists the PostgreSQL server behind each instance', async () => {
    const response = await fetch(`${handle.sandbox.url}/_sandbox/rds/servers`);
    const { servers } = (await response.json()) as {
      servers: { id: string; port: number | null; pid: number | null }[];
    };
    const orders = await describeInstance('orders');

    expect(servers.find((server) => server.id === 'orders')).toMatchObject({
      port: orders.Endpoint?.Port,
      pid: expect.any(Number),
    });
  });
});

describe('the Query protocol', () => {
  it('answers an unknown Action with an InvalidAction error document', async () => {
    // The sandbox reads the credential scope and does not verify signatures, like LocalStack.
    const authorization =
      'AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=00';

    const response = await fetch(handle.sandbox.url, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=LaunchRockets&Version=2014-10-31',
    });
    const text = await response.text();

    expect(response.status).toBe(400);
    expect(text).toContain('<Code>InvalidAction</Code>');
  });
});
