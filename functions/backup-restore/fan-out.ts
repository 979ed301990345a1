/**
 * backup-restore's fanned-out actions (docs/backup-scaling.md#verify-and-restore), run by the
 * DisasterRecovery flow: `plan` once; `verify-range` in each child of one Distributed Map;
 * `rollback-point` once, refusing the backup if any range found a problem; `restore-range` in
 * each child of a second Map; `finish` once. After a failure, `rollback-range` in each child of a
 * Map over ALL ranges, then `rolled-back`, which fails with what failed and what was undone.
 *
 * Every action derives the restore id and the rollback point id from the execution, as `restore`
 * and `teardown` do, so the teardown of a drill finds what the children wrote.
 */
import type { Budget } from '#common/backup/budget';
import type { BackupEngine } from '#common/backup/engine';
import { ROLLBACK_POINT_SET } from '#common/backup/layout';
import { integrityFailure } from '#common/backup/problems';
import {
  combineRestoreRanges,
  combineRollbackRanges,
  type RangeRestoreRequest,
  restoreRange,
  rollbackRange,
} from '#common/backup/restore-range';
import { runBackup } from '#common/backup/run';
import { newestSealedBackup } from '#common/backup/trusted-backups';
import { loadUnchangedManifest } from '#common/backup/verify';
import {
  combineRanges,
  planVerification,
  strayStoredObjects,
  verifyRange,
} from '#common/backup/verify-range';
import {
  CaretakerError,
  type CaretakerErrorName,
  ERROR_KINDS,
  PreconditionFailedError,
} from '#common/runtime/errors';
import { correlate, logger, metrics } from '#common/runtime/observability';
import { restoreIdentity, restoreTags } from './identity.ts';
import type {
  FinishEvent,
  PlanEvent,
  RestoreRangeEvent,
  RollbackPointEvent,
  RollbackRangeEvent,
  RolledBackEvent,
  VerifyRangeEvent,
} from './input.ts';

const keyPrefixOf = (event: { prefix?: string | undefined }) =>
  event.prefix === undefined ? {} : { keyPrefix: event.prefix };

/** Authenticates manifest and chain, fixes the backup and the target, and splits the parts into ranges. */
export async function planStep(engine: BackupEngine, event: PlanEvent) {
  const now = new Date();
  const named = event.backupId ?? undefined;
  // None named: the newest backup whose manifest seal verifies (forged folders are passed over).
  const chosen = named === undefined ? await newestSealedBackup(engine, event.set, now) : undefined;
  const backupId = named ?? chosen!.backupId;
  correlate({ backupId, executionId: event.executionId });
  const plan = await planVerification(engine, event.set, backupId, event.partsPerItem);
  const identity = restoreIdentity(event.executionId, event.set, event.startedAt);
  logger.info('Restore planned', {
    parts: plan.loaded.manifest.parts.length,
    items: plan.ranges.length,
    ...identity,
  });
  return {
    set: event.set,
    backupId,
    ...(event.prefix === undefined ? {} : { prefix: event.prefix }),
    targetBucket: event.targetBucket,
    targetPrefix: event.targetPrefix,
    restoreId: identity.restoreId,
    rollbackPointId: identity.rollbackPointId,
    manifestSha256: plan.loaded.sha256,
    chainLinks: plan.chainLinks,
    parts: plan.loaded.manifest.parts.length,
    plannedAt: now.toISOString(),
    items: plan.ranges,
    ...(chosen ? { chosen: { backupId, reason: chosen.reason, tamperingCount: chosen.tamperingCount } } : {}),
  };
}

/** Reads back and checks one range before anything is written; findings go in its summary. */
export async function verifyRangeStep(
  engine: BackupEngine,
  event: VerifyRangeEvent,
  budget: Budget,
  concurrency: number,
) {
  correlate({ backupId: event.backupId, executionId: event.executionId });
  const outcome = await verifyRange(
    engine,
    {
      set: event.set,
      backupId: event.backupId,
      subset: { kind: 'all' },
      range: { from: event.from, to: event.to },
      manifestSha256: event.manifestSha256,
      ...keyPrefixOf(event),
      concurrency,
    },
    event.cursor ?? undefined,
    budget,
  );
  if (!outcome.done) return { done: false as const, cursor: outcome.cursor };
  return { done: true as const, summary: outcome.summary };
}

