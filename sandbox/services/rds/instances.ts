/**
 * DB instance operations: Create, Describe, Delete (Modify and Restore have their own modules).
 */
import { randomUUID } from 'node:crypto';
import { applyFilters, paginate } from './describe.ts';
import {
  dbInstanceAlreadyExists,
  dbSnapshotAlreadyExists,
  invalidDBInstanceState,
  invalidParameterCombination,
  invalidParameterValue,
} from './errors.ts';
import { takeFinalSnapshot } from './final-snapshot.ts';
import type { RdsInput } from './input.ts';
import { modifyDBInstance } from './instance-modify.ts';
import { restoreDBInstanceFromDBSnapshot } from './instance-restore.ts';
import { deleteSoon, provision } from './lifecycle.ts';
import {
  DEFAULT_SECURITY_GROUP,
  DEFAULT_SUBNET_GROUP,
  type InstanceRecord,
  rdsArn,
  resourceId,
} from './model.ts';
import type { Operation, OperationContext } from './operation.ts';
import { renderInstance } from './render.ts';
import { defaultOptionGroup, defaultParameterGroup, storageKey } from './rules.ts';
import * as valid from './validate.ts';

const ENGINES = ['postgres', 'aurora-postgresql'];

function instanceFields(context: OperationContext, input: RdsInput, engine: string, version: string) {
  const encrypted = input.boolean('StorageEncrypted') ?? false;
  return {
    instanceClass: valid.instanceClass(input.required('DBInstanceClass')),
    parameterGroup: input.string('DBParameterGroupName') ?? defaultParameterGroup(engine, version),
    parameterApplyStatus: 'in-sync',
    optionGroup: input.string('OptionGroupName') ?? defaultOptionGroup(engine, version),
    subnetGroup: input.string('DBSubnetGroupName') ?? DEFAULT_SUBNET_GROUP,
    vpcSecurityGroupIds: input.list('VpcSecurityGroupIds', 'VpcSecurityGroupId') ?? [DEFAULT_SECURITY_GROUP],
    availabilityZone: input.string('AvailabilityZone') ?? `${context.region}a`,
    multiAZ: input.boolean('MultiAZ') ?? false,
    publiclyAccessible: input.boolean('PubliclyAccessible') ?? false,
    autoMinorVersionUpgrade: input.boolean('AutoMinorVersionUpgrade') ?? true,
    storageEncrypted: encrypted,
    kmsKeyId: storageKey(context, encrypted, input.string('KmsKeyId')),
    copyTagsToSnapshot: input.boolean('CopyTagsToSnapshot') ?? false,
    deletionProtection: input.boolean('DeletionProtection') ?? false,
    tags: input.tags() ?? [],
  };
}

