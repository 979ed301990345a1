/**
 * The maintenance report as Markdown: written for an operator who did not see the run. It says
 * what ran, the outcome first, what needs doing, then each section with its figures. Pure.
 */
import { executionConsoleUrl } from '#common/alerts/alert-message';
import { disasterRecoveryMarkdown } from './disaster-recovery.ts';
import { type Findings, formatBytes, formatSeconds, outcomeText } from './findings.ts';
import type { IncidentDecision } from './incident.ts';
import { maintenanceMarkdown } from './maintenance-markdown.ts';
import type { RunRecord } from './run-record.ts';
import { renderUpdate } from './update-markdown.ts';

/** How each flow is named in reports and report alerts. */
export const FLOW_TITLES: Readonly<Record<RunRecord['flow'], string>> = {
  RoutineMaintenance: 'Routine maintenance',
  Cleanup: 'Retention cleanup',
  Update: 'Update',
  DisasterRecovery: 'Disaster recovery',
  HealthCheck: 'Health check',
  Backup: 'Backup',
  Report: 'Report',
};

/** Escapes text for a Markdown table cell. */
function cell(text: string | number | undefined): string {
  if (text === undefined || text === '') return '–';
  return String(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(headers: string[], rows: (string | number | undefined)[][]): string[] {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

const ms = (value?: number) => (value === undefined ? undefined : formatSeconds(value / 1000));
const bytes = (value?: number) => (value === undefined ? undefined : formatBytes(value));

function outcomeLine(findings: Findings): string {
  if (findings.severity === 'info') return '**Outcome: everything succeeded.** Nothing to do.';
  return `**Outcome: ${outcomeText(findings)}** (severity ${findings.severity}). See below for what to do.`;
}

/** Renders the report of `record` for `environment`. */
export function renderMarkdown(
  record: RunRecord,
  findings: Findings,
  environment: string,
  finishedAt: string,
  incident?: Pick<IncidentDecision, 'decision' | 'incident'>,
): string {
  const title = FLOW_TITLES[record.flow];
  const started = new Date(record.startedAt);
  const duration = (new Date(finishedAt).getTime() - started.getTime()) / 1000;
  const lines: string[] = [`# Caretaker report: ${title} in ${environment}`, '', outcomeLine(findings), ''];

  lines.push(
    `- Started: ${record.startedAt}`,
    `- Finished: ${finishedAt} (${formatSeconds(Math.max(0, duration))})`,
  );
  if (record.executionArn) {
    lines.push(
      `- Execution: \`${record.executionArn}\` ([open in console](${executionConsoleUrl(record.executionArn)}))`,
    );
  } else if (record.executionId) {
    lines.push(`- Execution: \`${record.executionId}\``);
  }
  lines.push('');

  const list = (heading: string, items: Findings['failures']) => {
    if (items.length === 0) return;
    lines.push(`## ${heading}`, '');
    for (const item of items)
      lines.push(`- **${item.what}**`, `  - Where: ${item.where}`, `  - What to do: ${item.action}`);
    lines.push('');
  };
  list('Failures', findings.failures);
  if (findings.failures.length > 0) {
    lines.push('## Rolled back', '');
    if (record.rolledBack.length === 0) lines.push('Nothing: no step of this run had anything to undo.');
    for (const item of record.rolledBack) lines.push(`- ${item}`);
    lines.push('');
  }
  list('Warnings', findings.warnings);

  const open = incident?.incident;
  if (open && incident.decision !== 'none') {
    const since = `opened by \`${open.openedBy}\` (started ${open.openedAt})`;
    const runs = `${open.failedRuns} failed run${open.failedRuns === 1 ? '' : 's'} in a row`;
    const text = {
      opened: `This run opened an incident for the ${title} flow; the next run without failures resolves it.`,
      ongoing: `The incident ${since} is still open: ${runs}.`,
      resolved: `This run resolves the incident ${since}, after ${runs}.`,
    }[incident.decision];
    lines.push('## Incident', '', text, '');
  }

  if (record.health) {
    const { checks, status } = record.health;
    const count = (s: string) => checks.filter((c) => c.status === s).length;
    lines.push(
      `## Health: ${status}`,
      '',
      `${checks.length} checks: ${count('pass')} passing, ${count('warn')} degraded, ${count('fail')} failing.`,
      '',
      ...table(
        ['Check', 'Kind', 'Status', 'Result'],
        checks.map((c) => [c.name, c.kind, c.status, c.summary]),
      ),
      '',
    );
  }

  if (record.backups.length > 0) {
    lines.push(
      '## Backups',
      '',
      ...table(
        ['Set', 'Status', 'Backup', 'Mode', 'Objects', 'Size', 'Copied', 'Duration', 'Verified'],
        record.backups.map((b) => [
          b.set,
          b.status,
          b.backupId,
          b.mode,
          b.objects,
          bytes(b.bytes),
          b.copiedBytes === undefined
            ? undefined
            : `${b.copiedObjects ?? '?'} objects, ${formatBytes(b.copiedBytes)}`,
          ms(b.durationMs),
          b.verification
            ? `${b.verification.ok ? 'yes' : 'FAILED'}${b.verification.subset ? ` (subset ${b.verification.subset})` : ''}${b.verification.objectsChecked !== undefined ? `, ${b.verification.objectsChecked} objects read` : ''}`
            : 'not verified in this run',
        ]),
      ),
      '',
    );
    for (const b of record.backups.filter((entry) => entry.location))
      lines.push(`- ${b.set}: \`${b.location}\``);
    if (record.backups.some((entry) => entry.location)) lines.push('');
  }

  if (record.snapshots.length > 0) {
    lines.push(
      '## Snapshots',
      '',
      ...table(
        ['Target', 'Status', 'Snapshot', 'Storage', 'Duration', 'DR copy', 'Manual snapshots'],
        record.snapshots.map((s) => [
          s.target,
          s.status,
          s.snapshotId,
          s.allocatedStorageGiB === undefined ? undefined : `${s.allocatedStorageGiB} GiB`,
          ms(s.durationMs),
          s.copy
            ? `${s.copy.status} → ${s.copy.region}${s.copy.snapshotId ? ` (${s.copy.snapshotId})` : ''}`
            : undefined,
          s.quota ? `${s.quota.used} of ${s.quota.limit}` : undefined,
        ]),
      ),
      '',
    );
    for (const s of record.snapshots) for (const note of s.notes) lines.push(`- ${s.target}: ${note}`);
    if (record.snapshots.some((s) => s.notes.length > 0)) lines.push('');
  }

  if (record.cleanup) {
    const { dryRun, targets } = record.cleanup;
    const gone = (d: { outcome: string }) => d.outcome === 'deleted' || d.outcome === 'already-gone';
    lines.push(
      `## Cleanup${dryRun ? ' (dry run: nothing was deleted)' : ''}`,
      '',
      ...table(
        ['Target', 'What', 'Policy', 'Status', 'Points', 'Kept', dryRun ? 'Would delete' : 'Deleted'],
        targets.map((t) => [
          t.name,
          `${t.resource === 'backups' ? 'backups' : 'RDS snapshots'}${t.region ? ` (${t.region})` : ''}`,
          t.policy,
          t.status,
          t.points,
          t.kept,
          dryRun ? t.deletions.length : t.deletions.filter(gone).length,
        ]),
      ),
      '',
    );
    for (const t of targets) {
      if (t.deletions.length === 0) continue;
      lines.push(`### ${t.name}: ${dryRun ? 'would delete' : 'deleted'}`, '');
      for (const d of t.deletions) {
        const outcome = dryRun || gone(d) ? '' : ` (${d.outcome}${d.detail ? `: ${d.detail}` : ''})`;
        lines.push(`- \`${d.id}\`: ${d.reasons.join('; ')}${outcome}`);
      }
      const kept = t.decisions.filter((d) => d.action === 'keep');
      lines.push(
        '',
        `Kept: ${kept.map((d) => `\`${d.id}\` (${d.reasons.join('; ')})`).join(', ') || 'none'}${t.decisionsNotListed ? ` (and ${t.decisionsNotListed} decisions not listed)` : ''}`,
        '',
      );
      for (const note of t.notes) lines.push(`- Note: ${note}`);
      if (t.notes.length > 0) lines.push('');
    }
  }

  if (record.drill) {
    const d = record.drill;
    const against = (value: number, target?: number) =>
      `${formatSeconds(value)}${target === undefined ? '' : ` (target ${formatSeconds(target)}: ${value <= target ? 'met' : 'MISSED'})`}`;
    lines.push(
      '## Disaster-recovery drill',
      '',
      `- Recovery time (RTO): ${against(d.rtoSeconds, d.rtoTargetSeconds)}`,
      `- Recovery point age (RPO): ${against(d.rpoSeconds, d.rpoTargetSeconds)}`,
    );
    if (d.recoveryPoint) lines.push(`- Recovered from: \`${d.recoveryPoint}\``);
    if (d.tornDown !== undefined)
      lines.push(`- Restored resources torn down: ${d.tornDown ? 'yes' : 'NO (delete them by hand)'}`);
    lines.push('');
  }

  lines.push(...maintenanceMarkdown(record));
  if (record.update) lines.push(...renderUpdate(record.update));
  lines.push(...disasterRecoveryMarkdown(record));

  lines.push('---', 'The JSON report next to this file has every figure and the evidence of each check.');
  return `${lines.join('\n')}\n`;
}
