/**
 * RDS's IAM mapping (sandbox/services/rds/authorization.ts): every resource a request names, each
 * with its current tags, request tags with rds:AddTagsToResource on creation, final snapshots and
 * KMS keys used through RDS.
 */
import { describe, expect, it } from 'vitest';
import type { AccessCheck } from '../../../sandbox/core/access/checks.ts';
import { type RdsAuthorizationView, rdsAccessChecks } from '../../../sandbox/services/rds/authorization.ts';
import { RdsInput } from '../../../sandbox/services/rds/input.ts';
import { contractProblems } from './contract.ts';

const ARN = 'arn:aws:rds:us-east-1:000000000000';
const KEY = {
  arn: 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555',
  tags: {},
  aliases: [],
};

const view: RdsAuthorizationView = {
  region: 'us-east-1',
  accountId: '000000000000',
  find(kind, identifier) {
    if (kind === 'db' && identifier === 'orders') {
      return {
        tags: [{ Key: 'team', Value: 'orders' }],
        engine: 'postgres',
        engineVersion: '16.3',
        copyTagsToSnapshot: true,
      };
    }
    if (kind === 'snapshot' && identifier === 'caretaker-1') {
      return {
        tags: [{ Key: 'caretaker:managed', Value: 'true' }],
        engine: 'postgres',
        engineVersion: '16.3',
      };
    }
    if (kind === 'snapshot' && identifier === 'manual-1')
      return { tags: [], engine: 'postgres', engineVersion: '16.3' };
    return undefined;
  },
  kmsKey: (_region, keyId) => (keyId === 'alias/dr' ? KEY : undefined),
};

const input = (params: Record<string, string>) =>
  new RdsInput(new URL(`http://x/?${new URLSearchParams(params)}`), Buffer.alloc(0));
const checks = (action: string, params: Record<string, string>) =>
  rdsAccessChecks(action, input(params), view);
const pairs = (list: readonly AccessCheck[]) =>
  list.flatMap((c) => c.resources.map((r) => `${c.action} ${r.arn}`));

