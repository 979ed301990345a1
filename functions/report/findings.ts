/**
 * What in a run needs a person: failures (something did not happen) and warnings (it happened,
 * but something is close to going wrong). Pure.
 */
import type { FlowName, Severity } from '#common/alerts/alert-schema';
import { describeTampering, type TamperFinding, type TamperKind } from '#common/backup/tampering';
import { disasterRecoveryFindings } from './disaster-recovery.ts';
import { maintenanceFindings } from './maintenance-findings.ts';
import type { RunRecord } from './run-record.ts';
import { unwrapError } from './step-error.ts';
import { updateFindings } from './update-findings.ts';

export interface Finding {
  /** What happened, one line. */
  readonly what: string;
  /** Where: the resource it concerns. */
  readonly where: string;
  /** What to do about it. */
  readonly action: string;
}

export interface Findings {
  readonly failures: readonly Finding[];
  readonly warnings: readonly Finding[];
  /** critical when anything failed, warning when anything is close, info otherwise. */
  readonly severity: Severity;
}

const errorText = (error?: { name: string; message: string }) => {
  if (!error) return '';
  const inner = unwrapError(error);
  return `${inner.name}: ${inner.message}`;
};

/** ` (execution <arn>)` when the error came from a nested execution. */
const childExecution = (error?: { name: string; message: string }) => {
  const execution = error ? unwrapError(error).execution : undefined;
  return execution ? ` (execution ${execution})` : '';
};

/**
 * Flows whose health step only observes: routine maintenance records the configured checks for
 * its report, but a failing check is the health alarms' incident (they alert on it once, from the
 * scheduled checks), so here it is a warning and does not fail the run.
 */
const HEALTH_OBSERVED_BY: ReadonlySet<FlowName> = new Set(['RoutineMaintenance']);