const createDBInstance: Operation = async (context, input) => {
  const { region, rt, store } = context;
  const id = valid.identifier(input.required('DBInstanceIdentifier'), 'DBInstanceIdentifier');
  const engine = input.required('Engine');
  if (!ENGINES.includes(engine)) throw invalidParameterValue(`Invalid DB engine: ${engine}`);
  const clusterId = input.string('DBClusterIdentifier');
  const cluster = clusterId === undefined ? undefined : store.requireCluster(region, clusterId);
  if (engine === 'aurora-postgresql' && !cluster) {
    throw invalidParameterCombination('DBClusterIdentifier is required for engine aurora-postgresql.');
  }
  if (cluster && engine !== cluster.engine) {
    throw invalidParameterCombination(
      `The engine ${engine} does not match the DB cluster's engine ${cluster.engine}.`,
    );
  }
  if (cluster && (input.string('MasterUsername') || input.string('MasterUserPassword'))) {
    throw invalidParameterCombination(
      'The requested DB Instance will be a member of a DB Cluster. Set master user name for the DB Cluster.',
    );
  }
  if (!cluster) await rt.requireServers();
  const version = cluster
    ? cluster.engineVersion
    : valid.engineVersion(input.string('EngineVersion') ?? (await rt.manager.version()));
  const masterUsername = cluster
    ? cluster.masterUsername
    : valid.masterUsername(input.required('MasterUsername'));
  const masterPassword = cluster ? undefined : valid.masterPassword(input.required('MasterUserPassword'));
  const dbName = cluster ? undefined : input.string('DBName');
  if (dbName !== undefined) valid.databaseName(dbName, 'DBName');
  const retention = input.integer('BackupRetentionPeriod') ?? 1;
  if (retention < 0 || retention > 35)
    throw invalidParameterValue('BackupRetentionPeriod must be between 0 and 35.');
  const fields = instanceFields(context, input, engine, version);
  if (store.nameTaken(region, 'db', id)) throw dbInstanceAlreadyExists();
  const record: InstanceRecord = {
    kind: 'db',
    key: randomUUID(),
    region,
    id,
    resourceId: resourceId('db'),
    engine,
    engineVersion: version,
    status: 'creating',
    masterUsername,
    masterPassword,
    dbName,
    createdAt: Date.now(),
    allocatedStorage: cluster ? 1 : (input.integer('AllocatedStorage') ?? 20),
    storageType: cluster ? 'aurora' : (input.string('StorageType') ?? 'gp3'),
    backupRetentionPeriod: cluster ? cluster.backupRetentionPeriod : retention,
    pending: {},
    ...fields,
    ...(cluster
      ? {
          clusterKey: cluster.key,
          storageEncrypted: cluster.storageEncrypted,
          kmsKeyId: cluster.kmsKeyId,
          promotionTier: input.integer('PromotionTier') ?? 1,
        }
      : {}),
  };
  const port = input.integer('Port');
  if (port !== undefined && !cluster) store.bindPort(region, 'db', id, port);
  store.instances.set(record.key, record);
  if (cluster) cluster.members.push(record.key);
  store.save();
  provision(rt, record);
  return { DBInstance: renderInstance(record, context.view) };
};

const describeDBInstances: Operation = (context, input) => {
  const { region, store } = context;
  const id = input.string('DBInstanceIdentifier');
  const all = id === undefined ? store.instancesIn(region) : [store.requireInstance(region, id)];
  const filtered = applyFilters(all, input.filters(), {
    'db-instance-id': (record) => [record.id, rdsArn(region, 'db', record.id)],
    'db-cluster-id': (record) => {
      const cluster = context.view.clusterOf(record);
      return cluster ? [cluster.id, rdsArn(region, 'cluster', cluster.id)] : [];
    },
    engine: (record) => [record.engine],
    'dbi-resource-id': (record) => [record.resourceId],
  });
  const { page, marker } = paginate(filtered, input, (record) => record.id);
  return {
    Marker: marker,
    DBInstances: { DBInstance: page.map((record) => renderInstance(record, context.view)) },
  };
};

const deleteDBInstance: Operation = async (context, input) => {
  const { region, rt, store } = context;
  const record = store.requireInstance(region, input.required('DBInstanceIdentifier'));
  if (record.status === 'deleting')
    throw invalidDBInstanceState(`Instance ${record.id} is already being deleted.`);
  if (record.deletionProtection) {
    throw invalidParameterCombination(
      'Cannot delete protected DB Instance, please disable deletion protection and try again.',
    );
  }
  if (record.clusterKey === undefined) {
    await takeFinalSnapshot(context, input, record, {
      type: 'snapshot',
      alreadyExists: dbSnapshotAlreadyExists,
      notAvailable: invalidDBInstanceState,
      label: 'Instance',
    });
  } else if (input.string('FinalDBSnapshotIdentifier') !== undefined) {
    throw invalidParameterCombination(
      'FinalDBSnapshotIdentifier can not be specified when deleting a DB instance of a DB cluster.',
    );
  }
  deleteSoon(rt, record);
  return { DBInstance: renderInstance(record, context.view) };
};

export const INSTANCE_OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateDBInstance: createDBInstance,
  DescribeDBInstances: describeDBInstances,
  ModifyDBInstance: modifyDBInstance,
  DeleteDBInstance: deleteDBInstance,
  RestoreDBInstanceFromDBSnapshot: restoreDBInstanceFromDBSnapshot,
};
