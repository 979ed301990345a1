/**
 * The ids of one execution's restore of a set: the rollback point it takes of the target and the
 * restore id its restored objects are tagged with. Derived from the execution (id and start time)
 * and the set, so a retried call, a continuation and the teardown all arrive at the same ids.
 */
import { newBackupId } from '#common/backup/layout';
import { RESTORE_TAG } from '#common/backup/undo-write';
import { TAG } from '#common/contract';

export { RESTORE_TAG };
/** Tag on every object a restore wrote: the execution that wrote it. */
export const EXECUTION_TAG = TAG.execution;

export interface RestoreIdentity {
  readonly rollbackPointId: string;
  readonly restoreId: string;
}

/** The ids of `executionId`'s restore of `set` (started at `startedAt`); random without a start time. */
export function restoreIdentity(
  executionId: string,
  set: string,
  startedAt: string | undefined,
): RestoreIdentity {
  const time = startedAt ? new Date(startedAt) : new Date();
  const seed = startedAt ? `restore\n${executionId}\n${set}` : undefined;
  const rollbackPointId = newBackupId(time, seed);
  return { rollbackPointId, restoreId: `restore-${rollbackPointId}` };
}

/** The provenance tags of a restored object. */
export function restoreTags(identity: RestoreIdentity, executionId: string): Record<string, string> {
  return { [RESTORE_TAG]: identity.restoreId, [EXECUTION_TAG]: executionId };
}
