/**
 * cleanup: applies each target's retention policy to Caretaker-managed RDS snapshots (and their
 * DR copies) and to backups, with the planner's safety floors, chains held and shared objects
 * kept. `dryRun: true` reports what would go and why and deletes nothing. docs/cleanup.md
 * describes the contract. The Cleanup flow fans a real cleanup of backup data out over a
 * Distributed Map (`step`: plan, folder, finish; fan-out.ts); without `step` the whole cleanup
 * runs in this call, as before.
 */
import type { Context } from 'aws-lambda';
import { budgetFrom } from '#common/backup/budget';
import { sealCrypto } from '#common/backup/seal-crypto';
import { describeTampering } from '#common/backup/tampering';
import { ENV, LAMBDA_ENV, OPERATOR_ENV } from '#common/contract';
import { rdsTargetsFromEnv } from '#common/rds/rds-targets';
import { rds, rdsIn, s3 } from '#common/runtime/clients';
import { intEnv, MissingEnvironmentError, requireEnv } from '#common/runtime/env';
import { CaretakerError, normaliseError, PreconditionFailedError } from '#common/runtime/errors';
import { jsonEnv } from '#common/runtime/json-env';
import { caretakerHandler } from '#common/runtime/middleware';
import { correlate, logger, metrics } from '#common/runtime/observability';
import { emptyFolderStep, finishReport } from './fan-out.ts';
import { FolderQueue } from './folder-queue.ts';
import {
  backupSetsSchema,
  type CleanupEvent,
  type CleanupStepEvent,
  cleanupEventSchema,
  type FinishEvent,
  type FolderEvent,
  retentionPoliciesSchema,
} from './input.ts';
import { type CleanupReport, summarise, type TargetReport } from './report.ts';
import { type CleanupConfig, runCleanup } from './run.ts';

const rdsTargets = rdsTargetsFromEnv();
const backupSets = jsonEnv(ENV.backupSets, backupSetsSchema, '[]');
const policies = jsonEnv(ENV.retentionPolicies, retentionPoliciesSchema, '{}');
for (const { name, retention } of [...rdsTargets, ...backupSets]) {
  if (!policies[retention]) {
    throw new MissingEnvironmentError(
      `${ENV.retentionPolicies} has no policy "${retention}" (used by ${name})`,
    );
  }
}
const CONFIG: CleanupConfig = {
  region: requireEnv(LAMBDA_ENV.region),
  rdsTargets,
  backupSets,
  policies,
  ...(backupSets.length ? { bucket: requireEnv(ENV.backupBucket) } : {}),
};
/** The stack key (BACKUP_KEY_ARN): seals of manifests and verification records are checked with it. */
const CRYPTO = backupSets.length ? sealCrypto() : undefined;
/** Time kept back from the Lambda deadline: no deletion starts after it. */
const SAFETY_MARGIN_MS = intEnv(OPERATOR_ENV.cleanupSafetyMarginMs, 60_000);
const KNOWN = [...new Set([...rdsTargets.map((t) => t.name), ...backupSets.map((s) => s.name)])];

/** Plans (and, unless `fanOut` is given, applies) retention over the selected targets. */
async function cleanupTargets(event: CleanupEvent, context: Context, fanOut?: FolderQueue) {
  const now = event.now ? new Date(event.now) : new Date();
  const deadline = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
  const reports = await runCleanup(
    CONFIG,
    { rds: rds(), rdsIn, s3: s3(), ...(CRYPTO ? { crypto: CRYPTO } : {}) },
    { dryRun: event.dryRun, now, deadline, ...(fanOut ? { fanOut } : {}) },
    event.targets,
  );
  return { reports, report: summarise(event.dryRun, now, reports) };
}

/** A transient fault (throttling, …) that stopped a target, rethrown as itself so the flow's Retry runs the (idempotent) call again. */
function throwTransient(reports: readonly TargetReport[]): void {
  const transient = reports
    .filter((t) => t.status === 'failed' || t.status === 'refused')
    .map((t) => normaliseError(t.error))
    .find((e) => e instanceof CaretakerError && e.transient);
  if (transient) throw transient;
}

