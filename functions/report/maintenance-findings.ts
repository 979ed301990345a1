/**
 * What in the maintenance beyond backups needs a person (DESIGN §11): work the maintenance window
 * had no time for, storage about to run out, pending security patches and keys without rotation,
 * databases whose maintenance failed or that are bloated or busy with long queries. Pure; called
 * by findings.ts.
 */
import type {
  CapacityResult,
  SecurityResult,
  StatisticsResult,
} from '#common/maintenance/maintenance-results';
import type { Finding } from './findings.ts';
import type { RunRecord } from './run-record.ts';
import { unwrapError } from './step-error.ts';

const WINDOW_ACTION =
  'It is started again in the next window. If work is skipped night after night, lengthen maintenanceWindow.durationMinutes, move the routineMaintenance schedule to the window’s start, or lower maintenanceWindow.expectedMinutes if the estimate is too high.';

const errorText = (error?: { name: string; message: string }) => {
  if (!error) return '';
  const inner = unwrapError(error);
  return `${inner.name}: ${inner.message}`;
};

function unavailable(
  what: string,
  section: { unavailable: { step: string; error: string; cause?: string | undefined } },
): Finding {
  const inner = unwrapError({ name: section.unavailable.error, message: section.unavailable.cause ?? '' });
  return {
    what: `${what} could not be produced: ${inner.name}${inner.message ? ` (${inner.message})` : ''}`,
    where: `step ${section.unavailable.step}`,
    action: 'The rest of the run went on. If it keeps happening, read the step’s error in the execution.',
  };
}

/** Collects the failures and warnings of the maintenance sections of a run. */
export function maintenanceFindings(record: RunRecord): { failures: Finding[]; warnings: Finding[] } {
  const failures: Finding[] = [];
  const warnings: Finding[] = [];

  for (const backup of record.backups) {
    if (backup.status === 'skipped') {
      warnings.push({
        what: `Backup of ${backup.set} was not started: ${backup.skipped?.reason ?? 'no time left in the maintenance window'}`,
        where: `backup set ${backup.set}`,
        action: WINDOW_ACTION,
      });
    }
  }
  for (const snapshot of record.snapshots) {
    if (snapshot.status === 'skipped') {
      warnings.push({
        what: `Snapshot of ${snapshot.target} was not started: ${snapshot.skipped?.reason ?? 'no time left in the maintenance window'}`,
        where: `RDS target ${snapshot.target}`,
        action: WINDOW_ACTION,
      });
    }
  }

  if (record.capacity) {
    if ('unavailable' in record.capacity)
      warnings.push(unavailable('The capacity forecast', record.capacity));
    else capacityFindings(record.capacity, failures, warnings);
  }
  if (record.security) {
    if ('unavailable' in record.security)
      warnings.push(unavailable('The security maintenance report', record.security));
    else securityFindings(record.security, warnings);
  }
  for (const entry of record.databaseMaintenance ?? []) {
    const where = `database ${entry.database ?? '?'} of RDS target ${entry.target}`;
    if (entry.status === 'skipped') {
      warnings.push({
        what: `Database maintenance of ${entry.target} was not started: ${entry.skipped?.reason ?? 'no time left in the maintenance window'}`,
        where,
        action: WINDOW_ACTION,
      });
      continue;
    }
    if (entry.status === 'failed') {
      failures.push({
        what: `Database maintenance of ${entry.target} failed${entry.error ? `: ${errorText(entry.error)}` : ''}`,
        where,
        action:
          'Check that the database is reachable from the function and the user may connect (the query check’s settings and secret); ANALYZE needs ownership of the tables (or pg_maintain).',
      });
      continue;
    }
    if (entry.bloatedTables.length > 0) {
      warnings.push({
        what: `${entry.bloatedTables.length} bloated table${entry.bloatedTables.length === 1 ? '' : 's'} in ${entry.target}: ${entry.bloatedTables
          .slice(0, 3)
          .map((t) => `${t.table} (${t.deadPercent.toFixed(0)} % dead rows)`)
          .join(', ')}`,
        where,
        action:
          'Dead rows take space and slow scans: check autovacuum (long transactions hold it back), run VACUUM on them, or set vacuum: true for this database.',
      });
    }
    if (entry.invalidIndexes.length > 0) {
      warnings.push({
        what: `Invalid index${entry.invalidIndexes.length === 1 ? '' : 'es'} in ${entry.target}: ${entry.invalidIndexes.map((i) => i.index).join(', ')}`,
        where,
        action:
          'A failed CREATE INDEX CONCURRENTLY left them: drop and create them again (REINDEX INDEX CONCURRENTLY).',
      });
    }
    if (entry.longQueries.length > 0) {
      const longest = Math.max(...entry.longQueries.map((q) => q.seconds));
      warnings.push({
        what: `${entry.longQueries.length} long-running quer${entry.longQueries.length === 1 ? 'y' : 'ies'} in ${entry.target} (longest ${Math.round(longest)} s)`,
        where,
        action:
          'Look at the queries in the report; cancel what should not run (pg_cancel_backend) and find why the others are slow.',
      });
    }
  }
  if (record.statistics && 'unavailable' in record.statistics) {
    warnings.push(unavailable('The task statistics', record.statistics));
  } else if (record.statistics) {
    statisticsFindings(record.statistics, warnings);
  }
  return { failures, warnings };
}

