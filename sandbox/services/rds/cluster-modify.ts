/**
 * ModifyDBCluster.
 */
import { dbClusterAlreadyExists, invalidDBClusterState, invalidParameterValue } from './errors.ts';
import { modifySoon } from './lifecycle.ts';
import type { PendingValues } from './model.ts';
import type { Operation } from './operation.ts';
import { renderCluster } from './render.ts';
import { checkUpgrade } from './rules.ts';
import * as valid from './validate.ts';

/**
 * As AWS documents for Aurora, ApplyImmediately only defers the rename, the master password and
 * the engine version; everything else applies at once.
 */
export const modifyDBCluster: Operation = (context, input) => {
  const { region, rt, store } = context;
  const record = store.requireCluster(region, input.required('DBClusterIdentifier'));
  if (record.status !== 'available') {
    throw invalidDBClusterState(`DBCluster ${record.id} is not in available state (it is ${record.status}).`);
  }
  const applyImmediately = input.boolean('ApplyImmediately') ?? false;
  const deferrable: PendingValues = {};
  const now: PendingValues & { parameterGroup?: string } = {};
  const newId = input.string('NewDBClusterIdentifier');
  if (newId !== undefined) {
    const id = valid.identifier(newId, 'NewDBClusterIdentifier');
    if (id !== record.id) {
      if (store.nameTaken(region, 'cluster', id)) throw dbClusterAlreadyExists();
      deferrable.Identifier = id;
    }
  }
  const version = input.string('EngineVersion');
  if (version !== undefined && version !== record.engineVersion) {
    checkUpgrade(record.engine, record.engineVersion, valid.engineVersion(version), input);
    deferrable.EngineVersion = version;
  }
  const password = input.string('MasterUserPassword');
  if (password !== undefined) deferrable.MasterUserPassword = valid.masterPassword(password);
  const parameterGroup = input.string('DBClusterParameterGroupName');
  if (parameterGroup !== undefined && parameterGroup !== record.parameterGroup)
    now.parameterGroup = parameterGroup;
  const retention = input.integer('BackupRetentionPeriod');
  if (retention !== undefined) {
    if (retention < 1 || retention > 35)
      throw invalidParameterValue('BackupRetentionPeriod must be between 1 and 35.');
    record.backupRetentionPeriod = retention;
  }
  const instanceClass = input.string('DBClusterInstanceClass');
  if (instanceClass !== undefined)
    record.instanceClass = valid.instanceClass(instanceClass, 'DBClusterInstanceClass');
  const securityGroups = input.list('VpcSecurityGroupIds', 'VpcSecurityGroupId');
  if (securityGroups !== undefined) record.vpcSecurityGroupIds = securityGroups;
  const copyTags = input.boolean('CopyTagsToSnapshot');
  if (copyTags !== undefined) record.copyTagsToSnapshot = copyTags;
  const protection = input.boolean('DeletionProtection');
  if (protection !== undefined) record.deletionProtection = protection;

  const applying = applyImmediately ? { ...record.pending, ...deferrable, ...now } : { ...now };
  if (applyImmediately) record.pending = {};
  else record.pending = { ...record.pending, ...deferrable };
  if (Object.keys(applying).length > 0) {
    record.applying = applying;
    const status =
      applying.Identifier !== undefined
        ? 'renaming'
        : applying.EngineVersion !== undefined
          ? 'upgrading'
          : Object.keys(applying).length === 1 && applying.MasterUserPassword !== undefined
            ? 'resetting-master-credentials'
            : 'modifying';
    modifySoon(rt, record, status);
  }
  store.save();
  return { DBCluster: renderCluster(record, context.view) };
};