describe('RDS actions and what they need', () => {
  it("gives DeleteDBSnapshot the snapshot's tags as rds:snapshot-tag/… and aws:ResourceTag/…", async () => {
    const result = checks('DeleteDBSnapshot', { DBSnapshotIdentifier: 'caretaker-1' });

    expect(pairs(result)).toEqual([`rds:DeleteDBSnapshot ${ARN}:snapshot:caretaker-1`]);
    expect(result[0]?.resources[0]?.context).toEqual({
      'rds:snapshot-tag/caretaker:managed': 'true',
      'aws:ResourceTag/caretaker:managed': 'true',
    });
    expect(
      checks('DeleteDBSnapshot', { DBSnapshotIdentifier: 'manual-1' })[0]?.resources[0]?.context,
    ).toEqual({});
    expect(await contractProblems(result)).toEqual([]);
  });

  it('authorizes CreateDBSnapshot on the instance and the new snapshot, and tagging it with rds:AddTagsToResource', async () => {
    const result = checks('CreateDBSnapshot', {
      DBInstanceIdentifier: 'orders',
      DBSnapshotIdentifier: 'caretaker-2',
      'Tags.Tag.1.Key': 'caretaker:managed',
      'Tags.Tag.1.Value': 'true',
    });

    expect(pairs(result)).toEqual([
      `rds:CreateDBSnapshot ${ARN}:db:orders`,
      `rds:CreateDBSnapshot ${ARN}:snapshot:caretaker-2`,
      `rds:AddTagsToResource ${ARN}:snapshot:caretaker-2`,
    ]);
    expect(result[1]?.context).toEqual({
      'aws:RequestTag/caretaker:managed': 'true',
      'rds:req-tag/caretaker:managed': 'true',
      'aws:TagKeys': ['caretaker:managed'],
    });
    expect(result[0]?.resources[0]?.context).toMatchObject({ 'rds:db-tag/team': 'orders' });
    expect(await contractProblems(result)).toEqual([]);
  });

  it('authorizes a restore on the new instance, the snapshot and the groups it uses (defaults when unnamed)', async () => {
    const result = checks('RestoreDBInstanceFromDBSnapshot', {
      DBInstanceIdentifier: 'orders-r1',
      DBSnapshotIdentifier: 'caretaker-1',
      KmsKeyId: 'alias/dr',
    });

    expect(pairs(result)).toEqual([
      `rds:RestoreDBInstanceFromDBSnapshot ${ARN}:db:orders-r1`,
      `rds:RestoreDBInstanceFromDBSnapshot ${ARN}:snapshot:caretaker-1`,
      `rds:RestoreDBInstanceFromDBSnapshot ${ARN}:og:default:postgres-16`,
      `rds:RestoreDBInstanceFromDBSnapshot ${ARN}:pg:default.postgres16`,
      `rds:RestoreDBInstanceFromDBSnapshot ${ARN}:subgrp:default`,
      `kms:DescribeKey ${KEY.arn}`,
      `kms:CreateGrant ${KEY.arn}`,
    ]);
    expect(result[2]?.context).toMatchObject({
      'kms:GrantIsForAWSResource': true,
      'kms:ViaService': 'rds.us-east-1.amazonaws.com',
    });
    expect(await contractProblems(result)).toEqual([]);
  });

  it('needs rds:CreateDBSnapshot (and AddTagsToResource with CopyTagsToSnapshot) for a final snapshot', async () => {
    const result = checks('DeleteDBInstance', {
      DBInstanceIdentifier: 'orders',
      FinalDBSnapshotIdentifier: 'orders-final',
    });
    const skipped = checks('DeleteDBInstance', { DBInstanceIdentifier: 'orders', SkipFinalSnapshot: 'true' });

    expect(result.map((c) => c.action)).toEqual([
      'rds:DeleteDBInstance',
      'rds:CreateDBSnapshot',
      'rds:AddTagsToResource',
    ]);
    expect(result[2]?.context).toMatchObject({ 'aws:RequestTag/team': 'orders' });
    expect(skipped.map((c) => c.action)).toEqual(['rds:DeleteDBInstance']);
    expect(await contractProblems(result)).toEqual([]);
  });

  it('authorizes a Describe without an identifier on db:* and with one on that resource', async () => {
    const all = checks('DescribeDBInstances', {});
    const one = checks('DescribeDBSnapshots', { DBInstanceIdentifier: 'orders' });

    expect(pairs(all)).toEqual([`rds:DescribeDBInstances ${ARN}:db:*`]);
    expect(pairs(one)).toEqual([`rds:DescribeDBSnapshots ${ARN}:db:orders`]);
    expect(await contractProblems([...all, ...one])).toEqual([]);
  });

  it('gives RemoveTagsFromResource the keys it removes as aws:TagKeys', async () => {
    const result = checks('RemoveTagsFromResource', {
      ResourceName: `${ARN}:db:orders`,
      'TagKeys.member.1': 'caretaker:promoted-at',
    });

    expect(result[0]?.context).toEqual({ 'aws:TagKeys': ['caretaker:promoted-at'] });
    expect(await contractProblems(result)).toEqual([]);
  });

  it('maps every other action the sandbox serves to a real one', async () => {
    const params = {
      DBInstanceIdentifier: 'orders',
      DBClusterIdentifier: 'c',
      DBClusterSnapshotIdentifier: 'cs',
      SourceDBSnapshotIdentifier: 'caretaker-1',
      TargetDBSnapshotIdentifier: 'copy',
      SourceDBClusterSnapshotIdentifier: 'cs',
      TargetDBClusterSnapshotIdentifier: 'cs2',
      SnapshotIdentifier: 'cs',
      ResourceName: `${ARN}:snapshot:caretaker-1`,
      FinalDBClusterSnapshotIdentifier: 'c-final',
    };
    const actions = [
      'CreateDBInstance',
      'ModifyDBInstance',
      'CreateDBCluster',
      'DescribeDBClusters',
      'ModifyDBCluster',
      'DeleteDBCluster',
      'RestoreDBClusterFromSnapshot',
      'CreateDBClusterSnapshot',
      'DescribeDBClusterSnapshots',
      'DeleteDBClusterSnapshot',
      'CopyDBSnapshot',
      'CopyDBClusterSnapshot',
      'AddTagsToResource',
      'ListTagsForResource',
      'DescribePendingMaintenanceActions',
    ];
    const result = actions.flatMap((action) => checks(action, params));

    expect(await contractProblems(result)).toEqual([]);
  });
});