/**
 * Refuses the backup when the verification found anything (nothing is written then); otherwise
 * takes the rollback point of the target, call after call until `done`.
 */
export async function rollbackPointStep(engine: BackupEngine, event: RollbackPointEvent, budget: Budget) {
  const subject = { set: event.set, backupId: event.backupId };
  correlate({ backupId: event.backupId, executionId: event.executionId });
  const loaded = await loadUnchangedManifest(engine, event, 'the restore');
  const total = combineRanges(subject, loaded.manifest.parts.length, event.verified);
  // A restore of part of the backup checks only the objects it restores (as `restore` does).
  const strays = event.prefix === undefined ? await strayStoredObjects(engine, loaded) : [];
  const problemCount = total.problemCount + strays.length;
  if (problemCount)
    throw integrityFailure(subject, [...total.problems, ...strays].slice(0, 20), problemCount);

  const { rollbackPointId } = restoreIdentity(event.executionId, event.set, event.startedAt);
  const point = await runBackup(
    engine,
    {
      set: ROLLBACK_POINT_SET,
      kind: 'rollback-point',
      sourceBucket: event.targetBucket,
      prefix: event.targetPrefix,
      mode: 'full',
      fullEvery: 1,
      backupId: rollbackPointId,
      executionId: event.executionId,
    },
    budget,
  );
  if (!point.done) return { done: false as const, rollbackPointId };
  logger.info('Rollback point taken', { rollbackPointId, objects: point.result.totals.objects });
  return {
    done: true as const,
    rollbackPointId,
    objects: point.result.totals.objects,
    verified: {
      entriesChecked: total.entriesChecked,
      objectsRead: total.objectsRead,
      bytesRead: total.bytesRead,
    },
  };
}

function rangeRequest(
  event: RestoreRangeEvent | RollbackRangeEvent,
  concurrency: number,
): RangeRestoreRequest {
  const identity = restoreIdentity(event.executionId, event.set, event.startedAt);
  return {
    set: event.set,
    backupId: event.backupId,
    manifestSha256: event.manifestSha256,
    range: { from: event.from, to: event.to },
    ...keyPrefixOf(event),
    targetBucket: event.targetBucket,
    targetPrefix: event.targetPrefix,
    restoreId: identity.restoreId,
    rollbackPointId: identity.rollbackPointId,
    objectTags: restoreTags(identity, event.executionId),
    concurrency,
  };
}

/** Restores one range, or continues; `done` carries the range's counts. */
export async function restoreRangeStep(
  engine: BackupEngine,
  event: RestoreRangeEvent,
  budget: Budget,
  concurrency: number,
) {
  correlate({ backupId: event.backupId, executionId: event.executionId });
  const outcome = await restoreRange(
    engine,
    rangeRequest(event, concurrency),
    event.cursor ?? undefined,
    budget,
  );
  if (!outcome.done) return { done: false as const, cursor: outcome.cursor };
  metrics.addMetric('RestoreObjects', 'Count', outcome.summary.objects);
  metrics.addMetric('RestoreBytes', 'Bytes', outcome.summary.bytes);
  return { done: true as const, summary: outcome.summary };
}

/** Adds the ranges up (every part exactly once): the same result a whole-in-one restore returns. */
export async function finishStep(engine: BackupEngine, event: FinishEvent) {
  const subject = { set: event.set, backupId: event.backupId };
  correlate({ backupId: event.backupId, executionId: event.executionId });
  const loaded = await loadUnchangedManifest(engine, event, 'the restore');
  const total = combineRestoreRanges(subject, loaded.manifest.parts.length, event.results);
  const identity = restoreIdentity(event.executionId, event.set, event.startedAt);
  const completedAt = new Date();
  const result = {
    restoreId: identity.restoreId,
    set: event.set,
    backupId: event.backupId,
    ...keyPrefixOf(event),
    target: { bucket: event.targetBucket, prefix: event.targetPrefix },
    rollbackPointId: identity.rollbackPointId,
    verified: 'objects' as const,
    objects: total.objects,
    bytes: total.bytes,
    startedAt: event.plannedAt,
    completedAt: completedAt.toISOString(),
    durationMs: Math.max(0, completedAt.getTime() - Date.parse(event.plannedAt)),
  };
  logger.info('Restore complete', { ...result, ranges: event.results.length });
  return { done: true as const, ...result };
}

