/**
 * DB instance operations: Create, Describe, Modify, Delete, RestoreDBInstanceFromDBSnapshot.
 */
import { randomUUID } from 'node:crypto';
import { applyFilters, paginate } from './describe.ts';
import {
  dbInstanceAlreadyExists,
  dbSnapshotAlreadyExists,
  invalidDBInstanceState,
  invalidDBSnapshotState,
  invalidParameterCombination,
  invalidParameterValue,
  snapshotQuotaExceeded,
} from './errors.ts';
import type { RdsInput } from './input.ts';
import { deleteSoon, modifySoon, newSnapshot, provision, snapshotNow } from './lifecycle.ts';
import {
  type ClusterRecord,
  compareVersions,
  DEFAULT_SECURITY_GROUP,
  DEFAULT_SUBNET_GROUP,
  type InstanceRecord,
  majorVersion,
  type PendingValues,
  rdsArn,
  resourceId,
} from './model.ts';
import type { Operation, OperationContext } from './operation.ts';
import { renderInstance } from './render.ts';
import * as valid from './validate.ts';

const ENGINES = ['postgres', 'aurora-postgresql'];

export const defaultParameterGroup = (engine: string, version: string): string =>
  `default.${engine}${majorVersion(version)}`;
export const defaultOptionGroup = (engine: string, version: string): string =>
  `default:${engine}-${majorVersion(version)}`;

/** The KMS key ARN for StorageEncrypted/KmsKeyId, validated against the sandbox KMS. */
export function storageKey(
  { rt, region }: OperationContext,
  encrypted: boolean,
  keyId: string | undefined,
): string | undefined {
  if (keyId !== undefined && !encrypted) {
    throw invalidParameterCombination('Specifying a KmsKeyId requires StorageEncrypted to be true.');
  }
  if (!encrypted) return undefined;
  // Without a key, AWS uses the account's AWS-managed key for RDS.
  return keyId === undefined
    ? `arn:aws:kms:${region}:000000000000:alias/aws/rds`
    : rt.kmsKeyArn(region, keyId);
}

function requireAvailable(record: InstanceRecord): void {
  if (record.status !== 'available') {
    throw invalidDBInstanceState(`Database instance is not in available state (it is ${record.status}).`);
  }
}

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

const modifyDBInstance: Operation = (context, input) => {
  const { region, rt, store } = context;
  const record = store.requireInstance(region, input.required('DBInstanceIdentifier'));
  requireAvailable(record);
  const member = record.clusterKey !== undefined;
  const applyImmediately = input.boolean('ApplyImmediately') ?? false;
  const change: PendingValues & { parameterGroup?: string } = {};

  const newId = input.string('NewDBInstanceIdentifier');
  if (newId !== undefined) {
    const id = valid.identifier(newId, 'NewDBInstanceIdentifier');
    if (id !== record.id) {
      if (store.nameTaken(region, 'db', id)) throw dbInstanceAlreadyExists();
      change.Identifier = id;
    }
  }
  const instanceClass = input.string('DBInstanceClass');
  if (instanceClass !== undefined && valid.instanceClass(instanceClass) !== record.instanceClass) {
    change.DBInstanceClass = instanceClass;
  }
  const version = input.string('EngineVersion');
  if (version !== undefined && version !== record.engineVersion) {
    if (member) {
      throw invalidParameterCombination(
        'The specified DB instance is a member of a DB cluster. Modify the engine version of the DB cluster instead.',
      );
    }
    checkUpgrade(record.engine, record.engineVersion, valid.engineVersion(version), input);
    change.EngineVersion = version;
  }
  const storage = input.integer('AllocatedStorage');
  if (storage !== undefined && storage !== record.allocatedStorage) {
    if (storage < record.allocatedStorage) {
      throw invalidParameterValue('Invalid storage size: allocated storage cannot be reduced.');
    }
    change.AllocatedStorage = storage;
  }
  const multiAZ = input.boolean('MultiAZ');
  if (multiAZ !== undefined && multiAZ !== record.multiAZ) change.MultiAZ = multiAZ;
  const storageType = input.string('StorageType');
  if (storageType !== undefined && storageType !== record.storageType) change.StorageType = storageType;
  const password = input.string('MasterUserPassword');
  if (password !== undefined) {
    if (member) {
      throw invalidParameterCombination(
        'The specified DB instance is a member of a DB cluster. Modify the master password of the DB cluster instead.',
      );
    }
    valid.masterPassword(password);
  }

  // Settings without a maintenance-window component apply now.
  const parameterGroup = input.string('DBParameterGroupName');
  const retention = input.integer('BackupRetentionPeriod');
  if (retention !== undefined && (retention < 0 || retention > 35)) {
    throw invalidParameterValue('BackupRetentionPeriod must be between 0 and 35.');
  }
  const securityGroups = input.list('VpcSecurityGroupIds', 'VpcSecurityGroupId');
  if (securityGroups !== undefined) record.vpcSecurityGroupIds = securityGroups;
  const optionGroup = input.string('OptionGroupName');
  if (optionGroup !== undefined) record.optionGroup = optionGroup;
  const copyTags = input.boolean('CopyTagsToSnapshot');
  if (copyTags !== undefined) record.copyTagsToSnapshot = copyTags;
  const protection = input.boolean('DeletionProtection');
  if (protection !== undefined) record.deletionProtection = protection;
  const autoMinor = input.boolean('AutoMinorVersionUpgrade');
  if (autoMinor !== undefined) record.autoMinorVersionUpgrade = autoMinor;
  const publiclyAccessible = input.boolean('PubliclyAccessible');
  if (publiclyAccessible !== undefined) record.publiclyAccessible = publiclyAccessible;
  if (retention !== undefined) record.backupRetentionPeriod = retention;

  if (applyImmediately) {
    const applying = { ...record.pending, ...change };
    if (parameterGroup !== undefined && parameterGroup !== record.parameterGroup) {
      applying.parameterGroup = parameterGroup;
      record.parameterApplyStatus = 'applying';
    }
    if (password !== undefined) applying.MasterUserPassword = password;
    record.pending = {};
    if (Object.keys(applying).length > 0) {
      record.applying = applying;
      modifySoon(rt, record, statusFor(applying));
    }
  } else {
    record.pending = { ...record.pending, ...change };
    if (parameterGroup !== undefined && parameterGroup !== record.parameterGroup) {
      // A new parameter group is associated at once and takes effect at the next reboot.
      record.parameterGroup = parameterGroup;
      record.parameterApplyStatus = 'pending-reboot';
    }
    // The master password is never deferred to a maintenance window.
    if (password !== undefined) {
      record.applying = { MasterUserPassword: password };
      modifySoon(rt, record, 'resetting-master-credentials');
    }
  }
  store.save();
  return { DBInstance: renderInstance(record, context.view) };
};

