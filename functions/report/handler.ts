/**
 * report: writes the maintenance report of a run (JSON and Markdown) to the backup bucket and
 * publishes its summary through the alert topic.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3 } from '#common/clients';
import { requireEnv } from '#common/env';
import { caretakerHandler } from '#common/middleware';
import { metrics } from '#common/observability';
import { publishAlert } from '#common/publish-alert';
import { withDrillFigures } from './disaster-recovery.ts';
import { findings, outcomeText } from './findings.ts';
import { FLOW_TITLES, renderMarkdown } from './render-markdown.ts';
import { reportKey } from './report-key.ts';
import { type RunRecord, runRecordSchema } from './run-record.ts';

const BUCKET = requireEnv('BACKUP_BUCKET');
const TOPIC_ARN = requireEnv('ALERT_TOPIC_ARN');
const ENVIRONMENT = requireEnv('CARETAKER_ENVIRONMENT');

export interface ReportResult {
  readonly severity: 'info' | 'warning' | 'critical';
  readonly failures: number;
  readonly warnings: number;
  readonly jsonKey: string;
  readonly markdownKey: string;
  readonly messageId: string;
}

/** Writes both report files (same keys on a re-run, so a retry overwrites rather than duplicates) and alerts. */
export async function report(input: RunRecord, now = new Date()): Promise<ReportResult> {
  // A DisasterRecovery drill's RTO/RPO (the `drill` section and its metrics) come from what it recorded.
  const record = withDrillFigures(input);
  const finishedAt = record.finishedAt ?? now.toISOString();
  const found = findings(record);
  const markdown = renderMarkdown(record, found, ENVIRONMENT, finishedAt);
  const key = reportKey(record);
  const json = JSON.stringify({ environment: ENVIRONMENT, ...record, finishedAt, findings: found }, null, 2);
  const tags = `caretaker:managed=true&caretaker:kind=report&caretaker:flow=${record.flow}`;
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

  if (record.drill) {
    metrics.addMetric('DrillRtoSeconds', 'Seconds', record.drill.rtoSeconds);
    metrics.addMetric('DrillRpoSeconds', 'Seconds', record.drill.rpoSeconds);
  }
  metrics.addMetric('ReportFailures', 'Count', found.failures.length);

  const published = await publishAlert(
    TOPIC_ARN,
    ENVIRONMENT,
    {
      severity: found.severity,
      flow: record.flow,
      summary: `${FLOW_TITLES[record.flow]} report: ${outcomeText(found)}`,
      where: `s3://${BUCKET}/${key}.md`,
      action:
        found.severity === 'info'
          ? 'Nothing to do. The full report is in the backup bucket.'
          : 'Read the failures and warnings below; the full report is in the backup bucket.',
      details: [
        ...found.failures.map((f) => `FAILURE: ${f.what} (${f.where}). ${f.action}`),
        ...found.warnings.map((w) => `WARNING: ${w.what} (${w.where}). ${w.action}`),
      ].join('\n'),
      ...(record.executionArn ? { executionArn: record.executionArn } : {}),
    },
    now,
  );

  return {
    severity: found.severity,
    failures: found.failures.length,
    warnings: found.warnings.length,
    jsonKey: `${key}.json`,
    markdownKey: `${key}.md`,
    messageId: published.messageId,
  };
}

export const handler = caretakerHandler('report', runRecordSchema, (record) => report(record));
