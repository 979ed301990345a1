/**
 * The routine-maintenance report's sections beyond backups (DESIGN §11), written for an operator
 * who did not see the run: the maintenance window (what started, what was skipped and why), log
 * analysis, capacity, security maintenance, database maintenance and per-task statistics. Each
 * section says so when there is nothing in it, and how to configure it. Pure.
 */
import { formatBytes } from './findings.ts';
import { formatDays } from './maintenance-findings.ts';
import { type Cell, table } from './markdown-table.ts';
import type { RunRecord } from './run-record.ts';

const GIB = 1024 ** 3;
const gib = (bytes?: number) => (bytes === undefined ? undefined : `${(bytes / GIB).toFixed(1)} GiB`);
const duration = (ms?: number | null) =>
  ms === undefined || ms === null
    ? undefined
    : ms < 1000
      ? `${Math.round(ms)} ms`
      : ms < 120_000
        ? `${(ms / 1000).toFixed(1)} s`
        : `${(ms / 60_000).toFixed(1)} min`;

/** `2026-11-21T04:30:00.000Z` as `04:30Z`, for tables. */
const clock = (iso?: string | null) => (iso ? `${iso.slice(11, 16)}Z` : undefined);

/** The sections, in order; empty when the run is not a routine-maintenance run. */
export function maintenanceMarkdown(record: RunRecord): string[] {
  if (!record.window) return [];
  return [
    ...windowSection(record),
    ...logsSection(record),
    ...capacitySection(record),
    ...securitySection(record),
    ...databaseSection(record),
    ...statisticsSection(record),
  ];
}

function windowSection(record: RunRecord): string[] {
  const window = record.window!;
  const lines = ['## Maintenance window', ''];
  if (!window.description) {
    lines.push('No maintenance window is configured (`maintenanceWindow`): every task was started.', '');
  } else if (!window.enforced) {
    lines.push(
      `Window: ${window.description}. This run was started by hand: the window did not apply and every task was started.`,
      '',
    );
  } else if (window.opensAt) {
    lines.push(
      `Window: ${window.description}. This run was started by its schedule at ${window.plannedAt}, in the window that opened at ${window.opensAt} and closes at ${window.closesAt}; a task starts only while the window has its expected time left.`,
      '',
    );
  } else {
    lines.push(
      `Window: ${window.description}. This run was started by its schedule at ${window.plannedAt}, OUTSIDE the window (it next opens at ${window.nextOpensAt}): no task was started.`,
      '',
    );
  }
  const rows: Cell[][] = [];
  const row = (
    task: keyof typeof window.deadlines,
    target: string,
    status: string,
    skipped?: { at: string; reason: string },
  ) =>
    rows.push([
      task,
      target,
      `${window.expectedMinutes[task]} min`,
      window.enforced ? clock(window.deadlines[task]) : 'none',
      skipped ? `skipped at ${clock(skipped.at)}` : status === 'skipped' ? 'skipped' : 'started',
      skipped?.reason,
    ]);
  for (const b of record.backups) row('backup', b.set, b.status, b.skipped);
  for (const s of record.snapshots) row('snapshot', s.target, s.status, s.skipped);
  for (const d of record.databaseMaintenance ?? []) row('databaseMaintenance', d.target, d.status, d.skipped);
  if (rows.length > 0) {
    lines.push(...table(['Task', 'Target', 'Expected', 'Start by', 'Status', 'Why skipped'], rows), '');
  }
  const skipped = rows.filter((r) => String(r[4]).startsWith('skipped')).length;
  lines.push(
    `${rows.length - skipped} task${rows.length - skipped === 1 ? '' : 's'} started, ${skipped} skipped.`,
    '',
  );
  return lines;
}

interface LogEvidence {
  logGroups?: string[];
  windowMinutes?: number;
  events?: number;
  errors?: number;
  errorRatePercent?: number | null;
  thresholdPercent?: number;
  topMessages?: { message: string; count: number }[];
  error?: string;
}

