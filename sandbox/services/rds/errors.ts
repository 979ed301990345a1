/**
 * RDS's error codes as the SDK maps them (wire code → exception class): the modelled faults
 * (DBInstanceNotFound → DBInstanceNotFoundFault, …) and the common Query errors.
 */
import { AwsError } from '../../core/types.ts';

export const invalidParameterValue = (message: string): AwsError =>
  new AwsError('InvalidParameterValue', message);

export const invalidParameterCombination = (message: string): AwsError =>
  new AwsError('InvalidParameterCombination', message);

export const missingParameter = (name: string): AwsError =>
  new AwsError('MissingParameter', `The request must contain the parameter ${name}`);

export const dbInstanceNotFound = (id: string): AwsError =>
  new AwsError('DBInstanceNotFound', `DBInstance ${id} not found.`, 404);

export const dbInstanceAlreadyExists = (): AwsError =>
  new AwsError('DBInstanceAlreadyExists', 'DB instance already exists');

export const invalidDBInstanceState = (message: string): AwsError =>
  new AwsError('InvalidDBInstanceState', message);

export const dbClusterNotFound = (id: string): AwsError =>
  new AwsError('DBClusterNotFoundFault', `DBCluster ${id} not found.`, 404);

export const dbClusterAlreadyExists = (): AwsError =>
  new AwsError('DBClusterAlreadyExistsFault', 'DB Cluster already exists');

export const invalidDBClusterState = (message: string): AwsError =>
  new AwsError('InvalidDBClusterStateFault', message);

export const dbSnapshotNotFound = (id: string): AwsError =>
  new AwsError('DBSnapshotNotFound', `DBSnapshot ${id} not found.`, 404);

export const dbSnapshotAlreadyExists = (id: string): AwsError =>
  new AwsError(
    'DBSnapshotAlreadyExists',
    `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`,
  );

export const invalidDBSnapshotState = (message: string): AwsError =>
  new AwsError('InvalidDBSnapshotState', message);

export const dbClusterSnapshotNotFound = (id: string): AwsError =>
  new AwsError('DBClusterSnapshotNotFoundFault', `DBClusterSnapshot ${id} not found.`, 404);

export const dbClusterSnapshotAlreadyExists = (id: string): AwsError =>
  new AwsError(
    'DBClusterSnapshotAlreadyExistsFault',
    `Cannot create the cluster snapshot because one with the identifier ${id} already exists.`,
  );

export const invalidDBClusterSnapshotState = (message: string): AwsError =>
  new AwsError('InvalidDBClusterSnapshotStateFault', message);

export const snapshotQuotaExceeded = (quota: number): AwsError =>
  new AwsError('SnapshotQuotaExceeded', `Cannot create more than ${quota} manual snapshots in this region.`);

export const kmsKeyNotAccessible = (keyId: string): AwsError =>
  new AwsError(
    'KMSKeyNotAccessibleFault',
    `The target KMS key [${keyId}] does not exist, is not enabled or you do not have permissions to access it.`,
  );

export const resourceNotFound = (message: string): AwsError =>
  new AwsError('ResourceNotFoundFault', message, 404);