/** Undoes one range of the failed restore, or continues; `done` carries what it did. */
export async function rollbackRangeStep(
  engine: BackupEngine,
  event: RollbackRangeEvent,
  budget: Budget,
  concurrency: number,
) {
  correlate({ backupId: event.backupId, executionId: event.executionId });
  const outcome = await rollbackRange(
    engine,
    rangeRequest(event, concurrency),
    event.cursor ?? undefined,
    budget,
  );
  if (!outcome.done) return { done: false as const, cursor: outcome.cursor };
  return { done: true as const, summary: outcome.summary };
}

/** A Catch's Cause, readable: a Lambda error's message rather than its JSON. */
function causeText(cause: string | null | undefined): string {
  if (!cause) return 'no cause given';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON (a States.* error's cause is plain text): as it is.
  }
  return cause;
}

/**
 * Always throws: the restore's failure, saying that the target was rolled back and what was left
 * alone — or, when the rollback failed too (or did not cover every part), a
 * PreconditionFailedError naming the rollback point that holds the target's previous state.
 */
export function rolledBackStep(event: RolledBackEvent): never {
  correlate({ backupId: event.backupId, executionId: event.executionId });
  const { rollbackPointId } = restoreIdentity(event.executionId, event.set, event.startedAt);
  const what = `Restore of ${event.set}/${event.backupId} into s3://${event.targetBucket}/${event.targetPrefix}`;
  const mapFailed = event.failure.Error === 'States.ExceedToleratedFailureThreshold';
  const failure = `${event.failure.Error}: ${causeText(event.failure.Cause)}${mapFailed ? " (a range of the restore failed: the Map Run's failed child execution names the object and the error)" : ''}`;
  const total = combineRollbackRanges(event.parts, event.results ?? []);
  if (event.rollbackFailure || total.uncovered.length) {
    const why = event.rollbackFailure
      ? `${event.rollbackFailure.Error}: ${causeText(event.rollbackFailure.Cause)}`
      : `parts not rolled back exactly once: ${total.uncovered.slice(0, 10).join(', ')}`;
    throw new PreconditionFailedError(
      `${what} failed (${failure}) and rolling it back failed too (${why}); rollback point ${rollbackPointId} holds the target's previous state`,
      { restoreFailure: event.failure, rollbackFailure: why, rollbackPointId },
    );
  }
  const leftAlone = total.leftAlone
    ? `; ${total.leftAlone} object(s) changed by someone else during the restore were left as they are (${total.leftAloneKeys.join(', ')}${total.leftAlone > total.leftAloneKeys.length ? ', …' : ''})`
    : '';
  const message = `${what} failed and was rolled back (rollback point ${rollbackPointId}: ${total.putBack} put back, ${total.deleted} deleted)${leftAlone}: ${failure}`;
  const details = {
    rolledBack: true,
    rollbackPointId,
    objectsPutBack: total.putBack,
    objectsDeleted: total.deleted,
    objectsLeftAlone: total.leftAlone,
    leftAloneKeys: total.leftAloneKeys,
  };
  logger.warn('Target rolled back after a failed restore', details);
  metrics.addMetric('RestoreRolledBack', 'Count', 1);
  // The original error's name when it is one of ours (a finish's IntegrityError); a Map that
  // failed keeps the name Step Functions gave it, and the message says which child to look at.
  if (event.failure.Error in ERROR_KINDS)
    throw new CaretakerError(event.failure.Error as CaretakerErrorName, message, details);
  const error = new Error(message);
  error.name = event.failure.Error;
  throw error;
}