function logsSection(record: RunRecord): string[] {
  const checks = (record.health?.checks ?? []).filter((check) => check.kind === 'logs');
  const lines = ['## Log analysis', ''];
  if (!record.health) {
    lines.push('Health could not be checked in this run, so no logs were analysed.', '');
    return lines;
  }
  if (checks.length === 0) {
    lines.push('No log analysis check is configured (`healthChecks.logs`).', '');
    return lines;
  }
  const evidence = (check: (typeof checks)[number]) => check.evidence as LogEvidence;
  lines.push(
    ...table(
      ['Check', 'Log groups', 'Window', 'Events', 'Errors', 'Error rate', 'Threshold', 'Status'],
      checks.map((check) => {
        const e = evidence(check);
        return [
          check.name,
          e.logGroups?.join(', '),
          e.windowMinutes === undefined ? undefined : `${e.windowMinutes} min`,
          e.events,
          e.errors,
          e.errorRatePercent === undefined || e.errorRatePercent === null
            ? undefined
            : `${e.errorRatePercent.toFixed(2)} %`,
          e.thresholdPercent === undefined ? undefined : `${e.thresholdPercent} %`,
          check.status === 'pass' ? 'ok' : check.status === 'warn' ? 'SPIKE' : 'FAILING',
        ];
      }),
    ),
    '',
  );
  for (const check of checks) {
    const e = evidence(check);
    if (e.error) lines.push(`- ${check.name}: ${check.summary}`);
    const top = e.topMessages ?? [];
    if (top.length === 0) continue;
    lines.push(`- ${check.name}, most frequent errors:`);
    for (const message of top)
      lines.push(`  - ${message.count} × \`${message.message.replace(/`/g, "'").slice(0, 200)}\``);
  }
  lines.push('');
  return lines;
}

function capacitySection(record: RunRecord): string[] {
  const capacity = record.capacity;
  const lines = ['## Capacity', ''];
  if (!capacity) {
    lines.push('Not computed in this run.', '');
    return lines;
  }
  if ('unavailable' in capacity) {
    lines.push(
      `Could not be computed: ${capacity.unavailable.error} (${capacity.unavailable.cause ?? ''}).`,
      '',
    );
    return lines;
  }
  if (capacity.targets.length === 0) {
    lines.push('No RDS target is configured (`rdsTargets`).', '');
    return lines;
  }
  lines.push(
    `Storage growth fitted over the last ${capacity.lookbackDays} days (one point a day); warning below ${capacity.warnDays} days until full, critical below ${capacity.criticalDays}.`,
    '',
    ...table(
      ['Target', 'Metric', 'Used', 'Capacity', 'Growth per day', 'Days until full', 'Status'],
      capacity.targets.map((t) => [
        t.target,
        t.metric,
        gib(t.usedBytes),
        gib(t.capacityBytes),
        t.growthBytesPerDay === undefined
          ? undefined
          : `${t.growthBytesPerDay >= 0 ? '+' : '−'}${gib(Math.abs(t.growthBytesPerDay))}`,
        t.daysUntilFull === undefined ? undefined : formatDays(t.daysUntilFull),
        t.status,
      ]),
    ),
    '',
  );
  for (const t of capacity.targets) lines.push(`- ${t.target}: ${t.summary}`);
  lines.push(
    '',
    capacity.bottleneck
      ? `Bottleneck: **${capacity.bottleneck.target}** fills first, in ${formatDays(capacity.bottleneck.daysUntilFull)}.`
      : 'Bottleneck: none (no target’s storage is growing).',
    '',
  );
  return lines;
}

function securitySection(record: RunRecord): string[] {
  const security = record.security;
  const lines = ['## Security maintenance', ''];
  if (!security) lines.push('Pending maintenance and key rotation were not checked in this run.', '');
  else if ('unavailable' in security) {
    lines.push(
      `Pending maintenance and key rotation could not be checked: ${security.unavailable.error} (${security.unavailable.cause ?? ''}).`,
      '',
    );
  } else {
    lines.push('### Pending RDS maintenance (security patches first)', '');
    const rows = security.pendingMaintenance.flatMap((entry) =>
      entry.error
        ? [
            [
              entry.target,
              'could not be read',
              undefined,
              undefined,
              `${entry.error.name}: ${entry.error.message}`,
            ],
          ]
        : [...entry.actions]
            .sort((a, b) => Number(b.security) - Number(a.security))
            .map((action) => [
              entry.target,
              action.action,
              action.security ? 'yes' : 'no',
              action.forcedApplyDate ?? action.autoAppliedAfter ?? action.currentApplyDate,
              action.description,
            ]),
    );
    if (rows.length === 0) lines.push('None: every RDS target is up to date.', '');
    else
      lines.push(...table(['Target', 'Action', 'Security', 'Applied by AWS from', 'Description'], rows), '');
    lines.push('### Key rotation', '');
    lines.push(
      ...table(
        ['Key', 'Role', 'Region', 'Automatic rotation', 'Next rotation'],
        security.keys.map((key) => [
          key.keyArn,
          key.role,
          key.region,
          key.error
            ? `unknown (${key.error.name})`
            : key.rotationEnabled
              ? `on${key.rotationPeriodDays ? ` (every ${key.rotationPeriodDays} days)` : ''}`
              : 'OFF',
          key.nextRotationDate,
        ]),
      ),
      '',
    );
  }
  const certificates = (record.health?.checks ?? []).filter((check) => check.kind === 'tls');
  lines.push('### TLS certificates', '');
  if (certificates.length === 0) lines.push('No TLS check is configured (`healthChecks.tls`).', '');
  else {
    lines.push(
      ...table(
        ['Check', 'Status', 'Result'],
        certificates.map((check) => [check.name, check.status, check.summary]),
      ),
      '',
    );
  }
  return lines;
}

