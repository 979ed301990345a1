/**
 * report: writes the maintenance report of a run (JSON and Markdown) to the backup bucket and
 * publishes its one alert through the alert topic, worded by what the run means for its flow's
 * incident (opened, still failing, resolved; incident.ts).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { publishAlert } from '#common/alerts/publish-alert';
import { ENV, MANAGED_VALUE, s3Tagging, TAG } from '#common/contract';
import { s3 } from '#common/runtime/clients';
import { requireEnv } from '#common/runtime/env';
import { caretakerHandler } from '#common/runtime/middleware';
import { logger, metrics } from '#common/runtime/observability';
import { withDrillFigures } from './disaster-recovery.ts';
import { findings } from './findings.ts';
import {
  type Decision,
  decideIncident,
  type IncidentDecision,
  type ReportedRun,
  withPublished,
} from './incident.ts';
import { readIncidentState, writeIncidentState } from './incident-store.ts';
import { renderMarkdown } from './render-markdown.ts';
import { reportAlert } from './report-alert.ts';
import { reportKey } from './report-key.ts';
import { type RunRecord, runRecordSchema } from './run-record.ts';

const BUCKET = requireEnv(ENV.backupBucket);
const TOPIC_ARN = requireEnv(ENV.alertTopicArn);
const ENVIRONMENT = requireEnv(ENV.environmentName);

export interface ReportResult {
  readonly severity: 'info' | 'warning' | 'critical';
  readonly failures: number;
  readonly warnings: number;
  readonly jsonKey: string;
  readonly markdownKey: string;
  readonly messageId: string;
  /** What the run meant for its flow's incident. */
  readonly incident: Decision;
}

/**
 * Writes both report files (same keys on a re-run, so a retry overwrites rather than duplicates),
 * decides the incident and alerts once: a retry for the same run replays the decision, and does not
 * publish again once the alert went out.
 */
export async function report(input: RunRecord, now = new Date()): Promise<ReportResult> {
  // A DisasterRecovery drill's RTO/RPO (the `drill` section and its metrics) come from what it recorded.
  const record = withDrillFigures(input);
  const finishedAt = record.finishedAt ?? now.toISOString();
  const found = findings(record);
  const key = reportKey(record);
  const run: ReportedRun = {
    flow: record.flow,
    run: record.executionArn ?? record.executionId ?? key,
    startedAt: record.startedAt,
    failed: found.failures.length > 0,
    canResolve: record.cleanup?.dryRun !== true,
    reportedAt: now.toISOString(),
  };
  // Decided and stored before anything is published, so a retry words the alert the same way.
  const decided = await decideAndStore(run);

  const markdown = renderMarkdown(record, found, ENVIRONMENT, finishedAt, decided);
  const json = JSON.stringify(
    { environment: ENVIRONMENT, ...record, finishedAt, findings: found, incident: decided.decision },
    null,
    2,
  );
  const tags = s3Tagging({ [TAG.managed]: MANAGED_VALUE, [TAG.kind]: 'report', [TAG.flow]: record.flow });
  await Promise.all([
    s3().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${key}.json`,
        Body: json,
        ContentType: 'application/json',
        Tagging: tags,
      }),
    ),
    s3().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${key}.md`,
        Body: markdown,
        ContentType: 'text/markdown; charset=utf-8',
        Tagging: tags,
      }),
    ),
  ]);
  const result = {
    severity: found.severity,
    failures: found.failures.length,
    warnings: found.warnings.length,
    jsonKey: `${key}.json`,
    markdownKey: `${key}.md`,
    incident: decided.decision,
  };
  if (decided.alreadyPublished) {
    logger.info('This run was reported and alerted before: not alerting again', {
      messageId: decided.messageId,
    });
    return { ...result, messageId: decided.messageId ?? '' };
  }

  if (record.drill) {
    metrics.addMetric('DrillRtoSeconds', 'Seconds', record.drill.rtoSeconds);
    metrics.addMetric('DrillRpoSeconds', 'Seconds', record.drill.rpoSeconds);
  }
  metrics.addMetric('ReportFailures', 'Count', found.failures.length);

  const published = await publishAlert(
    TOPIC_ARN,
    ENVIRONMENT,
    reportAlert({ record, findings: found, incident: decided, reportLocation: `s3://${BUCKET}/${key}.md` }),
    now,
    resolvedEscalations(decided),
  );
  await rememberPublished(run, published.messageId);
  return { ...result, messageId: published.messageId };
}

/**
 * The escalation levels a resolved incident paged, as the `escalation` attribute of its "resolved"
 * alert: each level that was told of the incident also hears that it is over.
 */
function resolvedEscalations(decided: IncidentDecision): Record<string, string[]> {
  const levels = (decided.decision === 'resolved' ? (decided.incident?.escalations ?? []) : []).map(
    (paged) => `level-${paged.level}`,
  );
  return levels.length > 0 ? { escalation: levels } : {};
}

/** How often a decision is made again because another run of the flow stored its own meanwhile. */
const STORE_ATTEMPTS = 5;

/** Decides what `run` means for its flow's incident and stores it, over whatever was stored last. */
async function decideAndStore(run: ReportedRun): Promise<IncidentDecision> {
  for (let attempt = 1; ; attempt++) {
    const { state, etag } = await readIncidentState(BUCKET, run.flow);
    const decided = decideIncident(state, run);
    if (decided.alreadyPublished || (await writeIncidentState(BUCKET, decided.next, etag))) return decided;
    if (attempt >= STORE_ATTEMPTS) {
      // Still contended: alert as decided (a failure is alerted whatever the state says).
      logger.warn('Incident state kept changing: alerting without storing the decision', { run: run.run });
      return decided;
    }
  }
}

/** Records that `run`'s alert went out, unless another run has reported since (then it no longer matters). */
async function rememberPublished(run: ReportedRun, messageId: string): Promise<void> {
  const { state, etag } = await readIncidentState(BUCKET, run.flow);
  if (state?.last?.run !== run.run) return;
  if (!(await writeIncidentState(BUCKET, withPublished(state, messageId), etag))) {
    logger.info('Another run reported meanwhile: its state stands', { run: run.run });
  }
}

export const handler = caretakerHandler('report', runRecordSchema, (record) => report(record));
