/** The text `caretaker status` prints for a {@link StatusReport}. Pure. */
import { isUnavailable, type RecoveryPointStatus, type StatusReport } from './collect.ts';

/** `3 min`, `5.2 h`, `4.0 d`: an age an operator reads at a glance. */
export function humanAge(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

function ago(iso: string, now: Date): string {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? iso : `${humanAge(Math.max(0, (now.getTime() - at) / 1000))} ago`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows.reduce<number[]>(
    (widest, row) => row.map((cell, i) => Math.max(widest[i] ?? 0, cell.length)),
    [],
  );
  return rows.map((row) =>
    `  ${row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`.trimEnd(),
  );
}

function pointRows(points: StatusReport['backups']): string[] {
  if (points.length === 0) return ['  (none configured)'];
  return table(
    points.map((point) => {
      if (isUnavailable(point)) return ['?', point.name, `unreadable: ${point.unavailable}`];
      const p = point as RecoveryPointStatus;
      const mark = p.status === 'pass' ? '✔' : '✘';
      const rpo = `RPO ${p.rpo}${p.rpoSeconds !== undefined ? ` (${humanAge(p.rpoSeconds)})` : ''}`;
      if (!p.newestVerified) return [mark, p.name, `no verified ${p.kind}`, rpo];
      return [mark, p.name, `${p.newestVerified.id}, ${humanAge(p.newestVerified.ageSeconds)} old`, rpo];
    }),
  );
}

/** The status as the terminal shows it. */
export function renderStatus(report: StatusReport): string {
  const now = new Date(report.checkedAt);
  const lines = [
    `Caretaker ${report.environment}: status at ${report.checkedAt}`,
    '',
    'Flows (last execution, newest report)',
  ];
  lines.push(
    ...table(
      report.flows.map((flow) => {
        if (!flow.deployed) return [flow.flow, 'not deployed'];
        const last = flow.lastExecution;
        const execution = isUnavailable(last)
          ? `unreadable: ${last.unavailable}`
          : last
            ? `${last.status} ${ago(last.stopDate ?? last.startDate, now)}`
            : 'never run';
        const report = flow.report;
        const reported = isUnavailable(report)
          ? 'report unreadable'
          : report
            ? `report ${report.severity}: ${report.failures} failed, ${report.warnings} warnings`
            : 'no report';
        const incident = flow.openIncident;
        const open = incident && !isUnavailable(incident) ? `INCIDENT OPEN since ${incident.openedAt}` : '';
        return [flow.flow, execution, reported, open];
      }),
    ),
  );

  lines.push('');
  const health = report.health;
  if (isUnavailable(health)) lines.push(`Health: unreadable (${health.unavailable})`);
  else if (!health) lines.push('Health: no report has recorded health yet');
  else {
    const { total, pass, warn, fail } = health.checks;
    lines.push(
      `Health: ${health.status}${health.checkedAt ? ` at ${health.checkedAt} (${ago(health.checkedAt, now)})` : ''}: ${total} checks, ${pass} pass, ${warn} warn, ${fail} fail`,
    );
    for (const check of health.notPassing) lines.push(`  ${check}`);
  }

  lines.push('', 'Backups (newest verified, against the RPO)', ...pointRows(report.backups));
  lines.push('', 'RDS snapshots (newest verified, against the RPO)', ...pointRows(report.snapshots));

  lines.push('', 'Manual snapshot quota');
  if (report.quotas.length === 0) lines.push('  (no RDS targets)');
  lines.push(
    ...table(
      report.quotas.map((quota) =>
        isUnavailable(quota)
          ? [quota.region, quota.type, `unreadable: ${quota.unavailable}`]
          : [
              quota.region,
              quota.type,
              `${quota.used} of ${quota.limit} used, ${quota.headroom} left`,
              quota.warning
                ? `WARNING: at or over ${quota.warnPercent} %`
                : `(warning at ${quota.warnPercent} %)`,
            ],
      ),
    ),
  );

  lines.push('');
  if (report.attention.length === 0) lines.push('✔ Everything is within its objectives.');
  else {
    lines.push(
      `✘ ${report.attention.length === 1 ? '1 thing needs' : `${report.attention.length} things need`} attention:`,
    );
    for (const line of report.attention) lines.push(`  - ${line}`);
  }
  return `${lines.join('\n')}\n`;
}
