/**
 * The final snapshot DeleteDBInstance / DeleteDBCluster take unless SkipFinalSnapshot is given:
 * the same rules for instances and clusters, with their own snapshot namespace and error codes.
 */
import type { AwsError } from '../../core/types.ts';
import { invalidParameterCombination, snapshotQuotaExceeded } from './errors.ts';
import type { RdsInput } from './input.ts';
import { newSnapshot, snapshotNow } from './lifecycle.ts';
import type { ClusterRecord, InstanceRecord } from './model.ts';
import type { OperationContext } from './operation.ts';
import * as valid from './validate.ts';

export interface FinalSnapshotKind {
  readonly type: 'snapshot' | 'cluster-snapshot';
  readonly alreadyExists: (id: string) => AwsError;
  /** The error for a source that is not available, given the message. */
  readonly notAvailable: (message: string) => AwsError;
  /** How RDS names the source in that message, e.g. `Instance` or `DBCluster`. */
  readonly label: string;
}

/** Checks SkipFinalSnapshot / FinalDBSnapshotIdentifier and takes the final snapshot if one is asked for. */
export async function takeFinalSnapshot(
  context: OperationContext,
  input: RdsInput,
  record: InstanceRecord | ClusterRecord,
  kind: FinalSnapshotKind,
): Promise<void> {
  const { region, rt, store } = context;
  const skip = input.boolean('SkipFinalSnapshot') ?? false;
  const finalId = input.string('FinalDBSnapshotIdentifier');
  if (skip && finalId !== undefined) {
    throw invalidParameterCombination('Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.');
  }
  if (!skip && finalId === undefined) {
    throw invalidParameterCombination(
      'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.',
    );
  }
  if (finalId === undefined) return;
  const id = valid.snapshotIdentifier(finalId, 'FinalDBSnapshotIdentifier');
  if (store.findSnapshot(region, kind.type, id)) throw kind.alreadyExists(id);
  if (store.manualSnapshotCount(region, kind.type) >= rt.settings.snapshotQuota) {
    throw snapshotQuotaExceeded(rt.settings.snapshotQuota);
  }
  // A source that is not available (say, still creating) can be deleted, but not snapshotted.
  if (record.status !== 'available') {
    throw kind.notAvailable(
      `${kind.label} ${record.id} is currently ${record.status} - a final snapshot cannot be taken.`,
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
