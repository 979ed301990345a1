/**
 * backup-verify: reads a backup back (all objects, or a rotating subset `n/t`), decrypts, and
 * checks the seal, the manifest chain, every checksum and size, the encryption context of every
 * object read, and the stored prefix for missing and extra objects. Any finding is an
 * IntegrityError naming the object and what is wrong; success writes a verification record,
 * sealed with KMS (only this function's role may make such seals), which is what makes the backup
 * a verified recovery point. Without a backupId it verifies the newest backup whose manifest seal
 * verifies, and says which and why (`chosen`). Resumable: while `done` is false, call again with
 * the returned `continuation`. For backups of millions of objects the flows fan the work out over
 * the manifest's parts instead (`step`: plan, range, finish; fan-out.ts).
 */
import type { Context } from 'aws-lambda';
import { budgetFrom } from '#common/backup/budget';
import { backupEnvironment, cryptoFor } from '#common/backup/environment';
import { formatSubset, rotatingSubset } from '#common/backup/subset';
import { newestSealedBackup } from '#common/backup/trusted-backups';
import { writeVerificationRecord } from '#common/backup/verification-records';
import { verificationRecord, verifyStep } from '#common/backup/verify';
import { TOOL_VERSION } from '#common/backup/version';
import { MANAGED_VALUE, TAG } from '#common/contract';
import { s3 } from '#common/runtime/clients';
import { caretakerHandler } from '#common/runtime/middleware';
import { correlate, logger, metrics } from '#common/runtime/observability';
import { finishStep, planStep, rangeStep } from './fan-out.ts';
import {
  type BackupVerifyEvent,
  backupVerifyEventSchema,
  type VerifyEvent,
  verifyEventSchema,
} from './input.ts';

const ENVIRONMENT = backupEnvironment();
const CRYPTO = cryptoFor(ENVIRONMENT);
const DAY_MS = 86_400_000;

/** Verifies one backup, or continues a verification. */
export async function verify(event: VerifyEvent, context: Context) {
  const store = { s3: s3(), crypto: CRYPTO, bucket: ENVIRONMENT.bucket };
  const now = new Date();
  const named = event.continuation?.backupId ?? event.backupId;
  const chosen = named === undefined ? await newestSealedBackup(store, event.set, now) : undefined;
  const backupId = named ?? chosen!.backupId;
  correlate({ backupId, executionId: event.executionId });
  const subset = event.rotate
    ? rotatingSubset(event.subset, Math.floor(now.getTime() / DAY_MS))
    : event.subset;
  const subsetText = event.continuation?.subset ?? formatSubset(subset);
  const budget = budgetFrom({
    remainingMs: context.getRemainingTimeInMillis(),
    safetyMarginMs: ENVIRONMENT.safetyMarginMs,
    ...(event.timeBudgetMs === undefined ? {} : { timeBudgetMs: event.timeBudgetMs }),
  });
  const outcome = await verifyStep(
    store,
    {
      set: event.set,
      backupId,
      subset: event.continuation ? subsetFrom(event.continuation.subset) : subset,
      concurrency: ENVIRONMENT.concurrency,
    },
    event.continuation?.cursor,
    budget,
  );
  if (!outcome.done) {
    return {
      done: false as const,
      backupId,
      continuation: { backupId, subset: subsetText, cursor: outcome.cursor },
      ...(chosen ? { chosen: chosenOf(chosen) } : {}),
    };
  }
  const verifiedAt = new Date();
  const record = verificationRecord(outcome.summary, subsetText, verifiedAt, TOOL_VERSION);
  const recordKey = await writeVerificationRecord(store, record, {
    tags: {
      [TAG.managed]: MANAGED_VALUE,
      [TAG.kind]: outcome.loaded.manifest.kind,
      [TAG.stack]: ENVIRONMENT.stack,
      [TAG.execution]: event.executionId,
      [TAG.target]: event.set,
    },
    sseKeyArn: ENVIRONMENT.keyArn,
  });
  metrics.addMetric('BackupVerified', 'Count', 1);
  metrics.addMetric('BackupObjectsVerified', 'Count', record.objectsChecked);
  logger.info('Backup verified', { ...record, recordKey });
  return { done: true as const, recordKey, ...record, ...(chosen ? { chosen: chosenOf(chosen) } : {}) };
}

/** What the result says about a backup chosen because none was named. */
function chosenOf(chosen: Awaited<ReturnType<typeof newestSealedBackup>>) {
  return {
    backupId: chosen.backupId,
    reason: chosen.reason,
    tamperingCount: chosen.tamperingCount,
    tampering: chosen.tampering.slice(0, 20),
  };
}

function subsetFrom(text: string) {
  const parsed = verifyEventSchema.shape.subset.parse(text);
  return parsed;
}

/** Runs one step: the whole verification (no `step`), or a step of the fanned-out one. */
export async function backupVerify(event: BackupVerifyEvent, context: Context): Promise<unknown> {
  switch (event.step) {
    case 'whole': {
      const { step: _whole, ...whole } = event;
      return verify(whole, context);
    }
    case 'plan':
      return planStep(ENVIRONMENT, CRYPTO, event);
    case 'range':
      return rangeStep(ENVIRONMENT, CRYPTO, event, context);
    case 'finish':
      return finishStep(ENVIRONMENT, CRYPTO, event);
  }
}

export const handler = caretakerHandler('backup-verify', backupVerifyEventSchema, backupVerify);
