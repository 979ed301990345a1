import type { DBCluster, DBInstance } from '@aws-sdk/client-rds';
import { describe, expect, it } from 'vitest';
import {
  captureClusterSettings,
  captureInstanceSettings,
  clusterRestorePlan,
  instanceRestorePlan,
  settingsFromTags,
  settingsToTags,
  writerInstancePlan,
} from '../../../../../functions/common/rds/rds-settings.ts';

const INSTANCE: DBInstance = {
  DBInstanceIdentifier: 'orders',
  DBInstanceClass: 'db.r6g.large',
  Engine: 'postgres',
  EngineVersion: '16.3',
  DBParameterGroups: [{ DBParameterGroupName: 'orders-params', ParameterApplyStatus: 'in-sync' }],
  OptionGroupMemberships: [{ OptionGroupName: 'orders-options', Status: 'in-sync' }],
  DBSubnetGroup: { DBSubnetGroupName: 'private subnets.a_b' },
  VpcSecurityGroups: [
    { VpcSecurityGroupId: 'sg-0aaaaaaaaaaaaaaaa', Status: 'active' },
    { VpcSecurityGroupId: 'sg-0bbbbbbbbbbbbbbbb', Status: 'active' },
  ],
  StorageType: 'gp3',
  AllocatedStorage: 500,
  Iops: 12000,
  StorageThroughput: 500,
  MultiAZ: true,
  Endpoint: { Address: 'orders.abc.eu-west-1.rds.amazonaws.com', Port: 5432 },
  PubliclyAccessible: false,
  DeletionProtection: true,
  IAMDatabaseAuthenticationEnabled: true,
  CopyTagsToSnapshot: true,
  AutoMinorVersionUpgrade: false,
  BackupRetentionPeriod: 7,
  CACertificateIdentifier: 'rds-ca-rsa2048-g1',
};

const CLUSTER: DBCluster = {
  DBClusterIdentifier: 'ledger',
  Engine: 'aurora-postgresql',
  EngineVersion: '16.4',
  EngineMode: 'provisioned',
  DBClusterParameterGroup: 'ledger-cluster',
  DBSubnetGroup: 'ledger-subnets',
  VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0ccc', Status: 'active' }],
  StorageType: 'aurora-iopt1',
  Port: 5432,
  DeletionProtection: false,
  BackupRetentionPeriod: 14,
  ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
};

describe('settings tags', () => {
  it('round-trip every captured instance setting', () => {
    const settings = captureInstanceSettings(INSTANCE);

    const { tags, unrecorded } = settingsToTags(settings);

    expect(unrecorded).toEqual([]);
    expect(settingsFromTags(tags)).toEqual(settings);
    expect(Object.values(tags).every((value) => value.length <= 256)).toBe(true);
  });

  it('round-trip a cluster with its writer', () => {
    const writer: DBInstance = {
      DBInstanceClass: 'db.serverless',
      DBParameterGroups: [{ DBParameterGroupName: 'ledger-writer' }],
    };
    const settings = captureClusterSettings(CLUSTER, writer);

    const back = settingsFromTags(settingsToTags(settings).tags);

    expect(back).toEqual(settings);
    expect(back).toMatchObject({
      instanceClass: 'db.serverless',
      instanceParameterGroup: 'ledger-writer',
      serverlessV2Min: 0.5,
      serverlessV2Max: 16,
    });
  });

  it('reads as a few short tags an operator can read', () => {
    const { tags } = settingsToTags(captureInstanceSettings(INSTANCE));

    expect(tags).toMatchObject({
      'caretaker:settings': 'v1 instance',
      'caretaker:settings:class': 'db.r6g.large',
      'caretaker:settings:storage': 'type=gp3 allocated=500 iops=12000 throughput=500',
      'caretaker:settings:network': 'port=5432 multi-az=true public=false',
    });
    expect(Object.keys(tags).length).toBeLessThanOrEqual(12);
  });

  it('continues a long security group list in numbered tags', () => {
    const groups = Array.from({ length: 16 }, (_, i) => `sg-${String(i).padStart(17, '0')}`);
    const settings = { type: 'instance' as const, securityGroups: groups };

    const { tags } = settingsToTags(settings);

    expect(tags['caretaker:settings:security-groups:2']).toBeDefined();
    expect(settingsFromTags(tags)?.securityGroups).toEqual(groups);
  });

  it('leaves out a value RDS tags cannot hold and names it', () => {
    const { tags, unrecorded } = settingsToTags({ type: 'instance', parameterGroup: 'bad,name', port: 5432 });

    expect(unrecorded).toEqual(['parameterGroup']);
    expect(settingsFromTags(tags)).toEqual({ type: 'instance', port: 5432 });
  });

  it('reads nothing from a snapshot without the settings marker', () => {
    expect(settingsFromTags({ 'caretaker:settings:class': 'db.r6g.large' })).toBeUndefined();
    expect(settingsFromTags({ 'caretaker:settings': 'v9 instance' })).toBeUndefined();
  });
});

