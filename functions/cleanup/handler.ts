/**
 * cleanup: applies each target's retention policy to Caretaker-managed RDS snapshots (and their
 * DR copies) and to backups, with the planner's safety floors, chains held and shared objects
 * kept. `dryRun: true` reports what would go and why and deletes nothing. docs/cleanup.md
 * describes the contract.
 */
import type { Context } from 'aws-lambda';
import { sealCrypto } from '#common/backup/seal-crypto';
import { describeTampering } from '#common/backup/tampering';
import { ENV, LAMBDA_ENV, OPERATOR_ENV } from '#common/contract';
import { rdsTargetsFromEnv } from '#common/rds/rds-targets';
import { rds, rdsIn, s3 } from '#common/runtime/clients';
import { intEnv, MissingEnvironmentError, requireEnv } from '#common/runtime/env';
import { CaretakerError, normaliseError, PreconditionFailedError } from '#common/runtime/errors';
import { jsonEnv } from '#common/runtime/json-env';
import { caretakerHandler } from '#common/runtime/middleware';
import { logger, metrics } from '#common/runtime/observability';
import { backupSetsSchema, type CleanupEvent, cleanupEventSchema, retentionPoliciesSchema } from './input.ts';
import { type CleanupReport, summarise } from './report.ts';
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

/** Runs the cleanup; a real run that could not finish a target throws after doing the others. */
export async function cleanup(event: CleanupEvent, context: Context): Promise<CleanupReport> {
  const now = event.now ? new Date(event.now) : new Date();
  const deadline = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
  const reports = await runCleanup(
    CONFIG,
    { rds: rds(), rdsIn, s3: s3(), ...(CRYPTO ? { crypto: CRYPTO } : {}) },
    { dryRun: event.dryRun, now, deadline },
    event.targets,
  );
  const report = summarise(event.dryRun, now, reports);
  if (!event.dryRun) {
    metrics.addMetric('RecoveryPointsDeleted', 'Count', report.totals.deleted);
    metrics.addMetric(
      'CleanupTargetsFailed',
      'Count',
      report.totals.failedTargets + report.totals.refusedTargets,
    );
  }
  if (report.totals.tampering) metrics.addMetric('BackupTamperingFound', 'Count', report.totals.tampering);
  logger.info(event.dryRun ? 'Cleanup planned (dry run)' : 'Cleanup done', { totals: report.totals });

  const broken = reports.filter((t) => t.status === 'failed' || t.status === 'refused');
  if (event.dryRun || broken.length === 0) return report;
  // A transient fault (throttling, …) is rethrown as itself so the flow's Retry runs the (idempotent) cleanup again.
  const transient = broken
    .map((t) => normaliseError(t.error))
    .find((e) => e instanceof CaretakerError && e.transient);
  if (transient) throw transient;
  // The failure path reports only this message: it must carry the tampering too.
  const tampered = reports.filter((t) => t.tamperingCount);
  throw new PreconditionFailedError(
    `Cleanup did not finish ${broken.length} target(s): ${broken
      .map((t) => `${t.name}${t.region ? ` (${t.region})` : ''} ${t.status}: ${t.reason}`)
      .join('; ')}${tampered
      .map((t) => `; TAMPERING in ${t.name}: ${describeTampering(t.tampering ?? [], t.tamperingCount ?? 0)}`)
      .join('')}`,
    { report },
  );
}

export const handler = caretakerHandler('cleanup', cleanupEventSchema(KNOWN), cleanup);
