import { CreateDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { withAwsCli } from '../support/awscli.ts';
import { withSandbox } from '../support/sandbox.ts';
import { waitForInstance } from './rds-support.ts';

const handle = withSandbox([rdsService], { settings: { rds: { statusDelayMs: 150 } } });
const cli = withAwsCli(() => handle.sandbox.url);
const aws = (...args: string[]) => cli.json(...args);

beforeAll(async () => {
  const rds = new RDSClient({});
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'seeded',
      DBInstanceClass: 'db.t4g.micro',
      Engine: 'postgres',
      MasterUsername: 'seed_admin',
      MasterUserPassword: 'seed-secret-1',
      DBName: 'seeded',
      BackupRetentionPeriod: 0,
      VpcSecurityGroupIds: ['sg-0123456789abcdef0'],
      Tags: [{ Key: 'caretaker:target', Value: 'seeded' }],
    }),
  );
  await waitForInstance(rds, 'seeded');
}, 120_000);

describe('awscli v2 against the sandbox RDS', () => {
  it('rds describe-db-instances reports the seeded instance with its endpoint and lists', async () => {
    const out = await aws('rds', 'describe-db-instances', '--db-instance-identifier', 'seeded');

    expect(out.DBInstances).toEqual([
      expect.objectContaining({
        DBInstanceIdentifier: 'seeded',
        DBInstanceStatus: 'available',
        Engine: 'postgres',
        MasterUsername: 'seed_admin',
        Endpoint: expect.objectContaining({ Address: '127.0.0.1', Port: expect.any(Number) }),
        VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0123456789abcdef0', Status: 'active' }],
        DBParameterGroups: [{ DBParameterGroupName: 'default.postgres18', ParameterApplyStatus: 'in-sync' }],
        TagList: [{ Key: 'caretaker:target', Value: 'seeded' }],
      }),
    ]);
  });

  it('rds create-db-snapshot starts a manual snapshot with the given tags', async () => {
    const out = await aws(
      'rds',
      'create-db-snapshot',
      '--db-instance-identifier',
      'seeded',
      '--db-snapshot-identifier',
      'cli-snapshot',
      '--tags',
      'Key=caretaker:managed,Value=true',
    );

    expect(out.DBSnapshot).toEqual(
      expect.objectContaining({
        DBSnapshotIdentifier: 'cli-snapshot',
        DBInstanceIdentifier: 'seeded',
        Status: 'creating',
        SnapshotType: 'manual',
        TagList: [{ Key: 'caretaker:managed', Value: 'true' }],
      }),
    );
  });

  it('rds describe-db-snapshots lists it, filtered by instance and type', async () => {
    const out = await aws(
      'rds',
      'describe-db-snapshots',
      '--db-instance-identifier',
      'seeded',
      '--snapshot-type',
      'manual',
      '--filters',
      'Name=db-snapshot-id,Values=cli-snapshot',
    );

    expect(out.DBSnapshots).toEqual([
      expect.objectContaining({
        DBSnapshotIdentifier: 'cli-snapshot',
        DBSnapshotArn: 'arn:aws:rds:us-east-1:000000000000:snapshot:cli-snapshot',
        Engine: 'postgres',
        TagList: [{ Key: 'caretaker:managed', Value: 'true' }],
      }),
    ]);
  });

  it('reports an unknown instance with the DBInstanceNotFound code', async () => {
    const error = await aws('rds', 'describe-db-instances', '--db-instance-identifier', 'ghost').then(
      () => undefined,
      (caught: { stderr?: string }) => caught,
    );

    expect(error?.stderr).toMatch(/DBInstanceNotFound/);
  });
});
