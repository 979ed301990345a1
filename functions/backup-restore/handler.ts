/**
 * backup-restore: restores a backup (or the objects under a key prefix) into a target
 * bucket/prefix, verifying every object as it is written. It refuses a backup that fails
 * verification, takes a rollback point of the target first, and if the restore fails midway
 * puts the target back as it was before throwing. Resumable: while `done` is false, call again
 * with the returned `continuation`. For disaster recovery it also chooses the backup to restore
 * (`choose`) and removes what one execution restored (`teardown`); for backups of millions of
 * objects the flow fans the restore out over the manifest's parts instead (fan-out.ts).
 */
import type { Context } from 'aws-lambda';
import { budgetFrom } from '#common/backup/budget';
import { chooseBackup } from '#common/backup/catalog';
import { backupEnvironment, cryptoFor, engineFor } from '#common/backup/environment';
import { restoreStep } from '#common/backup/restore';
import { newestSealedBackup } from '#common/backup/trusted-backups';
import { s3 } from '#common/runtime/clients';
import { caretakerHandler } from '#common/runtime/middleware';
import { correlate } from '#common/runtime/observability';
import {
  finishStep,
  planStep,
  restoreRangeStep,
  rollbackPointStep,
  rollbackRangeStep,
  rolledBackStep,
  verifyRangeStep,
} from './fan-out.ts';
import { restoreIdentity, restoreTags } from './identity.ts';
import {
  type BackupRestoreEvent,
  type ChooseEvent,
  type RestoreEvent,
  restoreEventSchema,
  type TeardownEvent,
} from './input.ts';
import { teardownStep } from './teardown.ts';

const ENVIRONMENT = backupEnvironment();
const CRYPTO = cryptoFor(ENVIRONMENT);

function budgetFor(event: { timeBudgetMs?: number | undefined }, context: Context) {
  return budgetFrom({
    remainingMs: context.getRemainingTimeInMillis(),
    safetyMarginMs: ENVIRONMENT.safetyMarginMs,
    bytesPerSecond: ENVIRONMENT.bytesPerSecond,
    ...(event.timeBudgetMs === undefined ? {} : { timeBudgetMs: event.timeBudgetMs }),
  });
}

/** Restores, or continues a restore. */
export async function restore(event: Omit<RestoreEvent, 'action'>, context: Context) {
  const engine = engineFor(ENVIRONMENT, s3(), CRYPTO);
  const named = event.continuation?.backupId ?? event.backupId ?? undefined;
  // None named: the newest backup whose manifest seal verifies (forged folders are passed over).
  const chosen = named === undefined ? await newestSealedBackup(engine, event.set, new Date()) : undefined;
  const backupId = named ?? chosen!.backupId;
  const choice = chosen
    ? { chosen: { backupId, reason: chosen.reason, tamperingCount: chosen.tamperingCount } }
    : {};
  const derived = restoreIdentity(event.executionId, event.set, event.startedAt);
  const identity = {
    rollbackPointId: event.continuation?.rollbackPointId ?? derived.rollbackPointId,
    restoreId: event.continuation?.state.restoreId ?? derived.restoreId,
  };
  const { rollbackPointId, restoreId } = identity;
  correlate({ backupId, executionId: event.executionId });
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
      objectTags: restoreTags(identity, event.executionId),
    },
    event.continuation?.state,
    budgetFor(event, context),
    ENVIRONMENT.concurrency,
  );
  if (outcome.done) return { done: true as const, ...outcome.result, ...choice };
  return {
    done: false as const,
    backupId,
    phase: outcome.state.phase,
    continuation: { backupId, rollbackPointId, state: outcome.state },
    ...choice,
  };
}

/** Chooses the backup a restore of the set starts from. */
export async function choose(event: ChooseEvent) {
  return chooseBackup(
    engineFor(ENVIRONMENT, s3(), CRYPTO),
    event.set,
    new Date(),
    event.backupId ?? undefined,
  );
}

/** Tears down (or continues tearing down) what this execution's restore of the set wrote. */
export async function teardown(event: TeardownEvent, context: Context) {
  const engine = engineFor(ENVIRONMENT, s3(), CRYPTO);
  correlate({ executionId: event.executionId });
  const outcome = await teardownStep(
    engine,
    {
      set: event.set,
      targetBucket: event.targetBucket,
      targetPrefix: event.targetPrefix,
      identity: restoreIdentity(event.executionId, event.set, event.startedAt),
    },
    event.continuation,
    budgetFor(event, context),
    ENVIRONMENT.concurrency,
  );
  if (outcome.done) return { done: true as const, ...outcome.result };
  return { done: false as const, set: event.set, continuation: outcome.cursor };
}

/** Runs one action. */
export async function backupRestore(event: BackupRestoreEvent, context: Context): Promise<unknown> {
  const engine = () => engineFor(ENVIRONMENT, s3(), CRYPTO);
  const { concurrency } = ENVIRONMENT;
  switch (event.action) {
    case 'restore':
      return restore(event, context);
    case 'choose':
      return choose(event);
    case 'teardown':
      return teardown(event, context);
    case 'plan':
      return planStep(engine(), event);
    case 'verify-range':
      return verifyRangeStep(engine(), event, budgetFor(event, context), concurrency);
    case 'rollback-point':
      return rollbackPointStep(engine(), event, budgetFor(event, context));
    case 'restore-range':
      return restoreRangeStep(engine(), event, budgetFor(event, context), concurrency);
    case 'finish':
      return finishStep(engine(), event);
    case 'rollback-range':
      return rollbackRangeStep(engine(), event, budgetFor(event, context), concurrency);
    case 'rolled-back':
      return rolledBackStep(event);
  }
}

export const handler = caretakerHandler(
  'backup-restore',
  restoreEventSchema(ENVIRONMENT.bucket),
  backupRestore,
);
