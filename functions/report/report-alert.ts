/**
 * The one alert a run's report sends (DESIGN §6), worded by what the run means for its flow's
 * incident (incident.ts). Pure.
 *
 * - A run with failures (the incident opens, or is still open): critical, naming the flow, what
 *   failed, what was rolled back, what to do, with the console link.
 * - The first run after an incident that has no failures: ONE message that the incident is
 *   resolved, with the incident's severity (critical), so that every subscriber who got the
 *   incident gets its end; it is also that run's summary.
 * - Any other run: its summary (`info`, or `warning` when something is close to going wrong).
 */
import type { Alert } from '#common/alerts/alert-schema';
import { type Findings, outcomeText } from './findings.ts';
import type { IncidentDecision } from './incident.ts';
import { FLOW_TITLES } from './render-markdown.ts';
import type { RunRecord } from './run-record.ts';

export interface ReportAlertInput {
  readonly record: RunRecord;
  readonly findings: Findings;
  readonly incident: Pick<IncidentDecision, 'decision' | 'incident'>;
  /** Where the Markdown report is, e.g. `s3://bucket/reports/…md`. */
  readonly reportLocation: string;
}

/** `2` → `2nd`. */
function ordinal(n: number): string {
  const suffixes: Readonly<Record<number, string>> = { 1: 'st', 2: 'nd', 3: 'rd' };
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${teen ? 'th' : (suffixes[n % 10] ?? 'th')}`;
}

/** The lines every alert of a run with failures carries: what failed, what was rolled back, warnings. */
function findingLines(record: RunRecord, findings: Findings): string[] {
  return [
    ...findings.failures.map((f) => `FAILURE: ${f.what} (${f.where}). ${f.action}`),
    ...(findings.failures.length > 0
      ? record.rolledBack.length > 0
        ? record.rolledBack.map((line) => `ROLLED BACK: ${line}`)
        : ['ROLLED BACK: nothing (no step of this run had anything to undo)']
      : []),
    ...findings.warnings.map((w) => `WARNING: ${w.what} (${w.where}). ${w.action}`),
  ];
}

/** The alert for a run's report. */
export function reportAlert({ record, findings, incident, reportLocation }: ReportAlertInput): Alert {
  const title = FLOW_TITLES[record.flow];
  const link = record.executionArn ? { executionArn: record.executionArn } : {};
  const open = incident.incident;
  const evidence = open ? { evidence: { incident: { state: incident.decision, ...open } } } : {};

  if (incident.decision === 'resolved' && open) {
    return {
      severity: 'critical',
      flow: record.flow,
      summary: `Resolved: ${title} succeeded again${findings.warnings.length ? ` (${outcomeText(findings)})` : ''}`,
      where: reportLocation,
      action: `Nothing to do for the incident: this run succeeded. ${findings.warnings.length ? 'Read the warnings below before they become failures.' : 'The full report is in the backup bucket.'}`,
      details: [
        `RESOLVED: the incident opened by ${open.openedBy} (started ${open.openedAt}) after ${open.failedRuns} failed run${open.failedRuns === 1 ? '' : 's'}.`,
        ...findingLines(record, findings),
      ].join('\n'),
      ...link,
      ...evidence,
    };
  }

  if (findings.failures.length > 0) {
    const [first] = findings.failures;
    // The subject already names the flow: it carries what failed (the count first, so it is not cut off).
    const count = findings.failures.length > 1 ? `${findings.failures.length} failures: ` : '';
    const since =
      incident.decision === 'ongoing' && open
        ? [
            `STILL FAILING: the ${ordinal(open.failedRuns)} failed run in a row; the incident was opened by ${open.openedBy} (started ${open.openedAt}).`,
          ]
        : [];
    return {
      severity: 'critical',
      flow: record.flow,
      summary: `${count}${first!.what}`,
      where: reportLocation,
      action: `Do what each failure below says, then start the ${record.flow} flow again (or wait for its next scheduled run): its success resolves this alert.`,
      details: [...since, ...findingLines(record, findings)].join('\n'),
      ...link,
      ...evidence,
    };
  }

  return {
    severity: findings.severity,
    flow: record.flow,
    summary: `${title} report: ${outcomeText(findings)}`,
    where: reportLocation,
    action:
      findings.severity === 'info'
        ? 'Nothing to do. The full report is in the backup bucket.'
        : 'Read the warnings below; the full report is in the backup bucket.',
    details: findingLines(record, findings).join('\n'),
    ...link,
  };
}
