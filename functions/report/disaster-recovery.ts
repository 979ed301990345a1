/**
 * The DisasterRecovery part of a report: RTO and RPO from what the run recorded, the findings a
 * person must act on (what failed, what was rolled back, what is left to do by hand) and the
 * Markdown section. Pure.
 *
 * - RTO: execution start → the last restored resource verified (a database's health check
 *   finished, a backup set's restore — which checks every object — completed).
 * - RPO: the age, at the execution's start, of the oldest recovery point used (the data lost if
 *   this had been a real disaster is bounded by the worst one).
 */

import { TAG } from '#common/contract';
import type { Finding } from './findings.ts';
import type { DisasterRecoverySection, RunRecord } from './run-record.ts';

type Drill = NonNullable<RunRecord['drill']>;

export interface RecoveryTimes {
  /** When the last restored resource was verified. */
  readonly verifiedAt: string;
  readonly rtoSeconds: number;
  readonly rpoSeconds: number;
}

const seconds = (ms: number) => Math.max(0, Math.round(ms / 1000));

/** RTO and RPO of a run that restored and verified everything; undefined before that. */
export function recoveryTimes(
  section: DisasterRecoverySection,
  startedAt: string,
): RecoveryTimes | undefined {
  const { restored, chosen } = section;
  if (!restored || !chosen) return undefined;
  const verified = [
    ...restored.databases.map(
      (db) => Date.parse(db.verification.checkedAt ?? startedAt) + db.verification.durationMs,
    ),
    ...restored.backups.map((backup) => Date.parse(backup.completedAt)),
  ];
  const points = [...chosen.databases, ...chosen.backups].map((entry) => Date.parse(entry.point.createdAt));
  if (verified.length === 0 || points.length === 0) return undefined;
  const start = Date.parse(startedAt);
  const verifiedAt = Math.max(...verified);
  return {
    verifiedAt: new Date(verifiedAt).toISOString(),
    rtoSeconds: seconds(verifiedAt - start),
    rpoSeconds: seconds(start - Math.min(...points)),
  };
}

function pointId(entry: { point: { snapshotIdentifier?: string; backupId?: string } }): string {
  return entry.point.snapshotIdentifier ?? entry.point.backupId ?? '?';
}

/** The `drill` section (RTO/RPO published as DrillRtoSeconds/DrillRpoSeconds) of a drill that got verified. */
export function drillFigures(record: RunRecord): Drill | undefined {
  const section = record.disasterRecovery;
  if (section?.mode !== 'drill') return undefined;
  const times = recoveryTimes(section, record.startedAt);
  if (!times) return undefined;
  const chosen = section.chosen!;
  const removal = section.removal;
  return {
    rtoSeconds: times.rtoSeconds,
    rpoSeconds: times.rpoSeconds,
    rtoTargetSeconds: section.objectives.rtoSeconds,
    rpoTargetSeconds: section.objectives.rpoSeconds,
    recoveryPoint: [
      ...chosen.databases.map((db) => `${db.target}: ${pointId(db)}`),
      ...chosen.backups.map((set) => `${set.set}: ${pointId(set)}`),
    ].join(', '),
    ...(section.teardown
      ? {
          tornDown:
            removal !== null && [...removal.databases, ...removal.backups].every((item) => item.removed),
        }
      : {}),
  };
}

/**
 * The record with what the report measures from `disasterRecovery`: its `measured` RTO/RPO (any
 * mode) and, for a drill, the `drill` section (unless the record has one already).
 */
export function withDrillFigures(record: RunRecord): RunRecord {
  const section = record.disasterRecovery;
  if (!section) return record;
  const measured = recoveryTimes(section, record.startedAt);
  const drill = record.drill ?? drillFigures(record);
  return {
    ...record,
    disasterRecovery: { ...section, ...(measured ? { measured } : {}) },
    ...(drill ? { drill } : {}),
  };
}

