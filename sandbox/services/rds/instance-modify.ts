/**
 * ModifyDBInstance: changes applied after one delay with ApplyImmediately, or kept in
 * PendingModifiedValues; settings without a maintenance-window component apply at once.
 */
import { dbInstanceAlreadyExists, invalidParameterCombination, invalidParameterValue } from './errors.ts';
import { modifySoon } from './lifecycle.ts';
import type { PendingValues } from './model.ts';
import type { Operation } from './operation.ts';
import { renderInstance } from './render.ts';
import { checkUpgrade, requireAvailable } from './rules.ts';
import * as valid from './validate.ts';

export const modifyDBInstance: Operation = (context, input) => {
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