/** The status AWS shows while a modification applies. */
function statusFor(change: PendingValues & { parameterGroup?: string }): string {
  if (change.Identifier !== undefined) return 'renaming';
  if (change.EngineVersion !== undefined) return 'upgrading';
  const keys = Object.keys(change);
  if (keys.length === 1 && keys[0] === 'MasterUserPassword') return 'resetting-master-credentials';
  return 'modifying';
}

/** Engine upgrades only go up, and a major upgrade must be allowed explicitly. */
export function checkUpgrade(engine: string, from: string, to: string, input: RdsInput): void {
  if (compareVersions(to, from) < 0) {
    throw invalidParameterCombination(`Cannot upgrade ${engine} from ${from} to ${to}`);
  }
  if (majorVersion(to) !== majorVersion(from) && input.boolean('AllowMajorVersionUpgrade') !== true) {
    throw invalidParameterCombination(
      'The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.',
    );
  }
}

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
  const skip = input.boolean('SkipFinalSnapshot') ?? false;
  const finalId = input.string('FinalDBSnapshotIdentifier');
  if (record.clusterKey === undefined) {
    if (skip && finalId !== undefined) {
      throw invalidParameterCombination(
        'Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.',
      );
    }
    if (!skip && finalId === undefined) {
      throw invalidParameterCombination(
        'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.',
      );
    }
    if (finalId !== undefined) {
      const id = valid.snapshotIdentifier(finalId, 'FinalDBSnapshotIdentifier');
      if (store.findSnapshot(region, 'snapshot', id)) throw dbSnapshotAlreadyExists(id);
      if (store.manualSnapshotCount(region, 'snapshot') >= rt.settings.snapshotQuota) {
        throw snapshotQuotaExceeded(rt.settings.snapshotQuota);
      }
      // An instance that is not available (say, still creating) can be deleted, but not snapshotted.
      if (record.status !== 'available') {
        throw invalidDBInstanceState(
          `Instance ${record.id} is currently ${record.status} - a final snapshot cannot be taken.`,
        );
      }
      const tags = record.copyTagsToSnapshot ? record.tags : [];
      const snapshot = newSnapshot(record, id, 'manual', [...tags], rt.endpointPort(record));
      // Deleting from here on, so no other request changes it while the final snapshot is taken.
      const before = record.status;
      record.status = 'deleting';
      try {
        await snapshotNow(rt, record, snapshot, { sourceStatus: false });
      } catch (error) {
        record.status = before;
        throw error;
      }
    }
  } else if (finalId !== undefined) {
    throw invalidParameterCombination(
      'FinalDBSnapshotIdentifier can not be specified when deleting a DB instance of a DB cluster.',
    );
  }
  deleteSoon(rt, record);
  return { DBInstance: renderInstance(record, context.view) };
};

