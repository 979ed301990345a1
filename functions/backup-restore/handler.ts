/**
 * backup-restore: restores a backup (or the objects under a key prefix) into a target
 * bucket/prefix, verifying every object as it is written. It refuses a backup that fails
 * verification, takes a rollback point of the target first, and if the restore fails midway
 * puts the target back as it was before throwing. Resumable: while `done` is false, call again
 * with the returned `continuation`.
 */
import type { Context } from 'aws-lambda';
import { budgetFrom } from '#common/backup/budget';
import { latestCompleteBackup } from '#common/backup/catalog';
import { backupEnvironment, cryptoFor, engineFor } from '#common/backup/environment';
import { newBackupId } from '#common/backup/layout';
import { restoreStep } from '#common/backup/restore';
import { s3 } from '#common/clients';
import { NotFoundError } from '#common/errors';
import { caretakerHandler } from '#common/middleware';
import { correlate } from '#common/observability';
import { type RestoreEvent, restoreEventSchema } from './input.ts';

const ENVIRONMENT = backupEnvironment();
const CRYPTO = cryptoFor(ENVIRONMENT);

/** Restores, or continues a restore. */
export async function restore(event: RestoreEvent, context: Context) {
  const engine = engineFor(ENVIRONMENT, s3(), CRYPTO);
  const backupId =
    event.continuation?.backupId ?? event.backupId ?? (await latestCompleteBackup(engine, event.set));
  if (!backupId)
    throw new NotFoundError(`Backup set ${event.set} has no complete backup`, { set: event.set });
  const startedAt = event.startedAt ? new Date(event.startedAt) : new Date();
  const seed = event.startedAt ? `restore\n${event.executionId}\n${event.set}` : undefined;
  const rollbackPointId = event.continuation?.rollbackPointId ?? newBackupId(startedAt, seed);
  const restoreId = event.continuation?.state.restoreId ?? `restore-${rollbackPointId}`;
  correlate({ backupId, executionId: event.executionId });
  const budget = budgetFrom({
    remainingMs: context.getRemainingTimeInMillis(),
    safetyMarginMs: ENVIRONMENT.safetyMarginMs,
    bytesPerSecond: ENVIRONMENT.bytesPerSecond,
    ...(event.timeBudgetMs === undefined ? {} : { timeBudgetMs: event.timeBudgetMs }),
  });
  const outcome = await restoreStep(
    engine,
    {
      set: event.set,
      backupId,
      ...(event.prefix === undefined ? {} : { keyPrefix: event.prefix }),
      targetBucket: event.targetBucket,
      targetPrefix: event.targetPrefix,
      verifyFirst: event.verifyFirst,
      executionId: event.executionId,
      restoreId,
      rollbackPointId,
    },
    event.continuation?.state,
    budget,
    ENVIRONMENT.concurrency,
  );
  if (outcome.done) return { done: true as const, ...outcome.result };
  return {
    done: false as const,
    backupId,
    phase: outcome.state.phase,
    continuation: { backupId, rollbackPointId, state: outcome.state },
  };
}

export const handler = caretakerHandler('backup-restore', restoreEventSchema(ENVIRONMENT.bucket), restore);
