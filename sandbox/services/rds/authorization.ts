/**
 * What each RDS operation the sandbox serves needs from IAM ("Actions, resources, and condition
 * keys for Amazon RDS"):
 *
 * - the action on every resource the request names (the instance or cluster, the snapshot, the
 *   parameter, option and subnet groups), each with its current tags as condition keys
 *   (rds:db-tag/…, rds:snapshot-tag/…, rds:cluster-tag/…, rds:cluster-snapshot-tag/… and
 *   aws:ResourceTag/…); a Describe without an identifier acts on `db:*` (`cluster:*`, …);
 * - tags the request sets as aws:RequestTag/…, rds:req-tag/… and aws:TagKeys, and, for a create,
 *   copy or restore with Tags, rds:AddTagsToResource on the new resource as well;
 * - a final snapshot when deleting: rds:CreateDBSnapshot (rds:CreateDBClusterSnapshot), and
 *   rds:AddTagsToResource on it when CopyTagsToSnapshot is set (AWS's change of August 2024);
 * - a KmsKeyId: the caller's kms:CreateGrant and kms:DescribeKey on the key through RDS
 *   (kms:GrantIsForAWSResource, kms:ViaService rds.<region>.amazonaws.com).
 */
import { type AccessCheck, type CheckedResource, tagKeys } from '../../core/access/checks.ts';
import type { ContextInput } from '../../iam/index.ts';
import { type KmsKeyFacts, kmsOnBehalf } from '../kms/authorization.ts';
import type { RdsInput } from './input.ts';
import type { Tag } from './model.ts';

type Kind = 'db' | 'cluster' | 'snapshot' | 'cluster-snapshot';

/** What IAM needs to know about an existing RDS resource. */
export interface RdsResourceFacts {
  readonly tags: readonly Tag[];
  readonly engine?: string;
  readonly engineVersion?: string;
  readonly copyTagsToSnapshot?: boolean;
}

/** Lookups RDS makes for IAM, in the request's region. */
export interface RdsAuthorizationView {
  readonly region: string;
  readonly accountId: string;
  /** The resource an identifier or ARN names, when it exists. */
  find(kind: Kind, identifier: string): RdsResourceFacts | undefined;
  /** The KMS key a KmsKeyId names, in `region`. */
  kmsKey(region: string, keyId: string): KmsKeyFacts | undefined;
}

const TAG_KEY_PREFIX: Readonly<Record<Kind, string>> = {
  db: 'rds:db-tag/',
  cluster: 'rds:cluster-tag/',
  snapshot: 'rds:snapshot-tag/',
  'cluster-snapshot': 'rds:cluster-snapshot-tag/',
};

const ARN = /^arn:aws[\w-]*:rds:([a-z0-9-]+):(\d{12}):([a-z-]+):(.+)$/;

class Resources {
  constructor(private readonly view: RdsAuthorizationView) {}

  arn(type: string, identifier: string, region = this.view.region): string {
    return identifier.startsWith('arn:')
      ? identifier
      : `arn:aws:rds:${region}:${this.view.accountId}:${type}:${identifier}`;
  }

  /** An instance, cluster or snapshot, with its current tags when it exists. */
  existing(kind: Kind, identifier: string): CheckedResource {
    const facts = this.view.find(kind, identifier);
    const tags = (facts?.tags ?? []).map((tag) => [tag.Key, tag.Value] as const);
    return {
      arn: this.arn(kind, identifier),
      policyOf: null,
      ...(facts
        ? { context: { ...tagKeys(TAG_KEY_PREFIX[kind], tags), ...tagKeys('aws:ResourceTag/', tags) } }
        : {}),
    };
  }

  /** A resource the request creates, or a group (no tags known). */
  plain(type: string, identifier: string, region?: string): CheckedResource {
    return { arn: this.arn(type, identifier, region), policyOf: null };
  }
}

function requestTags(tags: readonly Tag[] | undefined): ContextInput {
  const list = (tags ?? []).map((tag) => [tag.Key, tag.Value] as const);
  if (list.length === 0) return {};
  return {
    ...tagKeys('aws:RequestTag/', list),
    ...tagKeys('rds:req-tag/', list),
    'aws:TagKeys': list.map(([key]) => key),
  };
}