function capacityFindings(capacity: CapacityResult, failures: Finding[], warnings: Finding[]): void {
  for (const target of capacity.targets) {
    const where = `RDS ${target.type} ${target.identifier} (target ${target.target})`;
    if (target.status === 'critical') {
      failures.push({
        what: `Storage of ${target.target} is predicted full in ${formatDays(target.daysUntilFull)}`,
        where,
        action:
          target.type === 'cluster'
            ? 'Aurora storage grows by itself up to its limit: find what grows (tables, logs, temporary files) and remove or archive data.'
            : 'Increase the allocated storage (or MaxAllocatedStorage for storage autoscaling) now, or free space; RDS stops writes when it is full.',
      });
    } else if (target.status === 'warning') {
      warnings.push({
        what: `Storage of ${target.target} is predicted full in ${formatDays(target.daysUntilFull)}`,
        where,
        action: 'Plan more storage (or a cleanup) before the critical threshold is reached.',
      });
    } else if (target.error) {
      warnings.push({
        what: `No storage forecast for ${target.target}: ${errorText(target.error)}`,
        where,
        action: 'Check the function’s access to CloudWatch metrics and the target; the next run tries again.',
      });
    }
  }
}

function securityFindings(security: SecurityResult, warnings: Finding[]): void {
  for (const entry of security.pendingMaintenance) {
    const where = `RDS ${entry.type} ${entry.identifier} (target ${entry.target})`;
    if (entry.error) {
      warnings.push({
        what: `Pending maintenance of ${entry.target} could not be read: ${errorText(entry.error)}`,
        where,
        action: 'Check the function’s access to RDS; the next run tries again.',
      });
      continue;
    }
    const patches = entry.actions.filter((action) => action.security);
    if (patches.length === 0) continue;
    const when = patches
      .map((p) => p.forcedApplyDate ?? p.autoAppliedAfter)
      .filter((date): date is string => date !== undefined)
      .sort()[0];
    warnings.push({
      what: `${patches.length} security patch${patches.length === 1 ? '' : 'es'} pending on ${entry.target}: ${patches.map((p) => p.action).join(', ')}${when ? ` (applied by AWS from ${when})` : ''}`,
      where,
      action: `Apply in the maintenance window after a rollback point: start the Update flow with {"rds": {"target": "${entry.target}", "change": {"pendingMaintenance": "security"}}} (health checked before and after, rolled back by restore if it fails; docs/flows/update.md). By hand: aws rds apply-pending-maintenance-action --resource-identifier ${entry.resourceArn ?? `<ARN of ${entry.identifier}>`} --apply-action ${patches[0]!.action} --opt-in-type immediate, after a snapshot.`,
    });
  }
  for (const key of security.keys) {
    if (key.error) {
      warnings.push({
        what: `The rotation of KMS key ${key.keyArn} could not be read: ${errorText(key.error)}`,
        where: `KMS key ${key.keyArn} (${key.role})`,
        action:
          'Check that the key exists and its key policy lets the function call kms:GetKeyRotationStatus.',
      });
    } else if (key.rotationEnabled === false) {
      warnings.push({
        what: `Automatic rotation is off for KMS key ${key.keyArn}`,
        where: `KMS key ${key.keyArn} (${key.role})`,
        action: `Turn it on: aws kms enable-key-rotation --key-id ${key.keyArn} --region ${key.region}`,
      });
    }
  }
}

function statisticsFindings(statistics: StatisticsResult, warnings: Finding[]): void {
  for (const flow of statistics.flows) {
    if (flow.error) {
      warnings.push({
        what: `Task statistics of ${flow.flow} could not be read: ${errorText(flow.error)}`,
        where: `state machine of ${flow.flow}`,
        action: 'Check the function’s access to the flow’s execution history; the next run tries again.',
      });
    }
  }
}

/** `12.4` → `12 days`; below one day in hours. */
export function formatDays(days: number | null | undefined): string {
  if (days === null || days === undefined) return 'never (not growing)';
  if (days < 1) return `${Math.max(0, Math.round(days * 24))} h`;
  const whole = Math.floor(days);
  return `${whole} day${whole === 1 ? '' : 's'}`;
}