/** The message of a Step Functions error cause (a Lambda error document), else the cause itself. */
export function causeText(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: a Fail state's cause, already plain text.
  }
  return cause;
}

function deleteCommand(db: { identifier: string; region: string | null }): string {
  const region = db.region ? ` --region ${db.region}` : '';
  return `aws rds delete-db-instance --db-instance-identifier ${db.identifier} --skip-final-snapshot${region} (a cluster: delete its instances, then aws rds delete-db-cluster --db-cluster-identifier ${db.identifier} --skip-final-snapshot)`;
}

/** What the rollback did, in one sentence (or what it could not do). */
function rolledBackText(section: DisasterRecoverySection): string {
  if (!section.chosen) return 'Nothing had been restored, so nothing was rolled back.';
  const removal = section.removal;
  if (!removal) return 'The rollback did not run: check for restored copies by hand.';
  const parts: string[] = [];
  const undone = removal.databases.filter((db) => db.switchOverUndone).map((db) => db.target);
  if (undone.length) parts.push(`undid the switch-over of ${undone.join(', ')} (the originals serve again)`);
  const deleted = removal.databases.filter((db) => db.removed).map((db) => db.identifier);
  if (deleted.length) parts.push(`deleted the restored copies ${deleted.join(', ')}`);
  const sets = removal.backups.filter((set) => set.removed);
  if (sets.length) {
    parts.push(
      `removed the restored objects of ${sets
        .map((set) => `${set.set} (${set.deleted ?? 0} deleted, ${set.putBack ?? 0} put back)`)
        .join(', ')}`,
    );
  }
  const left = [...removal.databases, ...removal.backups].filter((item) => !item.removed).length;
  return `Rolled back: ${parts.join('; ') || 'nothing needed removing'}.${left ? ` ${left} item(s) could not be removed: see below.` : ''} The original databases were not modified${section.switchOverStarted ? ' (except by the switch-over renames, undone above)' : ''}.`;
}

/** What to do after a failed run, by the step that failed. */
function failureAction(section: DisasterRecoverySection): string {
  const step = section.failure?.step;
  const again =
    section.mode === 'failover'
      ? 'start the failover again (same input) once the cause is fixed'
      : 'the next drill runs on schedule; start one by hand once the cause is fixed';
  switch (step) {
    case 'ChooseRecoveryPoints':
      return `No usable recovery point was found (or a named one was refused): check that snapshots and verified backups exist${section.region ? ` in ${section.region}` : ''}, then ${again}.`;
    case 'Restore':
      return `A restore or its verification failed: read the error (the restored copy's health, a backup's integrity), fix it, then ${again}.`;
    case 'SwitchOver':
      return `The switch-over failed and was undone: check both instances' states and RDS events, then ${again}.`;
    case 'RecheckHealth':
      return `After the switch-over the configured health checks failed, so the failover was undone and the originals serve again: find out why the restored data did not pass, then ${again}.`;
    default:
      return `Read the error, fix the cause, then ${again}.`;
  }
}

