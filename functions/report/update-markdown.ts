/**
 * The Update section of the Markdown report: what was asked, the rollback point, whether the
 * change was applied, health before and after, what the rollback did, the writes a restore could
 * not keep and the commands to finish by hand. Pure.
 */
import { FAILED_UPDATE_KIND, TAG } from '#common/caretaker-tags';
import { type UpdateSection, updateSubject } from './update-findings.ts';

const OUTCOME_TITLES: Readonly<Record<UpdateSection['outcome'], string>> = {
  succeeded: 'applied and healthy',
  aborted: 'not started, nothing changed',
  'nothing-to-roll-back': 'failed before it took effect, nothing to roll back',
  'rolled-back': 'failed and rolled back',
  'rollback-refused': 'failed, NOT rolled back (changed by someone else)',
  'rollback-failed': 'failed, and the rollback failed',
};

type HealthRun = NonNullable<UpdateSection['health']['before']>;

function cell(text: string | undefined): string {
  if (text === undefined || text === '') return '–';
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function rollbackPointLines(update: UpdateSection): string[] {
  const point = update.rollbackPoint;
  if (!point) return ['- Rollback point: none taken'];
  if (update.kind === 'lambda') {
    return [
      `- Rollback point: alias at ${point.alias ?? `version ${point.originalVersion ?? '?'}`} (${point.takenAt})`,
    ];
  }
  const settings = point.settings;
  const parts = settings
    ? [
        settings.engineVersion ? `engine ${settings.engineVersion}` : '',
        settings.parameterGroup ? `parameter group ${settings.parameterGroup}` : '',
        ...settings.members.map((m) => `${m.identifier} ${m.instanceClass ?? '?'}`),
      ].filter(Boolean)
    : [];
  return [
    `- Rollback point: ${point.snapshotIdentifier ? `snapshot \`${point.snapshotIdentifier}\`` : 'settings only'}, taken at ${point.takenAt}${parts.length ? `; settings: ${parts.join(', ')}` : ''}`,
  ];
}

function appliedLine(update: UpdateSection): string {
  if (!update.applied) return '- Applied: no';
  const weight = update.lastChange?.weight;
  return update.kind === 'lambda' && typeof weight === 'number'
    ? `- Applied: yes (the alias reached ${weight} % on version ${update.request.targetVersion ?? '?'})`
    : '- Applied: yes';
}

function healthTable(update: UpdateSection): string[] {
  const runs: [string, HealthRun | null | undefined][] = [
    ['Before', update.health.before],
    ['After', update.health.after],
    ['After rollback', update.health.afterRollback],
  ];
  const shown = runs.filter(([, run]) => run);
  if (shown.length === 0) return [];
  const names = [...new Set(shown.flatMap(([, run]) => run!.checks.map((check) => check.name)))];
  const statusOf = (run: HealthRun | null | undefined, name: string) =>
    run?.checks.find((check) => check.name === name)?.status;
  return [
    `Health: ${shown.map(([label, run]) => `${label.toLowerCase()} ${run!.status}`).join(' → ')}.`,
    '',
    `| Check | ${shown.map(([label]) => label).join(' | ')} |`,
    `| --- | ${shown.map(() => '---').join(' | ')} |`,
    ...names.map(
      (name) => `| ${cell(name)} | ${shown.map(([, run]) => cell(statusOf(run, name))).join(' | ')} |`,
    ),
    '',
    ...shown.flatMap(([label, run]) =>
      run!.checks
        .filter((check) => check.status !== 'pass')
        .map((check) => `- ${label}: ${check.name}: ${check.summary}`),
    ),
  ];
}

function rollbackLines(update: UpdateSection): string[] {
  const rollback = update.rollback;
  if (!rollback) return [];
  const lines = [`### Rollback (${rollback.method}): ${rollback.status}`, ''];
  for (const change of rollback.changed) lines.push(`- Undid: ${change}`);
  for (const conflict of rollback.conflicts) lines.push(`- Changed by someone else: ${conflict}`);
  if (rollback.restoredIdentifier) lines.push(`- Restored copy: \`${rollback.restoredIdentifier}\``);
  if (rollback.parkedIdentifier) {
    lines.push(
      `- Failed update parked as \`${rollback.parkedIdentifier}\` (tagged ${TAG.kind}=${FAILED_UPDATE_KIND}, never deleted by Caretaker)`,
    );
  }
  if (rollback.writeLossWindow) {
    lines.push(
      `- **Writes not kept by the restore:** from ${rollback.writeLossWindow.from} to ${rollback.writeLossWindow.to}; they are only in \`${rollback.parkedIdentifier ?? 'the parked instance'}\``,
    );
  }
  if (rollback.error) {
    lines.push(
      `- Failed at ${rollback.error.step}: ${rollback.error.error}${rollback.error.cause ? ` (${rollback.error.cause})` : ''}`,
    );
  }
  if (rollback.manualCommands.length > 0) {
    lines.push('', 'By hand:', '', '```sh', ...rollback.manualCommands, '```');
  }
  lines.push('');
  return lines;
}

/** The `## Update` section of the report. */
export function renderUpdate(update: UpdateSection): string[] {
  const { request } = update;
  const how =
    update.kind === 'lambda'
      ? `canary steps ${(request.steps ?? []).join(', ')} % with ${request.bakeMinutes ?? '?'} min bake each`
      : `stabilisation ${request.stabilizationMinutes ?? '?'} min`;
  const lines = [
    `## Update: ${OUTCOME_TITLES[update.outcome]}`,
    '',
    `- Asked: ${updateSubject(update)}; ${how}; health checks: ${request.healthChecks.join(', ') || 'none'}`,
    ...rollbackPointLines(update),
    appliedLine(update),
  ];
  if (update.failure) {
    lines.push(
      `- Failed at: ${update.failure.step}: ${update.failure.error}${update.failure.cause ? ` (${update.failure.cause})` : ''}`,
    );
  }
  lines.push('');
  const health = healthTable(update);
  if (health.length) lines.push(...health, '');
  lines.push(...rollbackLines(update));
  return lines;
}