/** Metrics and the log line of a finished run; a real run that could not finish a target throws. */
function conclude(report: CleanupReport): CleanupReport {
  if (!report.dryRun) {
    metrics.addMetric('RecoveryPointsDeleted', 'Count', report.totals.deleted);
    metrics.addMetric(
      'CleanupTargetsFailed',
      'Count',
      report.totals.failedTargets + report.totals.refusedTargets,
    );
  }
  if (report.totals.tampering) metrics.addMetric('BackupTamperingFound', 'Count', report.totals.tampering);
  logger.info(report.dryRun ? 'Cleanup planned (dry run)' : 'Cleanup done', { totals: report.totals });

  const broken = report.targets.filter((t) => t.status === 'failed' || t.status === 'refused');
  if (report.dryRun || broken.length === 0) return report;
  // The failure path reports only this message: it must carry the tampering too.
  const tampered = report.targets.filter((t) => t.tamperingCount);
  throw new PreconditionFailedError(
    `Cleanup did not finish ${broken.length} target(s): ${broken
      .map((t) => `${t.name}${t.region ? ` (${t.region})` : ''} ${t.status}: ${t.reason}`)
      .join('; ')}${tampered
      .map((t) => `; TAMPERING in ${t.name}: ${describeTampering(t.tampering ?? [], t.tamperingCount ?? 0)}`)
      .join('')}`,
    { report },
  );
}

/** Runs the whole cleanup in this call; a real run that could not finish a target throws after doing the others. */
export async function cleanup(event: CleanupEvent, context: Context): Promise<CleanupReport> {
  const { reports, report } = await cleanupTargets(event, context);
  if (!event.dryRun) throwTransient(reports);
  return conclude(report);
}

/**
 * The flow's first step: snapshots as in a whole run; for backup sets the plan and, in a real run,
 * each going backup's first step, with the folders to empty queued. A dry run is whole here (it
 * deletes nothing, so it has nothing to fan out) and returns no folders.
 */
export async function plan(event: CleanupEvent, context: Context) {
  const queue = event.dryRun ? undefined : new FolderQueue();
  const { reports, report } = await cleanupTargets(event, context, queue);
  if (!event.dryRun) throwTransient(reports);
  logger.info('Cleanup planned', { totals: report.totals, folders: queue?.items.length ?? 0 });
  return { report, folders: queue?.items ?? [] };
}

/** One call of a Distributed Map child: empties its folder until done or the budget is spent. */
export async function folder(event: FolderEvent, context: Context) {
  correlate({ backupId: event.id, ...(event.executionId ? { executionId: event.executionId } : {}) });
  const budget = budgetFrom({
    remainingMs: context.getRemainingTimeInMillis(),
    safetyMarginMs: SAFETY_MARGIN_MS,
    ...(event.timeBudgetMs === undefined ? {} : { timeBudgetMs: event.timeBudgetMs }),
  });
  const outcome = await emptyFolderStep(
    { s3: s3(), bucket: CONFIG.bucket!, crypto: CRYPTO! },
    event,
    budget,
    new Date(),
  );
  if (outcome.done) logger.info('Backup folder emptied', { ...outcome.summary });
  return outcome;
}

/** The children's counts added into the plan's report, then the run's verdict (as a whole run's). */
export async function finish(event: FinishEvent): Promise<CleanupReport> {
  // The plan's own report, back through the flow's state: its shape is checked, its tamper kinds are the plan's.
  const report = event.report as unknown as Pick<CleanupReport, 'dryRun' | 'now' | 'targets'>;
  return conclude(finishReport(report, event.folders, event.results));
}

/** Runs one step: the whole cleanup (no `step`), or a step of the fanned-out one. */
export async function cleanupStep(event: CleanupStepEvent, context: Context): Promise<unknown> {
  switch (event.step) {
    case 'whole': {
      const { step: _whole, ...whole } = event;
      return cleanup(whole, context);
    }
    case 'plan': {
      const { step: _plan, ...run } = event;
      return plan(run, context);
    }
    case 'folder':
      return folder(event, context);
    case 'finish':
      return finish(event);
  }
}

export const handler = caretakerHandler(
  'cleanup',
  cleanupEventSchema(
    KNOWN,
    backupSets.map((s) => s.name),
  ),
  cleanupStep,
);