const restoreDBInstanceFromDBSnapshot: Operation = async (context, input) => {
  const { region, rt, store } = context;
  await rt.requireServers();
  const id = valid.identifier(input.required('DBInstanceIdentifier'), 'DBInstanceIdentifier');
  const snapshot = store.requireSnapshot(region, 'snapshot', input.required('DBSnapshotIdentifier'));
  if (snapshot.status !== 'available') {
    throw invalidDBSnapshotState(`Snapshot ${snapshot.id} must be in available state to be restored.`);
  }
  if (store.nameTaken(region, 'db', id)) throw dbInstanceAlreadyExists();
  const engine = input.string('Engine') ?? snapshot.engine;
  if (engine !== snapshot.engine) {
    throw invalidParameterCombination(`Cannot restore a ${snapshot.engine} snapshot as ${engine}.`);
  }
  const version = snapshot.engineVersion;
  const instanceClass = input.string('DBInstanceClass') ?? snapshot.instanceClass ?? 'db.t3.micro';
  const record: InstanceRecord = {
    kind: 'db',
    key: randomUUID(),
    region,
    id,
    resourceId: resourceId('db'),
    engine,
    engineVersion: version,
    status: 'creating',
    masterUsername: snapshot.masterUsername,
    dbName: snapshot.dbName,
    createdAt: Date.now(),
    instanceClass: valid.instanceClass(instanceClass),
    allocatedStorage: input.integer('AllocatedStorage') ?? snapshot.allocatedStorage,
    storageType: input.string('StorageType') ?? snapshot.storageType,
    multiAZ: input.boolean('MultiAZ') ?? false,
    // "Most of the source's original configuration, including the default security group and
    // DB parameter group": what is not given takes its default.
    parameterGroup: input.string('DBParameterGroupName') ?? defaultParameterGroup(engine, version),
    parameterApplyStatus: 'in-sync',
    optionGroup:
      input.string('OptionGroupName') ?? snapshot.optionGroup ?? defaultOptionGroup(engine, version),
    subnetGroup: input.string('DBSubnetGroupName') ?? DEFAULT_SUBNET_GROUP,
    vpcSecurityGroupIds: input.list('VpcSecurityGroupIds', 'VpcSecurityGroupId') ?? [DEFAULT_SECURITY_GROUP],
    availabilityZone: input.string('AvailabilityZone') ?? `${region}a`,
    publiclyAccessible: input.boolean('PubliclyAccessible') ?? false,
    autoMinorVersionUpgrade: input.boolean('AutoMinorVersionUpgrade') ?? true,
    storageEncrypted: snapshot.encrypted,
    kmsKeyId: snapshot.kmsKeyId,
    copyTagsToSnapshot: input.boolean('CopyTagsToSnapshot') ?? false,
    deletionProtection: input.boolean('DeletionProtection') ?? false,
    backupRetentionPeriod: input.integer('BackupRetentionPeriod') ?? 1,
    tags: input.tags() ?? [],
    pending: {},
  };
  const port = input.integer('Port');
  if (port !== undefined) store.bindPort(region, 'db', id, port);
  store.instances.set(record.key, record);
  await restoreData(context, record, snapshot.home);
  provision(rt, record);
  return { DBInstance: renderInstance(record, context.view) };
};

/**
 * Copies a snapshot's data into a new home for `record` during the request, so the snapshot can
 * be deleted right after the restore call, as in AWS.
 */
export async function restoreData(
  { rt, store }: OperationContext,
  record: InstanceRecord | ClusterRecord,
  snapshotHome: string | undefined,
): Promise<void> {
  if (!snapshotHome) throw new Error(`The snapshot of ${record.id} has no data`);
  const home = await rt.manager.newHome('servers');
  record.home = home;
  try {
    await rt.manager.restore(snapshotHome, home);
  } catch (error) {
    store.instances.delete(record.key);
    store.clusters.delete(record.key);
    await rt.manager.remove(home);
    throw error;
  }
  record.homeReady = true;
  store.save();
}

export const INSTANCE_OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateDBInstance: createDBInstance,
  DescribeDBInstances: describeDBInstances,
  ModifyDBInstance: modifyDBInstance,
  DeleteDBInstance: deleteDBInstance,
  RestoreDBInstanceFromDBSnapshot: restoreDBInstanceFromDBSnapshot,
};