function databaseSection(record: RunRecord): string[] {
  const entries = record.databaseMaintenance ?? [];
  const lines = ['## Database maintenance', ''];
  if (entries.length === 0) {
    lines.push('No database is configured for maintenance in this run (`databaseMaintenance`).', '');
    return lines;
  }
  lines.push(
    ...table(
      [
        'Target',
        'Database',
        'Status',
        'ANALYZE',
        'VACUUM',
        'Took',
        'Bloated tables',
        'Invalid indexes',
        'Long queries',
      ],
      entries.map((e) => [
        e.target,
        e.database,
        e.status === 'failed' && e.error ? `failed: ${e.error.name}` : e.status,
        e.analyzed === undefined ? undefined : e.analyzed ? 'done' : 'no',
        e.vacuumed === undefined ? undefined : e.vacuumed ? 'done' : 'no',
        duration(e.maintenanceMs),
        e.status === 'succeeded' ? e.bloatedTables.length : undefined,
        e.status === 'succeeded' ? e.invalidIndexes.length : undefined,
        e.status === 'succeeded' ? e.longQueries.length : undefined,
      ]),
    ),
    '',
  );
  for (const e of entries.filter((entry) => entry.status === 'succeeded')) {
    lines.push(`### ${e.target}: largest tables`, '');
    lines.push(
      ...table(
        ['Table', 'Size', 'Live rows', 'Dead rows'],
        e.largestTables.map((t) => [t.table, formatBytes(t.totalBytes), t.liveRows, t.deadRows]),
      ),
      '',
    );
    if (e.bloatedTables.length > 0) {
      lines.push(
        `Bloated (dead rows over ${e.thresholds?.bloatWarnPercent ?? '?'} %): ${e.bloatedTables.map((t) => `${t.table} ${t.deadPercent.toFixed(1)} %`).join(', ')}`,
        '',
      );
    }
    if (e.longQueries.length > 0) {
      lines.push(`Queries running longer than ${e.thresholds?.longQuerySeconds ?? '?'} s:`, '');
      lines.push(
        ...table(
          ['PID', 'User', 'State', 'Running for', 'Query'],
          e.longQueries.map((q) => [q.pid, q.user, q.state, `${Math.round(q.seconds)} s`, q.query]),
        ),
        '',
      );
    }
    for (const note of e.notes) lines.push(`- Note: ${note}`);
    if (e.notes.length > 0) lines.push('');
  }
  return lines;
}

function statisticsSection(record: RunRecord): string[] {
  const statistics = record.statistics;
  const lines = ['## Task statistics', ''];
  if (!statistics) {
    lines.push('Not computed in this run.', '');
    return lines;
  }
  if ('unavailable' in statistics) {
    lines.push(
      `Could not be computed: ${statistics.unavailable.error} (${statistics.unavailable.cause ?? ''}).`,
      '',
    );
    return lines;
  }
  lines.push(
    `Every task of every flow over the last ${statistics.days} days (${statistics.since} to ${statistics.until}), from the executions’ history. A run is one entry into the task; retries are extra attempts within a run.`,
    '',
  );
  const rows: Cell[][] = [];
  for (const flow of statistics.flows) {
    if (flow.error) {
      rows.push([
        flow.flow,
        'could not be read',
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        flow.error.message,
      ]);
      continue;
    }
    if (flow.tasks.length === 0) {
      rows.push([flow.flow, `no executions`, 0, undefined, undefined, undefined, undefined, undefined]);
      continue;
    }
    for (const task of flow.tasks) {
      rows.push([
        flow.flow,
        task.task,
        task.runs,
        task.successes,
        task.failures,
        task.retries,
        duration(task.meanMs),
        duration(task.maxMs),
      ]);
    }
  }
  lines.push(...table(['Flow', 'Task', 'Runs', 'Succeeded', 'Failed', 'Retries', 'Mean', 'Max'], rows), '');
  const truncated = statistics.flows.filter((flow) => flow.truncated);
  if (truncated.length > 0) {
    lines.push(
      `Only the newest executions were read for ${truncated.map((flow) => flow.flow).join(', ')} (more ran in the period).`,
      '',
    );
  }
  const executions = statistics.flows.map((flow) => `${flow.flow} ${flow.executions}`).join(', ');
  lines.push(`Executions read: ${executions}.`, '');
  return lines;
}