/** The action on some resources, and rds:AddTagsToResource on the created one when Tags are given. */
function withTags(
  action: string,
  resources: CheckedResource[],
  created: CheckedResource,
  tags: readonly Tag[] | undefined,
  context: ContextInput = {},
): AccessCheck[] {
  const tagging = requestTags(tags);
  return [
    { action, resources, context: { ...context, ...tagging } },
    ...((tags ?? []).length > 0
      ? [{ action: 'rds:AddTagsToResource', resources: [created], context: tagging }]
      : []),
  ];
}

function kmsChecks(input: RdsInput, view: RdsAuthorizationView): AccessCheck[] {
  const keyId = input.string('KmsKeyId');
  const key = keyId === undefined ? undefined : view.kmsKey(view.region, keyId);
  if (!key) return [];
  const via = { service: 'rds', region: view.region, accountId: view.accountId };
  const grant = { 'kms:GrantIsForAWSResource': true };
  return [
    kmsOnBehalf('kms:DescribeKey', key, via),
    kmsOnBehalf('kms:CreateGrant', key, via, undefined, grant),
  ];
}

/** Groups the request names, as resources (an option, parameter or subnet group). */
function groups(input: RdsInput, r: Resources, names: Readonly<Record<string, string>>): CheckedResource[] {
  return Object.entries(names).flatMap(([field, type]) => {
    const name = input.string(field);
    return name === undefined ? [] : [r.plain(type, name)];
  });
}

/** The defaults AWS uses for groups a restore does not name (their ARNs must be allowed too). */
function defaultGroups(input: RdsInput, r: Resources, engine: string, version: string): CheckedResource[] {
  const major = version.split('.')[0] ?? '';
  return [
    r.plain('og', input.string('OptionGroupName') ?? `default:${engine}-${major}`),
    r.plain('pg', input.string('DBParameterGroupName') ?? `default.${engine}${major}`),
    r.plain('subgrp', input.string('DBSubnetGroupName') ?? 'default'),
  ];
}

function finalSnapshot(
  kind: 'db' | 'cluster',
  id: string,
  input: RdsInput,
  view: RdsAuthorizationView,
  r: Resources,
): AccessCheck[] {
  const finalId = input.string(
    kind === 'db' ? 'FinalDBSnapshotIdentifier' : 'FinalDBClusterSnapshotIdentifier',
  );
  if (input.boolean('SkipFinalSnapshot') === true || finalId === undefined) return [];
  const source = view.find(kind, id);
  const snapshot = r.plain(kind === 'db' ? 'snapshot' : 'cluster-snapshot', finalId);
  const action = kind === 'db' ? 'rds:CreateDBSnapshot' : 'rds:CreateDBClusterSnapshot';
  const copied = source?.copyTagsToSnapshot ? source.tags : [];
  return withTags(action, [r.existing(kind, id), snapshot], snapshot, copied);
}

function describe(action: string, kind: Kind, specific: [string, Kind][], input: RdsInput, r: Resources) {
  for (const [field, type] of specific) {
    const identifier = input.string(field);
    if (identifier !== undefined) return [{ action, resources: [r.existing(type, identifier)] }];
  }
  return [{ action, resources: [r.plain(kind, '*')] }];
}

function resourceByArn(name: string, r: Resources): CheckedResource {
  const type = ARN.exec(name)?.[3];
  return type === 'db' || type === 'cluster' || type === 'snapshot' || type === 'cluster-snapshot'
    ? r.existing(type, name)
    : { arn: name, policyOf: null };
}

