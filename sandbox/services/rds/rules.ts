/**
 * Defaults and checks shared by the instance and cluster operations.
 */
import { invalidDBInstanceState, invalidParameterCombination } from './errors.ts';
import type { RdsInput } from './input.ts';
import { type ClusterRecord, compareVersions, type InstanceRecord, majorVersion } from './model.ts';
import type { OperationContext } from './operation.ts';

/** Modifying an instance needs it available. */
export function requireAvailable(record: InstanceRecord): void {
  if (record.status !== 'available') {
    throw invalidDBInstanceState(`Database instance is not in available state (it is ${record.status}).`);
  }
}

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