describe('instanceRestorePlan', () => {
  const settings = captureInstanceSettings(INSTANCE);

  it('carries every setting into the restore request in the same region', () => {
    const plan = instanceRestorePlan(settings, {}, { sameRegion: true });

    expect(plan.input).toEqual({
      DBInstanceClass: 'db.r6g.large',
      DBParameterGroupName: 'orders-params',
      OptionGroupName: 'orders-options',
      DBSubnetGroupName: 'private subnets.a_b',
      VpcSecurityGroupIds: ['sg-0aaaaaaaaaaaaaaaa', 'sg-0bbbbbbbbbbbbbbbb'],
      StorageType: 'gp3',
      AllocatedStorage: 500,
      Iops: 12000,
      StorageThroughput: 500,
      MultiAZ: true,
      Port: 5432,
      PubliclyAccessible: false,
      EnableIAMDatabaseAuthentication: true,
      CopyTagsToSnapshot: true,
      AutoMinorVersionUpgrade: false,
      BackupRetentionPeriod: 7,
      CACertificateIdentifier: 'rds-ca-rsa2048-g1',
      DeletionProtection: false,
    });
    expect(plan.protectOnPromote).toBe(true);
    expect(plan.defaulted).toEqual([]);
    expect(plan.notes).toEqual([]);
  });

  it('lets overrides win (a smaller class for DR)', () => {
    const plan = instanceRestorePlan(
      settings,
      { instanceClass: 'db.t4g.medium', multiAZ: false },
      { sameRegion: true },
    );

    expect(plan.input).toMatchObject({ DBInstanceClass: 'db.t4g.medium', MultiAZ: false });
  });

  it('leaves region-bound groups to the defaults in another region, saying which, unless overridden', () => {
    const plan = instanceRestorePlan(settings, { subnetGroup: 'dr-subnets' }, { sameRegion: false });

    expect(plan.input).toMatchObject({ DBSubnetGroupName: 'dr-subnets' });
    expect(plan.input).not.toHaveProperty('VpcSecurityGroupIds');
    expect(plan.input).not.toHaveProperty('DBParameterGroupName');
    expect(plan.defaulted).toEqual(['parameterGroup', 'optionGroup', 'securityGroups']);
    expect(plan.notes.join(' ')).toMatch(/securityGroups .* belongs to the source region/);
  });

  it('carries default group names into any region', () => {
    const plan = instanceRestorePlan(
      { type: 'instance', parameterGroup: 'default.postgres16', optionGroup: 'default:postgres-16' },
      {},
      { sameRegion: false },
    );

    expect(plan.input).toMatchObject({
      DBParameterGroupName: 'default.postgres16',
      OptionGroupName: 'default:postgres-16',
    });
  });

  it('gives gp3 IOPS and throughput only from the size AWS takes them at', () => {
    const small = instanceRestorePlan({ ...settings, allocatedStorage: 100 }, {}, { sameRegion: true });
    const io2 = instanceRestorePlan(
      { ...settings, storageType: 'io2', allocatedStorage: 100 },
      {},
      { sameRegion: true },
    );

    expect(small.input).not.toHaveProperty('Iops');
    expect(small.input).not.toHaveProperty('StorageThroughput');
    expect(io2.input).toMatchObject({ Iops: 12000 });
    expect(io2.input).not.toHaveProperty('StorageThroughput');
  });

  it('says so when nothing was captured', () => {
    const plan = instanceRestorePlan(undefined, {}, { sameRegion: true });

    expect(plan.input).toEqual({ DeletionProtection: false, PubliclyAccessible: false });
    expect(plan.notes).toEqual(['no settings were captured with this snapshot: AWS defaults apply']);
  });

  it('makes the copy of a publicly accessible source private, and says so', () => {
    const settings = captureInstanceSettings({ ...INSTANCE, PubliclyAccessible: true });

    const plan = instanceRestorePlan(settings, {}, { sameRegion: true });
    const writer = writerInstancePlan(
      captureClusterSettings(CLUSTER, { DBInstanceClass: 'db.r7g.xlarge', PubliclyAccessible: true }),
      {},
      { sameRegion: true },
    );

    expect(plan.input.PubliclyAccessible).toBe(false);
    expect(plan.notes).toContain(
      'publiclyAccessible: the source is publicly accessible; the restored copy is not (make it public by hand if it must be)',
    );
    expect(writer.input.PubliclyAccessible).toBe(false);
  });
});

describe('clusterRestorePlan and writerInstancePlan', () => {
  const settings = captureClusterSettings(CLUSTER, {
    DBInstanceClass: 'db.r7g.xlarge',
    DBParameterGroups: [{ DBParameterGroupName: 'ledger-writer' }],
    PubliclyAccessible: false,
  });

  it('carries the cluster settings and the serverless v2 range', () => {
    const plan = clusterRestorePlan(settings, {}, { sameRegion: true });

    expect(plan.input).toEqual({
      DBClusterParameterGroupName: 'ledger-cluster',
      DBSubnetGroupName: 'ledger-subnets',
      VpcSecurityGroupIds: ['sg-0ccc'],
      StorageType: 'aurora-iopt1',
      Port: 5432,
      BackupRetentionPeriod: 14,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
      DeletionProtection: false,
    });
  });

  it('gives the writer the captured class and parameter group', () => {
    const plan = writerInstancePlan(settings, {}, { sameRegion: true });

    expect(plan.input).toEqual({
      DBInstanceClass: 'db.r7g.xlarge',
      DBParameterGroupName: 'ledger-writer',
      PubliclyAccessible: false,
    });
  });
});
