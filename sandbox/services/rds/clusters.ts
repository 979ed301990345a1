/**
 * Aurora PostgreSQL cluster operations: Create, Describe, Modify, Delete,
 * RestoreDBClusterFromSnapshot. A cluster is one PostgreSQL server; its member instances
 * (CreateDBInstance with DBClusterIdentifier) report the cluster's endpoint.
 */
import { randomUUID } from 'node:crypto';
import { modifyDBCluster } from './cluster-modify.ts';
import { applyFilters, paginate } from './describe.ts';
import {
  dbClusterAlreadyExists,
  dbClusterSnapshotAlreadyExists,
  invalidDBClusterSnapshotState,
  invalidDBClusterState,
  invalidParameterCombination,
  invalidParameterValue,
} from './errors.ts';
import { takeFinalSnapshot } from './final-snapshot.ts';
import type { RdsInput } from './input.ts';
import { deleteSoon, provision } from './lifecycle.ts';
import {
  type ClusterRecord,
  DEFAULT_SECURITY_GROUP,
  DEFAULT_SUBNET_GROUP,
  majorVersion,
  rdsArn,
  resourceId,
} from './model.ts';
import type { Operation, OperationContext } from './operation.ts';
import { renderCluster } from './render.ts';
import { checkUpgrade, restoreData, storageKey } from './rules.ts';
import * as valid from './validate.ts';

const ENGINE = 'aurora-postgresql';

const defaultClusterParameterGroup = (version: string): string => `default.${ENGINE}${majorVersion(version)}`;

function requireEngine(input: RdsInput, required: boolean): string {
  const engine = required ? input.required('Engine') : (input.string('Engine') ?? ENGINE);
  if (engine !== ENGINE) {
    throw invalidParameterValue(`Invalid DB engine: ${engine}. The sandbox emulates ${ENGINE} clusters.`);
  }
  return engine;
}

/** Settings given the same way to CreateDBCluster and RestoreDBClusterFromSnapshot. */
function clusterFields(context: OperationContext, input: RdsInput) {
  return {
    subnetGroup: input.string('DBSubnetGroupName') ?? DEFAULT_SUBNET_GROUP,
    vpcSecurityGroupIds: input.list('VpcSecurityGroupIds', 'VpcSecurityGroupId') ?? [DEFAULT_SECURITY_GROUP],
    availabilityZones: input.list('AvailabilityZones', 'AvailabilityZone') ?? [
      `${context.region}a`,
      `${context.region}b`,
      `${context.region}c`,
    ],
    copyTagsToSnapshot: input.boolean('CopyTagsToSnapshot') ?? false,
    deletionProtection: input.boolean('DeletionProtection') ?? false,
    instanceClass: input.string('DBClusterInstanceClass'),
    storageType: input.string('StorageType') ?? 'aurora',
    tags: input.tags() ?? [],
  };
}

const createDBCluster: Operation = async (context, input) => {
  const { region, rt, store } = context;
  await rt.requireServers();
  const id = valid.identifier(input.required('DBClusterIdentifier'), 'DBClusterIdentifier');
  const engine = requireEngine(input, true);
  const version = valid.engineVersion(input.string('EngineVersion') ?? (await rt.manager.version()));
  const masterUsername = valid.masterUsername(input.required('MasterUsername'));
  const masterPassword = valid.masterPassword(input.required('MasterUserPassword'));
  const databaseName = input.string('DatabaseName');
  if (databaseName !== undefined) valid.databaseName(databaseName, 'DatabaseName');
  const retention = input.integer('BackupRetentionPeriod') ?? 1;
  if (retention < 1 || retention > 35)
    throw invalidParameterValue('BackupRetentionPeriod must be between 1 and 35.');
  const fields = clusterFields(context, input);
  const encrypted = input.boolean('StorageEncrypted') ?? false;
  const kmsKeyId = storageKey(context, encrypted, input.string('KmsKeyId'));
  if (store.nameTaken(region, 'cluster', id)) throw dbClusterAlreadyExists();
  const record: ClusterRecord = {
    kind: 'cluster',
    key: randomUUID(),
    region,
    id,
    resourceId: resourceId('cluster'),
    engine,
    engineVersion: version,
    status: 'creating',
    masterUsername,
    masterPassword,
    databaseName,
    createdAt: Date.now(),
    parameterGroup: input.string('DBClusterParameterGroupName') ?? defaultClusterParameterGroup(version),
    backupRetentionPeriod: retention,
    members: [],
    pending: {},
    storageEncrypted: encrypted,
    kmsKeyId,
    ...fields,
  };
  const port = input.integer('Port');
  if (port !== undefined) store.bindPort(region, 'cluster', id, port);
  store.clusters.set(record.key, record);
  store.save();
  provision(rt, record);
  return { DBCluster: renderCluster(record, context.view) };
};

