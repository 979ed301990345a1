/**
 * The drill's report for people: one block per flow run (outcome against the expected one,
 * duration, transitions, RTO/RPO for DR, data checks, alerts, denials), then a summary that says
 * in one line whether anything was lost. Pure: the report in, lines out.
 */
import type { DrillReport, ScenarioResult } from './run.ts';

const mark = (ok: boolean) => (ok ? '✔' : '✘');

function seconds(value: number): string {
  return value < 60 ? `${value.toFixed(1)} s` : `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
}

function scenarioLines(result: ScenarioResult): string[] {
  const lines = [
    `${mark(result.ok)} ${result.name} — ${result.flow}: ${result.outcome}${
      result.outcome === result.expected ? ' as expected' : ` (expected ${result.expected})`
    }, ${seconds(result.seconds)}, ${result.transitions} states entered`,
  ];
  if (result.error)
    lines.push(`    error: ${result.error}${result.cause ? `: ${oneLine(result.cause)}` : ''}`);
  if (result.injected > 0) lines.push(`    injected faults taken: ${result.injected}`);
  if (result.drill) {
    lines.push(
      `    RTO ${seconds(result.drill.rtoSeconds)} (time to recover), RPO ${seconds(result.drill.rpoSeconds)} (age of the recovery point)`,
    );
  }
  const failed = result.checks.filter((check) => !check.ok);
  lines.push(
    `    data: ${result.checks.length - failed.length}/${result.checks.length} checks passed${
      failed.length ? '' : ` (${result.checks.map((check) => check.name).join(', ')})`
    }`,
  );
  for (const check of failed) lines.push(`      ✘ ${check.name}: ${check.detail}`);
  const alertsOk = result.alerts.length === result.expectedAlerts;
  lines.push(
    `    alerts: ${result.alerts.length} (expected ${result.expectedAlerts})${alertsOk ? '' : ' ✘'}${
      result.alerts.length ? `: ${result.alerts.map((a) => a.subject).join(' | ')}` : ''
    }`,
  );
  lines.push(`    IAM denials: ${result.denials.length}${result.denials.length ? ' ✘' : ''}`);
  for (const denial of result.denials) lines.push(`      ✘ ${denial}`);
  lines.push(`    execution: ${result.executionArn}`);
  return lines;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}…` : flat;
}

/** `12 AWS::Events::Rule, 3 AWS::Logs::LogGroup`, most first, from `LogicalId (Type)` entries. */
function countByType(resources: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const resource of resources) {
    const type = /\(([^()]+)\)$/.exec(resource)?.[1] ?? resource;
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([type, count]) => `${count} ${type}`)
    .join(', ');
}

/** The report as text, ending with the verdict. */
export function renderDrillReport(report: DrillReport): string[] {
  const lines: string[] = [
    '',
    `Caretaker drill of ${report.stackName}${
      report.inject ? ` with ${report.inject.function} failing (${report.inject.mode})` : ''
    }: ${report.seeded.rows.toLocaleString('en-US')} rows and ${report.seeded.objects.toLocaleString('en-US')} objects seeded`,
    '',
  ];
  for (const result of report.scenarios) lines.push(...scenarioLines(result), '');
  for (const check of report.finalChecks) lines.push(`${mark(check.ok)} ${check.name}: ${check.detail}`);
  lines.push(
    `${mark(report.denials.length === 0)} IAM denials in the whole drill: ${report.denials.length}`,
    ...report.denials.map((denial) => `    ✘ ${denial}`),
  );
  if (report.notModelled.length) {
    lines.push(
      `Not modelled by the sandbox (listed, not deployed; each by name in --json): ${countByType(report.notModelled)}`,
    );
  }
  lines.push(
    `Time: ${seconds(report.seconds)} (${Object.entries(report.phases)
      .map(([name, value]) => `${name} ${seconds(value)}`)
      .join(', ')})`,
    '',
  );
  const failed = report.scenarios.filter((result) => !result.ok);
  lines.push(
    report.ok
      ? `✔ Drill passed: ${report.scenarios.length} flow runs ended as expected, no data lost, one alert per incident, no IAM denial.`
      : `✘ Drill FAILED: ${failed.length ? failed.map((result) => result.name).join('; ') : 'final checks or denials'} (see above).`,
  );
  return lines;
}
