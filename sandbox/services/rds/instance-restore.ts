/**
 * RestoreDBInstanceFromDBSnapshot: a new server on a copy of the snapshot's data, with the
 * settings given and AWS's defaults for the rest.
 */
import { randomUUID } from 'node:crypto';
import { dbInstanceAlreadyExists, invalidDBSnapshotState, invalidParameterCombination } from './errors.ts';
import { provision } from './lifecycle.ts';
import { DEFAULT_SECURITY_GROUP, DEFAULT_SUBNET_GROUP, type InstanceRecord, resourceId } from './model.ts';
import type { Operation } from './operation.ts';
import { renderInstance } from './render.ts';
import { defaultOptionGroup, defaultParameterGroup, restoreData } from './rules.ts';
import * as valid from './validate.ts';

export const restoreDBInstanceFromDBSnapshot: Operation = async (context, input) => {
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