const describeDBClusters: Operation = (context, input) => {
  const { region, store } = context;
  const id = input.string('DBClusterIdentifier');
  const all = id === undefined ? store.clustersIn(region) : [store.requireCluster(region, id)];
  const filtered = applyFilters(all, input.filters(), {
    'db-cluster-id': (record) => [record.id, rdsArn(region, 'cluster', record.id)],
    engine: (record) => [record.engine],
    'db-cluster-resource-id': (record) => [record.resourceId],
  });
  const { page, marker } = paginate(filtered, input, (record) => record.id);
  return {
    Marker: marker,
    DBClusters: { DBCluster: page.map((record) => renderCluster(record, context.view)) },
  };
};

const deleteDBCluster: Operation = async (context, input) => {
  const { region, rt, store } = context;
  const record = store.requireCluster(region, input.required('DBClusterIdentifier'));
  if (record.status === 'deleting')
    throw invalidDBClusterState(`DBCluster ${record.id} is already being deleted.`);
  if (context.view.members(record).some((member) => member.status !== 'deleting')) {
    throw invalidDBClusterState(
      'Cluster cannot be deleted, it still contains DB instances in non-deleting state.',
    );
  }
  if (record.deletionProtection) {
    throw invalidParameterCombination(
      'Cannot delete protected Cluster, please disable deletion protection and try again.',
    );
  }
  await takeFinalSnapshot(context, input, record, {
    type: 'cluster-snapshot',
    alreadyExists: dbClusterSnapshotAlreadyExists,
    notAvailable: invalidDBClusterState,
    label: 'DBCluster',
  });
  deleteSoon(rt, record);
  return { DBCluster: renderCluster(record, context.view) };
};

const restoreDBClusterFromSnapshot: Operation = async (context, input) => {
  const { region, rt, store } = context;
  await rt.requireServers();
  const id = valid.identifier(input.required('DBClusterIdentifier'), 'DBClusterIdentifier');
  const snapshot = store.requireSnapshot(region, 'cluster-snapshot', input.required('SnapshotIdentifier'));
  const engine = requireEngine(input, true);
  if (snapshot.status !== 'available') {
    throw invalidDBClusterSnapshotState(
      `Cluster snapshot ${snapshot.id} must be in available state to be restored.`,
    );
  }
  if (store.nameTaken(region, 'cluster', id)) throw dbClusterAlreadyExists();
  const version = input.string('EngineVersion') ?? snapshot.engineVersion;
  if (version !== snapshot.engineVersion) {
    checkUpgrade(engine, snapshot.engineVersion, valid.engineVersion(version), input);
  }
  const keyId = input.string('KmsKeyId');
  const fields = clusterFields(context, input);
  const record: ClusterRecord = {
    kind: 'cluster',
    key: randomUUID(),
    region,
    id,
    resourceId: resourceId('cluster'),
    engine,
    engineVersion: version,
    status: 'creating',
    masterUsername: snapshot.masterUsername,
    databaseName: snapshot.dbName,
    createdAt: Date.now(),
    parameterGroup: input.string('DBClusterParameterGroupName') ?? defaultClusterParameterGroup(version),
    backupRetentionPeriod: input.integer('BackupRetentionPeriod') ?? 1,
    members: [],
    pending: {},
    ...fields,
    storageType: input.string('StorageType') ?? snapshot.storageType,
    storageEncrypted: snapshot.encrypted || keyId !== undefined,
    kmsKeyId: keyId !== undefined ? rt.kmsKeyArn(region, keyId) : snapshot.kmsKeyId,
  };
  const port = input.integer('Port');
  if (port !== undefined) store.bindPort(region, 'cluster', id, port);
  store.clusters.set(record.key, record);
  await restoreData(context, record, snapshot.home);
  provision(rt, record);
  return { DBCluster: renderCluster(record, context.view) };
};

export const CLUSTER_OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateDBCluster: createDBCluster,
  DescribeDBClusters: describeDBClusters,
  ModifyDBCluster: modifyDBCluster,
  DeleteDBCluster: deleteDBCluster,
  RestoreDBClusterFromSnapshot: restoreDBClusterFromSnapshot,
};

/** For snapshots.ts: a cluster snapshot needs an available cluster. */
export function requireAvailableCluster(record: ClusterRecord): void {
  if (record.status !== 'available') {
    throw invalidDBClusterState(`DBCluster ${record.id} is not in available state (it is ${record.status}).`);
  }
}
