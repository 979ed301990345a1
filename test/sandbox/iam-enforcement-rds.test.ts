/**
 * IAM enforced on RDS for a role session, with real PostgreSQL behind it: tag conditions on the
 * resource (a role allowed to delete only `caretaker:managed=true` snapshots is refused on an
 * unmanaged one) and on the request (a snapshot created with Tags also needs rds:AddTagsToResource,
 * under its aws:RequestTag condition), answered as RDS answers them.
 */
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { iamRegistryService } from '../../sandbox/iam-registry/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import { ACCOUNT, asAdministrator, asRole, failure, REGION, role } from './iam-support.ts';
import { waitForInstance, waitForSnapshot } from './rds-support.ts';

const handle = withSandbox([kmsService, rdsService, iamRegistryService], {
  settings: { iam: { enforcement: 'enforce' }, rds: { statusDelayMs: 100 } },
});
const sandbox = () => handle.sandbox;
const admin = () => new RDSClient(asAdministrator(sandbox()));
const ARN = `arn:aws:rds:${REGION}:${ACCOUNT}`;

beforeAll(async () => {
  await admin().send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'orders',
      DBInstanceClass: 'db.t4g.micro',
      Engine: 'postgres',
      MasterUsername: 'owner',
      MasterUserPassword: 'owner-secret-1',
      BackupRetentionPeriod: 0,
    }),
  );
  await waitForInstance(admin(), 'orders');
  for (const [id, managed] of [
    ['caretaker-managed', 'true'],
    ['someone-elses', undefined],
  ] as const) {
    await admin().send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'orders',
        DBSnapshotIdentifier: id,
        ...(managed ? { Tags: [{ Key: 'caretaker:managed', Value: managed }] } : {}),
      }),
    );
    await waitForSnapshot(admin(), id);
    await waitForInstance(admin(), 'orders');
  }
}, 120_000);

describe('a role session calling RDS', () => {
  it('deletes a caretaker:managed snapshot and is refused an unmanaged one by its rds:snapshot-tag condition', async () => {
    const cleanup = role(sandbox(), 'Cleanup', [
      {
        Effect: 'Allow',
        Action: 'rds:DeleteDBSnapshot',
        Resource: `${ARN}:snapshot:*`,
        Condition: { StringEquals: { 'rds:snapshot-tag/caretaker:managed': 'true' } },
      },
    ]);
    const rds = new RDSClient(asRole(sandbox(), cleanup));

    const refused = await failure(
      rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'someone-elses' })),
    );
    await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'caretaker-managed' }));

    expect(refused.name).toBe('AccessDenied');
    expect(refused.$metadata?.httpStatusCode).toBe(403);
    expect(refused.message).toBe(
      `User: ${cleanup.principal} is not authorized to perform: rds:DeleteDBSnapshot on resource: ${ARN}:snapshot:someone-elses because no identity-based policy allows the rds:DeleteDBSnapshot action`,
    );
    const left = await admin().send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'orders' }));
    expect(left.DBSnapshots?.map((snapshot) => snapshot.DBSnapshotIdentifier)).toEqual(['someone-elses']);
    expect(sandbox().denials().at(-1)).toMatchObject({
      action: 'rds:DeleteDBSnapshot',
      resources: [`${ARN}:snapshot:someone-elses`],
    });
  });

  it('needs rds:AddTagsToResource to create a snapshot with Tags, under its aws:RequestTag condition', async () => {
    const create = {
      Effect: 'Allow',
      Action: 'rds:CreateDBSnapshot',
      Resource: [`${ARN}:db:orders`, `${ARN}:snapshot:caretaker-*`],
    };
    const untagging = role(sandbox(), 'NoTagging', [create]);
    const tagging = role(sandbox(), 'Tagging', [
      create,
      {
        Effect: 'Allow',
        Action: 'rds:AddTagsToResource',
        Resource: `${ARN}:snapshot:caretaker-*`,
        Condition: { StringEquals: { 'aws:RequestTag/caretaker:managed': 'true' } },
      },
    ]);
    const snapshot = (client: RDSClient, id: string, managed: string) =>
      client.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: id,
          Tags: [{ Key: 'caretaker:managed', Value: managed }],
        }),
      );

    const withoutTagging = await failure(
      snapshot(new RDSClient(asRole(sandbox(), untagging)), 'caretaker-a', 'true'),
    );
    const wrongTag = await failure(
      snapshot(new RDSClient(asRole(sandbox(), tagging)), 'caretaker-b', 'false'),
    );
    const created = await snapshot(new RDSClient(asRole(sandbox(), tagging)), 'caretaker-c', 'true');

    expect(withoutTagging.message).toContain(
      `rds:AddTagsToResource on resource: ${ARN}:snapshot:caretaker-a`,
    );
    expect(wrongTag.message).toContain(`rds:AddTagsToResource on resource: ${ARN}:snapshot:caretaker-b`);
    expect(created.DBSnapshot?.DBSnapshotIdentifier).toBe('caretaker-c');
  });

  it('describes only what its policy names: db:* for a Describe without an identifier', async () => {
    const narrow = role(sandbox(), 'Narrow', [
      { Effect: 'Allow', Action: 'rds:DescribeDBInstances', Resource: `${ARN}:db:orders` },
    ]);
    const rds = new RDSClient(asRole(sandbox(), narrow));

    const one = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders' }));
    const all = await failure(rds.send(new DescribeDBInstancesCommand({})));

    expect(one.DBInstances?.[0]?.DBInstanceIdentifier).toBe('orders');
    expect(all.message).toContain(`rds:DescribeDBInstances on resource: ${ARN}:db:*`);
  });
});
