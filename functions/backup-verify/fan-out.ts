/**
 * backup-verify's fanned-out steps (docs/backup-scaling.md#verify-and-restore): `plan` once,
 * `range` in each Distributed Map child, `finish` once with the children's summaries. The record
 * written at the end is the same one the whole-in-one-function verification writes.
 */
import type { Context } from 'aws-lambda';
import { budgetFrom } from '#common/backup/budget';
import type { BackupCrypto } from '#common/backup/crypto';
import type { BackupEnvironment } from '#common/backup/environment';
import { integrityFailure } from '#common/backup/problems';
import { formatSubset, parseSubset, rotatingSubset, type Subset } from '#common/backup/subset';
import { newestSealedBackup } from '#common/backup/trusted-backups';
import { writeVerificationRecord } from '#common/backup/verification-records';
import { loadUnchangedManifest, verificationRecord } from '#common/backup/verify';
import {
  combineRanges,
  planVerification,
  strayStoredObjects,
  verifyRange,
} from '#common/backup/verify-range';
import { TOOL_VERSION } from '#common/backup/version';
import { MANAGED_VALUE, TAG } from '#common/contract';
import { s3 } from '#common/runtime/clients';
import { correlate, logger, metrics } from '#common/runtime/observability';
import type { FinishEvent, PlanEvent, RangeEvent } from './input.ts';

const DAY_MS = 86_400_000;

type Crypto = BackupCrypto;

function storeOf(environment: BackupEnvironment, crypto: Crypto) {
  return { s3: s3(), crypto, bucket: environment.bucket };
}

function subsetOf(text: string): Subset {
  const parsed = parseSubset(text);
  if (typeof parsed === 'string') throw new Error(`subset "${text}" was validated: ${parsed}`);
  return parsed;
}

/** Authenticates manifest and chain, fixes the subset (rotated once for all children) and the ranges. */
export async function planStep(environment: BackupEnvironment, crypto: Crypto, event: PlanEvent) {
  const store = storeOf(environment, crypto);
  const now = new Date();
  const chosen = event.backupId === undefined ? await newestSealedBackup(store, event.set, now) : undefined;
  const backupId = event.backupId ?? chosen!.backupId;
  correlate({ backupId, executionId: event.executionId });
  const subset = event.rotate
    ? rotatingSubset(event.subset, Math.floor(now.getTime() / DAY_MS))
    : event.subset;
  const plan = await planVerification(store, event.set, backupId, event.partsPerItem);
  logger.info('Verification planned', {
    parts: plan.loaded.manifest.parts.length,
    items: plan.ranges.length,
  });
  return {
    set: event.set,
    backupId,
    subset: formatSubset(subset),
    manifestSha256: plan.loaded.sha256,
    startedAt: now.toISOString(),
    chainLinks: plan.chainLinks,
    parts: plan.loaded.manifest.parts.length,
    items: plan.ranges,
    ...(chosen
      ? {
          chosen: {
            backupId,
            reason: chosen.reason,
            tamperingCount: chosen.tamperingCount,
            tampering: chosen.tampering.slice(0, 20),
          },
        }
      : {}),
  };
}

/** Verifies one range of parts, or continues; `done` carries the range's summary. */
export async function rangeStep(
  environment: BackupEnvironment,
  crypto: Crypto,
  event: RangeEvent,
  context: Context,
) {
  correlate({ backupId: event.backupId, executionId: event.executionId });
  const budget = budgetFrom({
    remainingMs: context.getRemainingTimeInMillis(),
    safetyMarginMs: environment.safetyMarginMs,
    ...(event.timeBudgetMs === undefined ? {} : { timeBudgetMs: event.timeBudgetMs }),
  });
  const outcome = await verifyRange(
    storeOf(environment, crypto),
    {
      set: event.set,
      backupId: event.backupId,
      subset: subsetOf(event.subset),
      range: { from: event.from, to: event.to },
      manifestSha256: event.manifestSha256,
      concurrency: environment.concurrency,
    },
    event.cursor ?? undefined,
    budget,
  );
  if (!outcome.done) return { done: false as const, cursor: outcome.cursor };
  metrics.addMetric('BackupObjectsVerified', 'Count', outcome.summary.objectsRead);
  return { done: true as const, summary: outcome.summary };
}

/** Adds the ranges up, looks for stray stored objects; writes the record, or throws the problems found. */
export async function finishStep(environment: BackupEnvironment, crypto: Crypto, event: FinishEvent) {
  const store = storeOf(environment, crypto);
  const subject = { set: event.set, backupId: event.backupId };
  correlate({ backupId: event.backupId, executionId: event.executionId });
  const loaded = await loadUnchangedManifest(store, event, 'verification');
  const total = combineRanges(subject, loaded.manifest.parts.length, event.results);
  const strays = await strayStoredObjects(store, loaded);
  const problems = [...total.problems, ...strays].slice(0, 20);
  const problemCount = total.problemCount + strays.length;
  if (problemCount) throw integrityFailure(subject, problems, problemCount);
  const verifiedAt = new Date();
  const summary = {
    ...subject,
    manifestSha256: loaded.sha256,
    entriesChecked: total.entriesChecked,
    objectsRead: total.objectsRead,
    bytesRead: total.bytesRead,
    chainLinks: event.chainLinks,
    startedAt: event.startedAt,
  };
  const record = verificationRecord(summary, event.subset, verifiedAt, TOOL_VERSION);
  const recordKey = await writeVerificationRecord(store, record, {
    tags: {
      [TAG.managed]: MANAGED_VALUE,
      [TAG.kind]: loaded.manifest.kind,
      [TAG.stack]: environment.stack,
      [TAG.execution]: event.executionId,
      [TAG.target]: event.set,
    },
    sseKeyArn: environment.keyArn,
  });
  metrics.addMetric('BackupVerified', 'Count', 1);
  logger.info('Backup verified', { ...record, recordKey, ranges: event.results.length });
  return { done: true as const, recordKey, ...record };
}
