/**
 * s3-backup: backs up a backup set's S3 prefix into the backup bucket, encrypted client-side
 * under the stack key, with a sealed manifest per backup; full or incremental; resumable (call
 * again with the same event until `done`) and idempotent (a finished backup returns its result).
 * Every finished backup moves its set's sealed catalog head forward (catalog-head.ts), which lets
 * freshness and cleanup notice when the newest backups are deleted.
 */
import type { Context } from 'aws-lambda';
import { budgetFrom } from '#common/backup/budget';
import { recordInCatalogHead } from '#common/backup/catalog-head';
import { type BackupRequest, writeOptions } from '#common/backup/engine';
import { backupEnvironment, cryptoFor, engineFor } from '#common/backup/environment';
import { newBackupId } from '#common/backup/layout';
import { finalizeBackup, planBackup, processBatches, runBackup } from '#common/backup/run';
import { s3 } from '#common/runtime/clients';
import { caretakerHandler } from '#common/runtime/middleware';
import { correlate } from '#common/runtime/observability';
import { type BackupEvent, backupEventSchema } from './input.ts';

const ENVIRONMENT = backupEnvironment();
const CRYPTO = cryptoFor(ENVIRONMENT);

/** The backup id of an event: given, or derived from the execution so retries agree on it. */
export function backupIdOf(
  event: Pick<BackupEvent, 'set' | 'executionId'> & {
    backupId?: string | undefined;
    startedAt?: string | undefined;
  },
  now = new Date(),
): string {
  if (event.backupId) return event.backupId;
  const startedAt = event.startedAt ? new Date(event.startedAt) : now;
  return newBackupId(startedAt, event.startedAt ? `${event.executionId}\n${event.set.name}` : undefined);
}

/** Runs one step of a backup. */
export async function backup(event: BackupEvent, context: Context) {
  const engine = engineFor(ENVIRONMENT, s3(), CRYPTO);
  const backupId = backupIdOf(event);
  correlate({ backupId, executionId: event.executionId });
  const budget = budgetFrom({
    remainingMs: context.getRemainingTimeInMillis(),
    safetyMarginMs: ENVIRONMENT.safetyMarginMs,
    bytesPerSecond: ENVIRONMENT.bytesPerSecond,
    ...(event.timeBudgetMs === undefined ? {} : { timeBudgetMs: event.timeBudgetMs }),
  });
  const request: BackupRequest = {
    set: event.set.name,
    kind: 'backup',
    sourceBucket: event.set.sourceBucket,
    prefix: event.set.prefix,
    mode: event.forceFull ? 'full' : event.set.mode,
    fullEvery: event.set.fullEvery,
    backupId,
    executionId: event.executionId,
  };
  /** Moves the catalog head once the backup has its manifest (again on a re-run: idempotent). */
  const recorded = async <T extends object>(outcome: T) => {
    const result = 'result' in outcome ? (outcome.result as { backupId?: string } | undefined) : undefined;
    if (result?.backupId) {
      await recordInCatalogHead(
        engine,
        writeOptions(engine, request),
        request.set,
        result.backupId,
        engine.now(),
      );
    }
    return outcome;
  };
  switch (event.step) {
    case 'run':
      return recorded(await runBackup(engine, request, budget));
    case 'plan':
      return recorded(await planBackup(engine, request, budget));
    case 'batches':
      return {
        backupId,
        ...(await processBatches(engine, request.set, backupId, event.batches ?? [], budget)),
      };
    case 'finalize':
      return recorded(await finalizeBackup(engine, request.set, backupId, budget));
  }
}

export const handler = caretakerHandler('s3-backup', backupEventSchema(ENVIRONMENT.bucket), backup);