/** The failures and warnings of a DisasterRecovery run. */
export function disasterRecoveryFindings(record: RunRecord): { failures: Finding[]; warnings: Finding[] } {
  const section = record.disasterRecovery;
  const failures: Finding[] = [];
  const warnings: Finding[] = [];
  if (!section) return { failures, warnings };
  const run = `${section.mode} ${record.executionArn ?? record.executionId ?? ''}`.trim();

  if (section.failure) {
    const { step, error, cause } = section.failure;
    failures.push({
      what: `Disaster recovery (${section.mode}) failed at ${step}: ${error}${cause ? `: ${causeText(cause)}` : ''}. ${rolledBackText(section)}`,
      where: run,
      action: failureAction(section),
    });
  }

  for (const db of section.removal?.databases ?? []) {
    if (db.removed) continue;
    const error = db.error ? `: ${db.error.name ?? 'Error'}: ${causeText(db.error.message)}` : '';
    failures.push({
      what: `Restored copy ${db.identifier} of ${db.target} could not be removed${error}`,
      where: `RDS ${db.region ?? 'stack region'} ${db.identifier}`,
      action: section.switchOverStarted
        ? `First undo the switch-over by hand if ${db.identifier} still holds the original's name (docs/flows/disaster-recovery.md, "If the flow itself fails"); then delete the copy: ${deleteCommand(db)}. Check first that it carries ${TAG.execution} of this run.`
        : `Delete it by hand once you have checked it carries ${TAG.execution} of this run: ${deleteCommand(db)}.`,
    });
  }
  for (const set of section.removal?.backups ?? []) {
    if (set.removed) continue;
    const error = set.error ? `: ${set.error.name ?? 'Error'}: ${causeText(set.error.message)}` : '';
    failures.push({
      what: `Restored objects of ${set.set} could not be removed${error}`,
      where: `s3://${set.target.bucket}/${set.target.prefix}`,
      action:
        'Invoke backup-restore with {"action": "teardown"} and this execution\'s set, target, id and start time (docs/flows/disaster-recovery.md): it removes only the objects tagged with this run\'s restore id and puts back what they replaced.',
    });
  }

  for (const entry of [...(section.chosen?.databases ?? []), ...(section.chosen?.backups ?? [])]) {
    const name = 'target' in entry ? `RDS target ${entry.target}` : `backup set ${entry.set}`;
    for (const skipped of entry.point.skipped) {
      if (skipped.kind !== 'integrity' && skipped.kind !== 'future') continue;
      warnings.push({
        what: `${skipped.id} of ${name} was passed over: ${skipped.why}`,
        where: name,
        action:
          'A recovery point that does not check out or is dated in the future is a sign of tampering (or a wrong clock): investigate who wrote it before trusting newer points.',
      });
    }
  }

  if (section.mode === 'failover' && !section.failure) {
    for (const moved of section.switchOver ?? []) {
      warnings.push({
        what: `Failed over ${moved.target}: ${moved.sourceIdentifier} now serves the restored data; the original is parked as ${moved.oldIdentifier}`,
        where: `RDS ${moved.sourceIdentifier}`,
        action: `Point nothing at ${moved.oldIdentifier}; keep it for investigation and delete it by hand (with a final snapshot) once satisfied. Data written to the original after the recovery point is only there.`,
      });
    }
    const times = recoveryTimes(section, record.startedAt);
    if (times && times.rpoSeconds > section.objectives.rpoSeconds) {
      warnings.push({
        what: `The failover's recovery point was ${Math.round(times.rpoSeconds / 60)} min old, over the RPO target of ${section.objectives.rpoSeconds / 60} min`,
        where: 'disaster recovery',
        action:
          'Writes newer than the recovery point are missing from the restored data: recover them from the parked original if it is readable.',
      });
    }
    if (times && times.rtoSeconds > section.objectives.rtoSeconds) {
      warnings.push({
        what: `The failover took ${Math.round(times.rtoSeconds / 60)} min to verify, over the RTO target of ${section.objectives.rtoSeconds / 60} min`,
        where: 'disaster recovery',
        action: 'Look at which restore took longest (instance class, snapshot size, data volume).',
      });
    }
  }
  return { failures, warnings };
}