/** Collects the failures and warnings of a run, in the order the report lists them. */
export function findings(record: RunRecord): Findings {
  const failures: Finding[] = [];
  const warnings: Finding[] = [];

  for (const failure of record.failures) {
    const inner = unwrapError({ name: failure.error, message: failure.cause ?? '' });
    failures.push({
      what: `Step ${failure.step} failed: ${inner.name}${inner.message ? ` (${inner.message})` : ''}`,
      where: `${record.flow} execution ${record.executionId ?? record.executionArn ?? ''}`.trim(),
      action:
        'Open the execution, read the failed step’s input and error, fix the cause and re-run the flow.',
    });
  }

  for (const check of record.health?.checks ?? []) {
    const finding = {
      what: `Health check ${check.name} (${check.kind}): ${check.summary}`,
      where: check.name,
    };
    if (check.status === 'fail' && HEALTH_OBSERVED_BY.has(record.flow)) {
      warnings.push({
        ...finding,
        action:
          'The health alarms alert on this check from its schedule; restore service first. This run went on regardless.',
      });
    } else if (check.status === 'fail') {
      failures.push({
        ...finding,
        action: 'Restore service first; the evidence in the JSON report has the measured values.',
      });
    } else if (check.status === 'warn') {
      warnings.push({
        ...finding,
        action:
          check.kind === 'tls'
            ? 'Renew the certificate before it expires.'
            : 'Look at the measured value against its threshold before it becomes an outage.',
      });
    }
  }

  for (const step of record.unavailable) {
    const inner = unwrapError({ name: step.error, message: step.cause ?? '' });
    warnings.push({
      what: `Step ${step.step} could not run: ${inner.name}${inner.message ? ` (${inner.message})` : ''}`,
      where: `${record.flow} execution ${record.executionId ?? record.executionArn ?? ''}`.trim(),
      action: 'The run went on without it. If it keeps happening, read the step’s error in the execution.',
    });
  }

  for (const backup of record.backups) {
    const where = `backup set ${backup.set}${backup.backupId ? ` (backup ${backup.backupId})` : ''}`;
    if (backup.status === 'failed') {
      failures.push({
        what: `Backup of ${backup.set} failed${backup.error ? `: ${errorText(backup.error)}` : ''}`,
        where: `${where}${childExecution(backup.error)}`,
        action: 'Fix the cause and start a backup by hand; until then the RPO clock keeps running.',
      });
    } else if (backup.verification && !backup.verification.ok) {
      failures.push({
        what: `Verification of backup ${backup.backupId ?? ''} failed: ${errorText(backup.verification.error)}`.trim(),
        where,
        action:
          'Do not rely on this backup: investigate the named object (tampering or corruption) and take a new full backup.',
      });
    }
  }

  for (const snapshot of record.snapshots) {
    const where = `RDS target ${snapshot.target}${snapshot.snapshotId ? ` (snapshot ${snapshot.snapshotId})` : ''}`;
    if (snapshot.status === 'failed') {
      failures.push({
        what: `Snapshot of ${snapshot.target} failed${snapshot.error ? `: ${errorText(snapshot.error)}` : ''}`,
        where,
        action: 'Check the instance state and RDS events, then take a snapshot by hand.',
      });
    }
    if (snapshot.copy?.error || snapshot.copy?.status === 'failed') {
      failures.push({
        what: `Copy of ${snapshot.snapshotId ?? snapshot.target} to ${snapshot.copy.region} failed${snapshot.copy.error ? `: ${errorText(snapshot.copy.error)}` : ''}`,
        where,
        action:
          'Check the DR key policy (the copy needs kms:CreateGrant and Decrypt/Encrypt) and copy the snapshot again.',
      });
    }
    const quota = snapshot.quota;
    if (quota && quota.used * 100 >= quota.limit * quota.warnPercent) {
      warnings.push({
        what: `Manual snapshots at ${quota.used} of ${quota.limit} (${Math.round((quota.used * 100) / quota.limit)} %)`,
        where: `RDS manual snapshots of the region of ${snapshot.target}`,
        action: 'Tighten retention or request a quota increase before snapshots start failing.',
      });
    }
  }

  for (const target of record.cleanup?.targets ?? []) {
    const where = `${target.resource === 'backups' ? 'backups of set' : 'snapshots of RDS target'} ${target.name}${target.region ? ` in ${target.region}` : ''}`;
    if (target.tamperingCount) {
      failures.push({
        what: `Tampering in the backup bucket: ${describeTampering(
          (target.tampering ?? []).map((t) => ({ ...t, kind: t.kind as TamperKind }) as TamperFinding),
          target.tamperingCount,
          5,
        )}`,
        where,
        action:
          'Nothing forged was used for a decision or deleted. Find who wrote these objects (S3 server access logs, CloudTrail data events), revoke that access, then remove them; if the newest backups are gone, restore their versions (the bucket is versioned) and take a new backup (docs/security.md).',
      });
    }
    if (target.status === 'failed' || target.status === 'refused') {
      failures.push({
        what: `Cleanup of ${where} ${target.status === 'refused' ? 'refused to act' : 'failed'}${target.reason ? `: ${target.reason}` : ''}`,
        where,
        action:
          target.status === 'refused'
            ? 'Nothing was deleted. Check why the inventory is empty (permissions, region, a renamed target).'
            : 'Check permissions and the resource state; the next cleanup retries.',
      });
    } else if (target.status === 'incomplete') {
      warnings.push({
        what: `Cleanup of ${where} did not finish${target.reason ? `: ${target.reason}` : ''}`,
        where,
        action: 'The next cleanup continues where this one stopped; start one by hand if space is short.',
      });
    }
  }

  const maintenance = maintenanceFindings(record);
  failures.push(...maintenance.failures);
  warnings.push(...maintenance.warnings);

  const recovery = disasterRecoveryFindings(record);
  failures.push(...recovery.failures);
  warnings.push(...recovery.warnings);

  const drill = record.drill;
  if (drill) {
    if (drill.rtoTargetSeconds !== undefined && drill.rtoSeconds > drill.rtoTargetSeconds) {
      warnings.push({
        what: `DR drill recovery took ${formatSeconds(drill.rtoSeconds)}, over the RTO target of ${formatSeconds(drill.rtoTargetSeconds)}`,
        where: 'disaster recovery',
        action: 'Look at which restore step took longest (instance class, snapshot size, data volume).',
      });
    }
    if (drill.rpoTargetSeconds !== undefined && drill.rpoSeconds > drill.rpoTargetSeconds) {
      warnings.push({
        what: `DR drill recovery point was ${formatSeconds(drill.rpoSeconds)} old, over the RPO target of ${formatSeconds(drill.rpoTargetSeconds)}`,
        where: 'disaster recovery',
        action: 'Take snapshots and backups more often, or check why recent ones were not usable.',
      });
    }
  }

  if (record.update) {
    const update = updateFindings(record.update);
    failures.push(...update.failures);
    warnings.push(...update.warnings);
  }

  const severity: Severity = failures.length > 0 ? 'critical' : warnings.length > 0 ? 'warning' : 'info';
  return { failures, warnings, severity };
}

/** The outcome in a few words: `everything succeeded`, or `2 failures, 1 warning`. */
export function outcomeText({ failures, warnings }: Pick<Findings, 'failures' | 'warnings'>): string {
  if (failures.length === 0 && warnings.length === 0) return 'everything succeeded';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    failures.length ? plural(failures.length, 'failure') : '',
    warnings.length ? plural(warnings.length, 'warning') : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** `3725` → `1 h 2 min 5 s`. */
export function formatSeconds(seconds: number): string {
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = [h ? `${h} h` : '', m ? `${m} min` : '', s || (!h && !m) ? `${s} s` : ''];
  return parts.filter(Boolean).join(' ');
}

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
