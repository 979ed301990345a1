/**
 * backup-verify: reads a backup back (all objects, or a rotating subset `n/t`), decrypts, and
 * checks the seal, the manifest chain, every checksum and size, the encryption context of every
 * object read, and the stored prefix for missing and extra objects. Any finding is an
 * IntegrityError naming the object and what is wrong; success writes a verification record.
 * Resumable: while `done` is false, call again with the returned `continuation`.
 */
import type { Context } from 'aws-lambda';
import { budgetFrom } from '#common/backup/budget';
import { latestCompleteBackup } from '#common/backup/catalog';
import { backupEnvironment, cryptoFor } from '#common/backup/environment';
import { verificationKey } from '#common/backup/layout';
import { putBytes } from '#common/backup/s3-io';
import { formatSubset, rotatingSubset } from '#common/backup/subset';
import { verificationRecord, verifyStep } from '#common/backup/verify';
import { TOOL_VERSION } from '#common/backup/version';
import { s3 } from '#common/clients';
import { NotFoundError } from '#common/errors';
import { caretakerHandler } from '#common/middleware';
import { correlate, logger, metrics } from '#common/observability';
import { type VerifyEvent, verifyEventSchema } from './input.ts';

const ENVIRONMENT = backupEnvironment();
const CRYPTO = cryptoFor(ENVIRONMENT);
const DAY_MS = 86_400_000;

/** Verifies one backup, or continues a verification. */
export async function verify(event: VerifyEvent, context: Context) {
  const store = { s3: s3(), crypto: CRYPTO, bucket: ENVIRONMENT.bucket };
  const now = new Date();
  const backupId =
    event.continuation?.backupId ?? event.backupId ?? (await latestCompleteBackup(store, event.set));
  if (!backupId)
    throw new NotFoundError(`Backup set ${event.set} has no complete backup`, { set: event.set });
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
    };
  }
  const verifiedAt = new Date();
  const record = verificationRecord(outcome.summary, subsetText, verifiedAt, TOOL_VERSION);
  const recordKey = verificationKey(event.set, backupId, verifiedAt);
  await putBytes(store.s3, store.bucket, recordKey, Buffer.from(`${JSON.stringify(record, null, 2)}\n`), {
    tags: {
      'caretaker:managed': 'true',
      'caretaker:kind': outcome.loaded.manifest.kind,
      'caretaker:stack': ENVIRONMENT.stack,
      'caretaker:execution': event.executionId,
      'caretaker:target': event.set,
    },
    sseKeyArn: ENVIRONMENT.keyArn,
    contentType: 'application/json',
  });
  metrics.addMetric('BackupVerified', 'Count', 1);
  metrics.addMetric('BackupObjectsVerified', 'Count', record.objectsChecked);
  logger.info('Backup verified', { ...record, recordKey });
  return { done: true as const, recordKey, ...record };
}

function subsetFrom(text: string) {
  const parsed = verifyEventSchema.shape.subset.parse(text);
  return parsed;
}

export const handler = caretakerHandler('backup-verify', verifyEventSchema, verify);