function cell(text: string | number | boolean | undefined | null): string {
  if (text === undefined || text === null || text === '') return '–';
  return String(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(headers: string[], rows: (string | number | boolean | undefined | null)[][]): string[] {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

/** The report's "Disaster recovery" section. */
export function disasterRecoveryMarkdown(record: RunRecord): string[] {
  const section = record.disasterRecovery;
  if (!section) return [];
  const lines = [
    `## Disaster recovery: ${section.mode}`,
    '',
    `- Restored in: ${section.region ?? "the stack's region"}`,
  ];
  const times = recoveryTimes(section, record.startedAt);
  if (times) {
    lines.push(
      `- Verified at: ${times.verifiedAt} (RTO ${Math.round(times.rtoSeconds)} s, target ${section.objectives.rtoSeconds} s)`,
      `- Oldest recovery point used: ${Math.round(times.rpoSeconds)} s old at the start (RPO target ${section.objectives.rpoSeconds} s)`,
    );
  }
  if (section.failure) {
    lines.push(
      `- Failed at: ${section.failure.step} (${section.failure.error}: ${causeText(section.failure.cause)})`,
      `- ${rolledBackText(section)}`,
    );
  }
  if (section.mode === 'drill' && !section.teardown && !section.failure) {
    lines.push(
      '- Teardown is off (disasterRecovery.teardownAfterDrill): the restored copies were left in place.',
    );
  }
  lines.push('');
  if (section.chosen) {
    lines.push(
      '### Recovery points',
      '',
      ...table(
        ['Resource', 'Recovery point', 'Taken', 'Chosen', 'Why'],
        [
          ...section.chosen.databases.map((db) => [
            `RDS ${db.target}`,
            pointId(db),
            db.point.createdAt,
            db.point.source,
            db.point.reason,
          ]),
          ...section.chosen.backups.map((set) => [
            `backup set ${set.set}`,
            pointId(set),
            set.point.createdAt,
            set.point.source,
            set.point.reason,
          ]),
        ],
      ),
      '',
    );
  }
  if (section.restored) {
    lines.push(
      '### Restored and verified',
      '',
      ...table(
        ['Resource', 'Restored as', 'Verification'],
        [
          ...section.restored.databases.map((db) => [
            `RDS ${db.target} (${db.type})`,
            `${db.identifier} in ${db.region}`,
            `${db.verification.status}: ${db.verification.checks.map((c) => `${c.name} ${c.status}`).join(', ') || 'no checks'}`,
          ]),
          ...section.restored.backups.map((set) => [
            `backup set ${set.set}`,
            `s3://${set.target.bucket}/${set.target.prefix} (${set.objects} objects, restore ${set.restoreId})`,
            `every object read back and checked (${set.verified}), then checked again as written`,
          ]),
        ],
      ),
      '',
    );
  }
  if (section.switchOver) {
    lines.push(
      '### Switch-over',
      '',
      ...table(
        ['Target', 'Now serving', 'Original parked as'],
        section.switchOver.map((moved) => [moved.target, moved.sourceIdentifier, moved.oldIdentifier]),
      ),
      '',
    );
  }
  if (section.recheck) {
    lines.push(
      `### Health after the switch-over: ${section.recheck.status}`,
      '',
      ...table(
        ['Check', 'Kind', 'Status', 'Result'],
        section.recheck.checks.map((c) => [c.name, c.kind, c.status, c.summary]),
      ),
      '',
    );
  }
  if (section.removal) {
    lines.push(
      `### ${section.failure ? 'Rolled back' : 'Torn down'}`,
      '',
      ...table(
        ['Resource', 'Removed', 'Detail'],
        [
          ...section.removal.databases.map((db) => [
            `RDS ${db.identifier}`,
            db.removed ? 'yes' : 'NO',
            db.removed
              ? `${db.switchOverUndone ? 'switch-over undone, ' : ''}deleted`
              : `${db.error?.name ?? ''} ${causeText(db.error?.message)}`.trim(),
          ]),
          ...section.removal.backups.map((set) => [
            `s3://${set.target.bucket}/${set.target.prefix}`,
            set.removed ? 'yes' : 'NO',
            set.removed
              ? `${set.deleted ?? 0} deleted, ${set.putBack ?? 0} put back, ${set.kept ?? 0} left alone (not this run's)`
              : `${set.error?.name ?? ''} ${causeText(set.error?.message)}`.trim(),
          ]),
        ],
      ),
      '',
    );
  }
  return lines;
}
