import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribePendingMaintenanceActionsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { probeRds } from '../../../../../functions/health-check/probes/rds.ts';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({});
const INSTANCE_ARN = 'arn:aws:rds:us-east-1:111122223333:db:orders-prod';
const CLUSTER_ARN = 'arn:aws:rds:us-east-1:111122223333:cluster:orders-aurora';

afterEach(() => {
  rdsMock.reset();
});

function instance(status: string) {
  rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-prod' }).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders-prod',
        DBInstanceArn: INSTANCE_ARN,
        DBInstanceStatus: status,
        Engine: 'postgres',
        EngineVersion: '16.4',
        DBInstanceClass: 'db.t4g.medium',
        MultiAZ: true,
      },
    ],
  });
}

function noPendingMaintenance() {
  rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({ PendingMaintenanceActions: [] });
}

const check = { name: 'orders-db', type: 'instance' as const, identifier: 'orders-prod' };

describe('probeRds', () => {
  it('passes an available instance with no pending maintenance', async () => {
    // Prepare
    instance('available');
    noPendingMaintenance();

    // Act
    const outcome = await probeRds(rds, check);

    // Assess
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(
      'instance orders-prod: status available (expected available), no pending maintenance',
    );
    expect(outcome.evidence).toMatchObject({ engine: 'postgres', engineVersion: '16.4', multiAZ: true });
    expect(rdsMock.commandCalls(DescribePendingMaintenanceActionsCommand)[0]?.args[0].input).toMatchObject({
      ResourceIdentifier: INSTANCE_ARN,
    });
  });

  it('fails an instance that is not available, naming its status', async () => {
    // Prepare
    instance('stopped');
    noPendingMaintenance();

    // Act
    const outcome = await probeRds(rds, check);

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('instance orders-prod: status stopped (expected available)');
  });

  it('degrades an instance that serves while busy (backing-up)', async () => {
    // Prepare
    instance('backing-up');
    noPendingMaintenance();

    // Act
    const outcome = await probeRds(rds, check);

    // Assess
    expect(outcome.status).toBe('warn');
  });

  it('degrades an available instance with pending maintenance and reports each action', async () => {
    // Prepare
    instance('available');
    rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({
      PendingMaintenanceActions: [
        {
          ResourceIdentifier: INSTANCE_ARN,
          PendingMaintenanceActionDetails: [
            {
              Action: 'system-update',
              Description: 'New Operating System update is available',
              AutoAppliedAfterDate: new Date('2026-07-01T00:00:00Z'),
              OptInStatus: 'pending',
            },
          ],
        },
      ],
    });

    // Act
    const outcome = await probeRds(rds, check);

    // Assess
    expect(outcome.status).toBe('warn');
    expect(outcome.summary).toContain(
      '1 pending maintenance action (system-update from 2026-07-01T00:00:00.000Z)',
    );
    expect(outcome.evidence.pendingMaintenance).toEqual([
      {
        resource: INSTANCE_ARN,
        action: 'system-update',
        description: 'New Operating System update is available',
        autoAppliedAfter: '2026-07-01T00:00:00.000Z',
        optInStatus: 'pending',
      },
    ]);
  });

  it('degrades (not fails) an available instance whose pending maintenance cannot be read', async () => {
    // Prepare
    instance('available');
    rdsMock.on(DescribePendingMaintenanceActionsCommand).rejects(
      Object.assign(new Error('User is not authorized'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );

    // Act
    const outcome = await probeRds(rds, check);

    // Assess
    expect(outcome.status).toBe('warn');
    expect(outcome.evidence.pendingMaintenanceError).toBe(
      'AccessDeniedError: AccessDenied: User is not authorized',
    );
  });

  it('fails with the normalised RDS error when the instance does not exist', async () => {
    // Prepare
    rdsMock.on(DescribeDBInstancesCommand).rejects(
      Object.assign(new Error('DBInstance orders-prod not found.'), {
        name: 'DBInstanceNotFoundFault',
        Code: 'DBInstanceNotFound',
        $metadata: { httpStatusCode: 404 },
      }),
    );

    // Act
    const outcome = await probeRds(rds, check);

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(
      'instance orders-prod: not described (NotFoundError: DBInstanceNotFound: DBInstance orders-prod not found.)',
    );
  });

  it('checks a cluster and the pending maintenance of its member instances', async () => {
    // Prepare
    rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-aurora' }).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'orders-aurora',
          DBClusterArn: CLUSTER_ARN,
          Status: 'available',
          Engine: 'aurora-postgresql',
          DBClusterMembers: [
            { DBInstanceIdentifier: 'orders-aurora-2', IsClusterWriter: false },
            { DBInstanceIdentifier: 'orders-aurora-1', IsClusterWriter: true },
          ],
        },
      ],
    });
    rdsMock.on(DescribePendingMaintenanceActionsCommand, { ResourceIdentifier: CLUSTER_ARN }).resolves({});
    rdsMock
      .on(DescribePendingMaintenanceActionsCommand, {
        Filters: [{ Name: 'db-instance-id', Values: ['orders-aurora-1', 'orders-aurora-2'] }],
      })
      .resolves({
        PendingMaintenanceActions: [
          {
            ResourceIdentifier: 'arn:aws:rds:us-east-1:111122223333:db:orders-aurora-2',
            PendingMaintenanceActionDetails: [{ Action: 'db-upgrade' }],
          },
        ],
      });

    // Act
    const outcome = await probeRds(rds, {
      name: 'orders-cluster',
      type: 'cluster',
      identifier: 'orders-aurora',
    });

    // Assess
    expect(outcome.status).toBe('warn');
    expect(outcome.evidence).toMatchObject({
      members: ['orders-aurora-1', 'orders-aurora-2'],
      status: 'available',
    });
    expect(outcome.summary).toContain(
      'cluster orders-aurora: status available (expected available), 1 pending',
    );
  });

  it('fails a cluster that is failing over', async () => {
    // Prepare
    rdsMock.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        { DBClusterIdentifier: 'orders-aurora', DBClusterArn: CLUSTER_ARN, Status: 'failing-over' },
      ],
    });
    noPendingMaintenance();

    // Act
    const outcome = await probeRds(rds, {
      name: 'orders-cluster',
      type: 'cluster',
      identifier: 'orders-aurora',
    });

    // Assess
    expect(outcome.status).toBe('fail');
  });
});