/** The IAM checks of one RDS action. */
export function rdsAccessChecks(action: string, input: RdsInput, view: RdsAuthorizationView): AccessCheck[] {
  const r = new Resources(view);
  const id = (field: string) => input.string(field) ?? '';
  const tags = () => input.tags();
  switch (action) {
    case 'CreateDBInstance': {
      const db = r.plain('db', id('DBInstanceIdentifier'));
      const resources = [
        db,
        ...groups(input, r, {
          OptionGroupName: 'og',
          DBParameterGroupName: 'pg',
          DBSubnetGroupName: 'subgrp',
        }),
        ...(input.string('DBClusterIdentifier') ? [r.existing('cluster', id('DBClusterIdentifier'))] : []),
      ];
      const context: ContextInput = {
        'rds:DatabaseClass': input.string('DBInstanceClass'),
        'rds:DatabaseEngine': input.string('Engine'),
        'rds:DatabaseName': input.string('DBName'),
        'rds:MultiAz': input.boolean('MultiAZ'),
        'rds:StorageEncrypted': input.boolean('StorageEncrypted'),
        'rds:StorageSize': input.integer('AllocatedStorage'),
        'rds:PubliclyAccessible': input.boolean('PubliclyAccessible'),
      };
      return [...withTags('rds:CreateDBInstance', resources, db, tags(), context), ...kmsChecks(input, view)];
    }
    case 'CreateDBCluster': {
      const cluster = r.plain('cluster', id('DBClusterIdentifier'));
      const resources = [
        cluster,
        ...groups(input, r, {
          DBClusterParameterGroupName: 'cluster-pg',
          DBSubnetGroupName: 'subgrp',
          OptionGroupName: 'og',
        }),
      ];
      const context = {
        'rds:DatabaseEngine': input.string('Engine'),
        'rds:DatabaseName': input.string('DatabaseName'),
      };
      return [
        ...withTags('rds:CreateDBCluster', resources, cluster, tags(), context),
        ...kmsChecks(input, view),
      ];
    }
    case 'DescribeDBInstances':
      return describe('rds:DescribeDBInstances', 'db', [['DBInstanceIdentifier', 'db']], input, r);
    case 'DescribeDBClusters':
      return describe('rds:DescribeDBClusters', 'cluster', [['DBClusterIdentifier', 'cluster']], input, r);
    case 'DescribeDBSnapshots':
      return describe(
        'rds:DescribeDBSnapshots',
        'snapshot',
        [
          ['DBSnapshotIdentifier', 'snapshot'],
          ['DBInstanceIdentifier', 'db'],
        ],
        input,
        r,
      );
    case 'DescribeDBClusterSnapshots':
      return describe(
        'rds:DescribeDBClusterSnapshots',
        'cluster-snapshot',
        [
          ['DBClusterSnapshotIdentifier', 'cluster-snapshot'],
          ['DBClusterIdentifier', 'cluster'],
        ],
        input,
        r,
      );
    case 'DescribePendingMaintenanceActions': {
      const resource = input.string('ResourceIdentifier');
      return [
        {
          action: 'rds:DescribePendingMaintenanceActions',
          resources: [resource ? resourceByArn(resource, r) : r.plain('db', '*')],
        },
      ];
    }
    case 'ApplyPendingMaintenanceAction':
      return [
        {
          action: 'rds:ApplyPendingMaintenanceAction',
          resources: [resourceByArn(id('ResourceIdentifier'), r)],
        },
      ];
    case 'ModifyDBInstance': {
      const resources = [
        r.existing('db', id('DBInstanceIdentifier')),
        ...groups(input, r, { DBParameterGroupName: 'pg', OptionGroupName: 'og' }),
      ];
      return [
        {
          action: 'rds:ModifyDBInstance',
          resources,
          context: {
            'rds:DatabaseClass': input.string('DBInstanceClass'),
            'rds:StorageSize': input.integer('AllocatedStorage'),
          },
        },
      ];
    }
    case 'ModifyDBCluster': {
      const resources = [
        r.existing('cluster', id('DBClusterIdentifier')),
        ...groups(input, r, { DBClusterParameterGroupName: 'cluster-pg' }),
      ];
      return [{ action: 'rds:ModifyDBCluster', resources }];
    }
    case 'DeleteDBInstance': {
      const instance = id('DBInstanceIdentifier');
      return [
        { action: 'rds:DeleteDBInstance', resources: [r.existing('db', instance)] },
        ...finalSnapshot('db', instance, input, view, r),
      ];
    }
    case 'DeleteDBCluster': {
      const cluster = id('DBClusterIdentifier');
      const final = finalSnapshot('cluster', cluster, input, view, r);
      const snapshot = input.string('FinalDBClusterSnapshotIdentifier');
      const resources = [
        r.existing('cluster', cluster),
        ...(final.length > 0 && snapshot ? [r.plain('cluster-snapshot', snapshot)] : []),
      ];
      return [{ action: 'rds:DeleteDBCluster', resources }, ...final];
    }
    case 'RestoreDBInstanceFromDBSnapshot': {
      const db = r.plain('db', id('DBInstanceIdentifier'));
      const source = view.find('snapshot', id('DBSnapshotIdentifier'));
      const resources = [
        db,
        r.existing('snapshot', id('DBSnapshotIdentifier')),
        ...defaultGroups(input, r, source?.engine ?? 'postgres', source?.engineVersion ?? ''),
      ];
      const context = {
        'rds:DatabaseClass': input.string('DBInstanceClass'),
        'rds:PubliclyAccessible': input.boolean('PubliclyAccessible'),
      };
      return [
        ...withTags('rds:RestoreDBInstanceFromDBSnapshot', resources, db, tags(), context),
        ...kmsChecks(input, view),
      ];
    }
    case 'RestoreDBClusterFromSnapshot': {
      const cluster = r.plain('cluster', id('DBClusterIdentifier'));
      const snapshotId = id('SnapshotIdentifier');
      const snapshotKind = view.find('snapshot', snapshotId) ? 'snapshot' : 'cluster-snapshot';
      const resources = [
        cluster,
        r.existing(snapshotKind, snapshotId),
        r.plain('cluster-pg', input.string('DBClusterParameterGroupName') ?? 'default.aurora-postgresql'),
        r.plain('subgrp', input.string('DBSubnetGroupName') ?? 'default'),
        ...groups(input, r, { OptionGroupName: 'og' }),
      ];
      return [
        ...withTags('rds:RestoreDBClusterFromSnapshot', resources, cluster, tags()),
        ...kmsChecks(input, view),
      ];
    }
    case 'CreateDBSnapshot': {
      const snapshot = r.plain('snapshot', id('DBSnapshotIdentifier'));
      return withTags(
        'rds:CreateDBSnapshot',
        [r.existing('db', id('DBInstanceIdentifier')), snapshot],
        snapshot,
        tags(),
      );
    }
    case 'CreateDBClusterSnapshot': {
      const snapshot = r.plain('cluster-snapshot', id('DBClusterSnapshotIdentifier'));
      return withTags(
        'rds:CreateDBClusterSnapshot',
        [r.existing('cluster', id('DBClusterIdentifier')), snapshot],
        snapshot,
        tags(),
      );
    }
    case 'CopyDBSnapshot':
    case 'CopyDBClusterSnapshot': {
      const kind = action === 'CopyDBSnapshot' ? 'snapshot' : 'cluster-snapshot';
      const prefix = action === 'CopyDBSnapshot' ? 'DBSnapshotIdentifier' : 'DBClusterSnapshotIdentifier';
      const target = r.plain(kind, id(`Target${prefix}`));
      const source = r.existing(kind, id(`Source${prefix}`));
      return [...withTags(`rds:${action}`, [source, target], target, tags()), ...kmsChecks(input, view)];
    }
    case 'DeleteDBSnapshot':
      return [
        { action: 'rds:DeleteDBSnapshot', resources: [r.existing('snapshot', id('DBSnapshotIdentifier'))] },
      ];
    case 'DeleteDBClusterSnapshot':
      return [
        {
          action: 'rds:DeleteDBClusterSnapshot',
          resources: [r.existing('cluster-snapshot', id('DBClusterSnapshotIdentifier'))],
        },
      ];
    case 'AddTagsToResource':
      return [
        {
          action: 'rds:AddTagsToResource',
          resources: [resourceByArn(id('ResourceName'), r)],
          context: requestTags(tags()),
        },
      ];
    case 'ListTagsForResource':
      return [{ action: 'rds:ListTagsForResource', resources: [resourceByArn(id('ResourceName'), r)] }];
    case 'RemoveTagsFromResource':
      return [
        {
          action: 'rds:RemoveTagsFromResource',
          resources: [resourceByArn(id('ResourceName'), r)],
          context: { 'aws:TagKeys': input.list('TagKeys', 'member') ?? [] },
        },
      ];
    default:
      throw new Error(`No IAM mapping for the RDS action ${action}`);
  }
}
