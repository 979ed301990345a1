/**
 * Aurora PostgreSQL clusters in the sandbox's RDS: one real PostgreSQL server per cluster, member
 * instances reporting its endpoint, cluster snapshots that copy the data, copies across regions,
 * renames, deletion rules, and the cluster error codes. Also pages DescribeDBInstances over many
 * members (members have no server of their own, so they are cheap).
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  AddTagsToResourceCommand,
  CopyDBClusterSnapshotCommand,
  CreateDBClusterCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  DBClusterAlreadyExistsFault,
  DBClusterNotFoundFault,
  DBClusterSnapshotAlreadyExistsFault,
  DBClusterSnapshotNotFoundFault,
  DeleteDBClusterCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBInstanceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribePendingMaintenanceActionsCommand,
  InvalidDBClusterSnapshotStateFault,
  InvalidDBClusterStateFault,
  KMSKeyNotAccessibleFault,
  ListTagsForResourceCommand,
  ModifyDBClusterCommand,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { type RdsService, rdsService } from '../../sandbox/services/rds/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import {
  failure,
  instanceStatus,
  pollUntil,
  waitForCluster,
  waitForClusterSnapshot,
  waitForInstance,
  withPg,
} from './rds-support.ts';

const handle = withSandbox([kmsService, rdsService], { settings: { rds: { statusDelayMs: 250 } } });
const MASTER = { user: 'warehouse_admin', password: 'warehouse-secret-1', database: 'warehouse' };
let rds: RDSClient;
let createdStatuses: string[];

async function describeCluster(client: RDSClient, id: string) {
  const out = await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }));
  const cluster = out.DBClusters?.[0];
  if (!cluster) throw new Error(`no cluster ${id}`);
  return cluster;
}

function addMember(id: string, cluster = 'analytics') {
  return rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      DBClusterIdentifier: cluster,
      Engine: 'aurora-postgresql',
      DBInstanceClass: 'db.r6g.large',
    }),
  );
}

function clusterEndpoint(cluster: { Endpoint?: string; Port?: number }) {
  return { Address: cluster.Endpoint, Port: cluster.Port };
}

function countRows(client: { query: (sql: string) => Promise<{ rows: { n: number }[] }> }) {
  return client.query('SELECT count(*)::int AS n FROM facts').then((result) => result.rows[0]?.n);
}

beforeAll(async () => {
  rds = new RDSClient({});
  const created = await rds.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: 'analytics',
      Engine: 'aurora-postgresql',
      MasterUsername: MASTER.user,
      MasterUserPassword: MASTER.password,
      DatabaseName: MASTER.database,
      Tags: [{ Key: 'team', Value: 'bi' }],
    }),
  );
  expect(created.DBCluster?.Status).toBe('creating');
  createdStatuses = await waitForCluster(rds, 'analytics');
  await Promise.all([addMember('analytics-1'), addMember('analytics-2')].map((p) => p));
  await Promise.all([waitForInstance(rds, 'analytics-1'), waitForInstance(rds, 'analytics-2')]);
  const cluster = await describeCluster(rds, 'analytics');
  await withPg(clusterEndpoint(cluster), MASTER, async (client) => {
    await client.query('CREATE TABLE facts (id int PRIMARY KEY)');
    await client.query('INSERT INTO facts SELECT generate_series(1, 500)');
  });
}, 120_000);

describe('CreateDBCluster', () => {
  it('moves through creating and backing-up to available and serves DatabaseName on its endpoint', async () => {
    const cluster = await describeCluster(rds, 'analytics');

    const who = await withPg(
      clusterEndpoint(cluster),
      MASTER,
      async (client) => (await client.query('SELECT current_user AS user, current_database() AS db')).rows[0],
    );

    expect(createdStatuses).toEqual(['creating', 'backing-up', 'available']);
    expect(cluster).toMatchObject({
      Engine: 'aurora-postgresql',
      Endpoint: '127.0.0.1',
      ReaderEndpoint: '127.0.0.1',
      DatabaseName: 'warehouse',
      MasterUsername: MASTER.user,
      DBClusterArn: 'arn:aws:rds:us-east-1:000000000000:cluster:analytics',
      DBClusterParameterGroup: 'default.aurora-postgresql18',
      TagList: [{ Key: 'team', Value: 'bi' }],
      MultiAZ: true,
    });
    expect(who).toEqual({ user: MASTER.user, db: MASTER.database });
  });

  it('lists members with the first as writer, each reporting the cluster endpoint', async () => {
    const cluster = await describeCluster(rds, 'analytics');
    const members = await rds.send(
      new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-cluster-id', Values: ['analytics'] }] }),
    );

    expect(cluster.DBClusterMembers).toEqual([
      {
        DBInstanceIdentifier: 'analytics-1',
        IsClusterWriter: true,
        DBClusterParameterGroupStatus: 'in-sync',
        PromotionTier: 1,
      },
      {
        DBInstanceIdentifier: 'analytics-2',
        IsClusterWriter: false,
        DBClusterParameterGroupStatus: 'in-sync',
        PromotionTier: 1,
      },
    ]);
    expect(
      members.DBInstances?.map((member) => [
        member.DBInstanceIdentifier,
        member.DBClusterIdentifier,
        member.Endpoint?.Port,
      ]),
    ).toEqual([
      ['analytics-1', 'analytics', cluster.Port],
      ['analytics-2', 'analytics', cluster.Port],
    ]);
  });

  it('refuses a taken identifier, a member with its own master user, and an Aurora instance without a cluster', async () => {
    const taken = await failure(
      rds.send(
        new CreateDBClusterCommand({
          DBClusterIdentifier: 'analytics',
          Engine: 'aurora-postgresql',
          MasterUsername: 'x_user',
          MasterUserPassword: 'x-secret-123',
        }),
      ),
    );
    const ownMaster = await failure(
      rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: 'analytics-3',
          DBClusterIdentifier: 'analytics',
          Engine: 'aurora-postgresql',
          DBInstanceClass: 'db.r6g.large',
          MasterUsername: 'someone',
        }),
      ),
    );
    const noCluster = await failure(
      rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: 'loner',
          Engine: 'aurora-postgresql',
          DBInstanceClass: 'db.r6g.large',
        }),
      ),
    );
    const unknownCluster = await failure(addMember('ghost-1', 'ghost'));

    expect(taken).toBeInstanceOf(DBClusterAlreadyExistsFault);
    expect(ownMaster.name).toBe('InvalidParameterCombination');
    expect(noCluster.name).toBe('InvalidParameterCombination');
    expect(unknownCluster).toBeInstanceOf(DBClusterNotFoundFault);
  });
});

describe('DescribeDBClusters', () => {
  it('finds by identifier, ARN and filters, and answers an unknown one with DBClusterNotFoundFault', async () => {
    const byArn = await rds.send(
      new DescribeDBClustersCommand({
        DBClusterIdentifier: 'arn:aws:rds:us-east-1:000000000000:cluster:analytics',
      }),
    );
    const byFilter = await rds.send(
      new DescribeDBClustersCommand({ Filters: [{ Name: 'engine', Values: ['aurora-postgresql'] }] }),
    );
    const unknown = await failure(rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'ghost' })));

    expect(byArn.DBClusters?.map((cluster) => cluster.DBClusterIdentifier)).toEqual(['analytics']);
    expect(byFilter.DBClusters?.map((cluster) => cluster.DBClusterIdentifier)).toContain('analytics');
    expect(unknown).toBeInstanceOf(DBClusterNotFoundFault);
    expect(unknown.Code).toBe('DBClusterNotFoundFault');
    expect(unknown.$metadata?.httpStatusCode).toBe(404);
  });
});

describe('DescribeDBInstances pagination', () => {
  it('pages 22 members with MaxRecords 20 and a Marker, each exactly once', async () => {
    const ids = Array.from({ length: 20 }, (_, index) => `bulk-${String(index).padStart(2, '0')}`);
    await Promise.all(ids.map((id) => addMember(id)));

    const first = await rds.send(new DescribeDBInstancesCommand({ MaxRecords: 20 }));
    const second = await rds.send(new DescribeDBInstancesCommand({ MaxRecords: 20, Marker: first.Marker }));
    const seen = [...(first.DBInstances ?? []), ...(second.DBInstances ?? [])].map(
      (instance) => instance.DBInstanceIdentifier,
    );
    await Promise.all(ids.map((id) => waitForInstance(rds, id)));
    await Promise.all(ids.map((id) => rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: id }))));

    expect(first.DBInstances).toHaveLength(20);
    expect(first.Marker).toBeTruthy();
    expect(second.Marker).toBeUndefined();
    expect(seen).toEqual(['analytics-1', 'analytics-2', ...ids]);
  });
});

describe('cluster snapshots', () => {
  it('copy the data: a restored cluster has the rows of the snapshot, not the later changes', async () => {
    const cluster = await describeCluster(rds, 'analytics');
    const created = await rds.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterSnapshotIdentifier: 'analytics-snap',
        DBClusterIdentifier: 'analytics',
        Tags: [{ Key: 'caretaker:managed', Value: 'true' }],
      }),
    );
    await withPg(clusterEndpoint(cluster), MASTER, (client) =>
      client.query('DELETE FROM facts WHERE id > 100'),
    );
    const statuses = await waitForClusterSnapshot(rds, 'analytics-snap');
    await waitForCluster(rds, 'analytics');

    await rds.send(
      new RestoreDBClusterFromSnapshotCommand({
        DBClusterIdentifier: 'analytics-restored',
        SnapshotIdentifier: 'analytics-snap',
        Engine: 'aurora-postgresql',
        VpcSecurityGroupIds: ['sg-0ccccccccccccccccc'],
        DBSubnetGroupName: 'private',
        DBClusterParameterGroupName: 'analytics-params',
        Tags: [{ Key: 'caretaker:kind', Value: 'drill' }],
      }),
    );
    await waitForCluster(rds, 'analytics-restored');
    const restored = await describeCluster(rds, 'analytics-restored');
    const restoredRows = await withPg(clusterEndpoint(restored), MASTER, countRows);
    const sourceRows = await withPg(clusterEndpoint(cluster), MASTER, countRows);

    expect(created.DBClusterSnapshot).toMatchObject({ Status: 'creating', SnapshotType: 'manual' });
    expect(statuses.at(-1)).toBe('available');
    expect(restored).toMatchObject({
      VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0ccccccccccccccccc', Status: 'active' }],
      DBSubnetGroup: 'private',
      DBClusterParameterGroup: 'analytics-params',
      TagList: [{ Key: 'caretaker:kind', Value: 'drill' }],
    });
    expect(restored.Port).not.toBe(cluster.Port);
    expect(restoredRows).toBe(500);
    expect(sourceRows).toBe(100);
  }, 120_000);

  it('are described by cluster, type and filters, and tagged by ARN', async () => {
    const manual = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: 'analytics', SnapshotType: 'manual' }),
    );
    const automated = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ Filters: [{ Name: 'snapshot-type', Values: ['automated'] }] }),
    );
    const arn = 'arn:aws:rds:us-east-1:000000000000:cluster-snapshot:analytics-snap';
    await rds.send(
      new AddTagsToResourceCommand({ ResourceName: arn, Tags: [{ Key: 'tier', Value: 'gold' }] }),
    );
    const tags = await rds.send(new ListTagsForResourceCommand({ ResourceName: arn }));

    expect(manual.DBClusterSnapshots?.map((snapshot) => snapshot.DBClusterSnapshotIdentifier)).toEqual([
      'analytics-snap',
    ]);
    expect(manual.DBClusterSnapshots?.[0]).toMatchObject({
      DBClusterSnapshotArn: arn,
      Engine: 'aurora-postgresql',
      MasterUsername: MASTER.user,
      PercentProgress: 100,
    });
    expect(automated.DBClusterSnapshots?.map((snapshot) => snapshot.DBClusterSnapshotIdentifier)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^rds:analytics-\d{4}-/)]),
    );
    expect(tags.TagList).toEqual([
      { Key: 'caretaker:managed', Value: 'true' },
      { Key: 'tier', Value: 'gold' },
    ]);
  });

  it('copy to another region under a KMS key there, and refuse an unknown key', async () => {
    const drRds = new RDSClient({ region: 'us-west-2' });
    const key = await new KMSClient({ region: 'us-west-2' }).send(new CreateKeyCommand({}));
    const source = 'arn:aws:rds:us-east-1:000000000000:cluster-snapshot:analytics-snap';

    const copied = await drRds.send(
      new CopyDBClusterSnapshotCommand({
        SourceDBClusterSnapshotIdentifier: source,
        TargetDBClusterSnapshotIdentifier: 'analytics-dr',
        KmsKeyId: key.KeyMetadata?.Arn,
        CopyTags: true,
      }),
    );
    const unknownKey = await failure(
      drRds.send(
        new CopyDBClusterSnapshotCommand({
          SourceDBClusterSnapshotIdentifier: source,
          TargetDBClusterSnapshotIdentifier: 'analytics-dr-2',
          KmsKeyId: 'alias/missing',
        }),
      ),
    );
    await pollUntil(
      () =>
        drRds
          .send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: 'analytics-dr' }))
          .then((out) => out.DBClusterSnapshots?.[0]?.Status),
      'available',
      'DR cluster snapshot copy',
    );

    expect(copied.DBClusterSnapshot).toMatchObject({
      DBClusterSnapshotArn: 'arn:aws:rds:us-west-2:000000000000:cluster-snapshot:analytics-dr',
      SourceDBClusterSnapshotArn: source,
      StorageEncrypted: true,
      KmsKeyId: key.KeyMetadata?.Arn,
      TagList: [
        { Key: 'caretaker:managed', Value: 'true' },
        { Key: 'tier', Value: 'gold' },
      ],
      AvailabilityZones: ['us-west-2a', 'us-west-2b', 'us-west-2c'],
    });
    expect(unknownKey).toBeInstanceOf(KMSKeyNotAccessibleFault);
  });

  it('answer the cluster snapshot error codes', async () => {
    const taken = await failure(
      rds.send(
        new CreateDBClusterSnapshotCommand({
          DBClusterSnapshotIdentifier: 'analytics-snap',
          DBClusterIdentifier: 'analytics',
        }),
      ),
    );
    const unknown = await failure(
      rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: 'ghost' })),
    );
    const automated = await rds.send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'automated' }));
    const notManual = await failure(
      rds.send(
        new DeleteDBClusterSnapshotCommand({
          DBClusterSnapshotIdentifier: automated.DBClusterSnapshots?.[0]?.DBClusterSnapshotIdentifier,
        }),
      ),
    );

    expect(taken).toBeInstanceOf(DBClusterSnapshotAlreadyExistsFault);
    expect(unknown).toBeInstanceOf(DBClusterSnapshotNotFoundFault);
    expect(notManual).toBeInstanceOf(InvalidDBClusterSnapshotStateFault);
  });

  it('delete a manual cluster snapshot', async () => {
    await rds.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterSnapshotIdentifier: 'short-lived',
        DBClusterIdentifier: 'analytics',
      }),
    );
    await waitForClusterSnapshot(rds, 'short-lived');
    await waitForCluster(rds, 'analytics');

    const out = await rds.send(
      new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: 'short-lived' }),
    );
    const gone = await failure(
      rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: 'short-lived' })),
    );

    expect(out.DBClusterSnapshot?.Status).toBe('deleted');
    expect(gone).toBeInstanceOf(DBClusterSnapshotNotFoundFault);
  });
});

describe('ModifyDBCluster', () => {
  it('keeps a rename without ApplyImmediately pending, and applies a parameter group at once', async () => {
    const out = await rds.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: 'analytics-restored',
        NewDBClusterIdentifier: 'analytics-later',
        DBClusterParameterGroupName: 'analytics-params-2',
      }),
    );
    const statuses = await waitForCluster(rds, 'analytics-restored');
    const cluster = await describeCluster(rds, 'analytics-restored');

    expect(out.DBCluster?.Status).toBe('modifying');
    expect(statuses).toEqual(['modifying', 'available']);
    expect(cluster.PendingModifiedValues).toEqual({ DBClusterIdentifier: 'analytics-later' });
    expect(cluster.DBClusterParameterGroup).toBe('analytics-params-2');
  });

  it('renames with ApplyImmediately: renaming, then the cluster answers on its new name with its data', async () => {
    await rds.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: 'analytics-restored',
        NewDBClusterIdentifier: 'analytics-copy',
        ApplyImmediately: true,
      }),
    );
    const statuses = await pollUntil(
      () =>
        describeCluster(rds, 'analytics-restored').then(
          (cluster) => cluster.Status,
          (error: Error) => error.name,
        ),
      'DBClusterNotFoundFault',
      'renamed cluster',
    );
    await waitForCluster(rds, 'analytics-copy');
    const renamed = await describeCluster(rds, 'analytics-copy');
    const rows = await withPg(clusterEndpoint(renamed), MASTER, countRows);

    expect(statuses).toEqual(['renaming', 'DBClusterNotFoundFault']);
    expect(renamed.PendingModifiedValues).toBeUndefined();
    expect(rows).toBe(500);
  });

  it('upgrades the engine through upgrading, and the members report the new version', async () => {
    const out = await rds.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: 'analytics',
        EngineVersion: '18.9',
        ApplyImmediately: true,
      }),
    );
    const statuses = await waitForCluster(rds, 'analytics');
    const cluster = await describeCluster(rds, 'analytics');
    const member = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'analytics-1' }));
    const rows = await withPg(clusterEndpoint(cluster), MASTER, countRows);

    expect(out.DBCluster?.Status).toBe('upgrading');
    expect(statuses).toEqual(['upgrading', 'available']);
    expect(cluster.EngineVersion).toBe('18.9');
    expect(member.DBInstances?.[0]?.EngineVersion).toBe('18.9');
    expect(rows).toBe(100);
  });

  it('refuses a change while the cluster is busy with InvalidDBClusterStateFault', async () => {
    await rds.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: 'analytics-copy',
        DBClusterParameterGroupName: 'p3',
      }),
    );

    const error = await failure(
      rds.send(
        new ModifyDBClusterCommand({
          DBClusterIdentifier: 'analytics-copy',
          DBClusterParameterGroupName: 'p4',
        }),
      ),
    );
    await waitForCluster(rds, 'analytics-copy');

    expect(error).toBeInstanceOf(InvalidDBClusterStateFault);
  });
});

describe('pending maintenance on a cluster', () => {
  it('is reported under the cluster ARN and found by the db-cluster-id filter', async () => {
    handle.sandbox.context
      .service<RdsService>('rds')
      ?.seedPendingMaintenanceAction('us-east-1', 'arn:aws:rds:us-east-1:000000000000:cluster:analytics', {
        Action: 'db-upgrade',
        Description: 'Upgrade to 18.5',
      });

    const out = await rds.send(
      new DescribePendingMaintenanceActionsCommand({
        Filters: [{ Name: 'db-cluster-id', Values: ['analytics'] }],
      }),
    );

    expect(out.PendingMaintenanceActions).toEqual([
      {
        ResourceIdentifier: 'arn:aws:rds:us-east-1:000000000000:cluster:analytics',
        PendingMaintenanceActionDetails: [{ Action: 'db-upgrade', Description: 'Upgrade to 18.5' }],
      },
    ]);
  });
});

describe('DeleteDBCluster', () => {
  it('refuses while members remain, then deletes once they are gone', async () => {
    const withMembers = await failure(
      rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: 'analytics', SkipFinalSnapshot: true })),
    );
    await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'analytics-1' }));
    await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'analytics-2' }));
    await Promise.all(
      ['analytics-1', 'analytics-2'].map((id) =>
        pollUntil(
          () => instanceStatus(rds, id).catch((error: Error) => error.name),
          'DBInstanceNotFoundFault',
          `member ${id}`,
        ),
      ),
    );

    const out = await rds.send(
      new DeleteDBClusterCommand({
        DBClusterIdentifier: 'analytics',
        FinalDBSnapshotIdentifier: 'analytics-final',
      }),
    );
    const statuses = await pollUntil(
      () =>
        describeCluster(rds, 'analytics').then(
          (cluster) => cluster.Status,
          (error: Error) => error.name,
        ),
      'DBClusterNotFoundFault',
      'deleted cluster',
    );
    const final = await waitForClusterSnapshot(rds, 'analytics-final');

    expect(withMembers).toBeInstanceOf(InvalidDBClusterStateFault);
    expect(withMembers.message).toMatch(/contains DB instances/);
    expect(out.DBCluster?.Status).toBe('deleting');
    expect(statuses).toEqual(['deleting', 'DBClusterNotFoundFault']);
    expect(final.at(-1)).toBe('available');
  }, 120_000);

  it('needs FinalDBSnapshotIdentifier unless SkipFinalSnapshot', async () => {
    const error = await failure(
      rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: 'analytics-copy' })),
    );

    expect(error.name).toBe('InvalidParameterCombination');
  });
});
