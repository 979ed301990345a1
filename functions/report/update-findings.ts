/**
 * What an Update run needs a person for, from its `update` section: a failure that says what
 * failed, what was rolled back (and how) and what to do; the writes a restore could not keep; a
 * rollback refused or failed, with the commands to finish by hand. Pure.
 */
import { FAILED_UPDATE_KIND, TAG } from '#common/caretaker-tags';
import type { Finding } from './findings.ts';
import type { RunRecord } from './run-record.ts';

export type UpdateSection = NonNullable<RunRecord['update']>;
type HealthRun = NonNullable<UpdateSection['health']['before']>;

/** `instance class → db.r6g.xlarge, engine version → 17.2` from an RDS change. */
function changeText(change: Record<string, unknown> | undefined): string {
  if (change?.pendingMaintenance === 'security') return 'pending security maintenance applied';
  if (change?.pendingMaintenance === 'all') return 'all pending maintenance applied';
  const labels: [string, string][] = [
    ['engineVersion', 'engine version'],
    ['instanceClass', 'instance class'],
    ['parameterGroup', 'parameter group'],
  ];
  return labels
    .filter(([key]) => typeof change?.[key] === 'string')
    .map(([key, label]) => `${label} → ${String(change?.[key])}`)
    .join(', ');
}

/** What the update was about, in one phrase. */
export function updateSubject(update: UpdateSection): string {
  const { request } = update;
  if (update.kind === 'lambda') {
    return `alias ${request.alias ?? '?'} of ${request.target} → version ${request.targetVersion ?? '?'}`;
  }
  return `RDS ${request.type ?? 'instance'} ${request.identifier ?? request.target} (target ${request.target}): ${changeText(request.change)}`;
}

/** Where the update happened: the database or the function. */
function updateWhere(update: UpdateSection): string {
  const { request } = update;
  return update.kind === 'lambda'
    ? `Lambda function ${request.target}, alias ${request.alias ?? '?'}`
    : `RDS ${request.type ?? 'instance'} ${request.identifier ?? request.target}`;
}

/** The failing (and degraded) checks of a health run, in a few words. */
export function problemsOf(health: HealthRun | null | undefined): string {
  const bad = (health?.checks ?? []).filter((check) => check.status !== 'pass');
  return bad.map((check) => `${check.name}: ${check.summary}`).join('; ');
}

function failedStep(update: UpdateSection): string {
  const failure = update.failure;
  if (!failure) return 'an unknown step';
  return `${failure.step} (${failure.error}${failure.cause ? `: ${failure.cause}` : ''})`;
}

/** How the rollback went back, in words. */
function rolledBackHow(update: UpdateSection): string {
  const rollback = update.rollback;
  if (!rollback) return '';
  const undid = rollback.changed.length ? ` (undid: ${rollback.changed.join('; ')})` : '';
  switch (rollback.method) {
    case 'in-place':
      return `in place${undid}`;
    case 'alias':
      return `by pointing the alias back at version ${update.rollbackPoint?.originalVersion ?? '?'}${undid}`;
    case 'restore':
      return `by restoring the rollback snapshot ${rollback.snapshotIdentifier ?? update.rollbackPoint?.snapshotIdentifier ?? '?'} and switching over; the failed update is parked as ${rollback.parkedIdentifier ?? '?'}${undid}`;
  }
}

function manual(commands: readonly string[]): string {
  return commands.length ? ` By hand: ${commands.map((command) => `\`${command}\``).join(' then ')}.` : '';
}

/** What to do when the rollback itself failed, by method. */
function finishByHand(update: UpdateSection): string {
  const rollback = update.rollback!;
  const id = update.request.identifier ?? update.request.target;
  if (rollback.method === 'restore') {
    return `The updated database may still serve ${id}${rollback.restoredIdentifier ? `, and the restored copy ${rollback.restoredIdentifier} may exist (not deleted)` : ''}. Finish the restore and switch-over by hand as docs/flows/update.md ("If the flow itself fails") describes, then check health.${manual(rollback.manualCommands)}`;
  }
  return `Put the rollback point back by hand, then check health.${manual(rollback.manualCommands)}`;
}

/** The failures and warnings of an Update run. */
export function updateFindings(update: UpdateSection): { failures: Finding[]; warnings: Finding[] } {
  const failures: Finding[] = [];
  const warnings: Finding[] = [];
  const subject = updateSubject(update);
  const where = updateWhere(update);
  const rollback = update.rollback;

  switch (update.outcome) {
    case 'succeeded':
      break;
    case 'aborted': {
      const unhealthy = update.failure?.step === 'PreUpdateHealth';
      failures.push({
        what: unhealthy
          ? `Update not started (${subject}): health before the update is ${update.health.before?.status ?? 'unhealthy'}${problemsOf(update.health.before) ? ` (${problemsOf(update.health.before)})` : ''}`
          : `Update not started (${subject}): ${failedStep(update)} failed before the rollback point was complete`,
        where,
        action: unhealthy
          ? 'Nothing was changed. Restore health first (the failing checks are in the report), then start the update again.'
          : 'Nothing was changed. Fix the cause, then start the update again.',
      });
      break;
    }
    case 'nothing-to-roll-back':
      failures.push({
        what: `Update failed (${subject}) at ${failedStep(update)}; none of it had taken effect, so nothing was rolled back`,
        where,
        action:
          'Nothing was changed. Fix the cause (the error above says what RDS or Lambda refused), then start the update again.',
      });
      break;
    case 'rolled-back':
      failures.push({
        what: `Update failed (${subject}) at ${failedStep(update)} and was rolled back ${rolledBackHow(update)}`,
        where,
        action:
          rollback?.method === 'restore'
            ? `The database runs from the rollback point again. The failed update ${rollback.parkedIdentifier ?? ''} is kept, renamed and tagged ${TAG.kind}=${FAILED_UPDATE_KIND} (Caretaker never deletes it): find out why the update failed (health after the update is in the report) before trying again.`
            : 'The rollback point is back. Find out why the update failed (health after the update is in the report) before trying again.',
      });
      if (rollback?.writeLossWindow) {
        const { from, to } = rollback.writeLossWindow;
        failures.push({
          what: `Writes to ${update.request.identifier ?? update.request.target} between ${from} and ${to} are not in the restored database`,
          where: `parked instance ${rollback.parkedIdentifier ?? '?'}`,
          action: `They are still in ${rollback.parkedIdentifier ?? 'the parked instance'}: compare it with ${update.request.identifier ?? update.request.target} and replay what is missing, then delete it by hand with a final snapshot once nothing in it is needed.`,
        });
      }
      break;
    case 'rollback-refused':
      failures.push({
        what: `Update failed (${subject}) at ${failedStep(update)} and was NOT rolled back: someone else changed it meanwhile (${rollback?.conflicts.join('; ') || 'see the report'})`,
        where,
        action: `Nothing was overwritten. Agree with whoever changed it what it should be.${manual(rollback?.manualCommands ?? [])}`,
      });
      break;
    case 'rollback-failed':
      failures.push({
        what: `Update failed (${subject}) at ${failedStep(update)}, and its rollback (${rollback?.method ?? '?'}) failed at ${rollback?.error ? `${rollback.error.step} (${rollback.error.error}${rollback.error.cause ? `: ${rollback.error.cause}` : ''})` : 'an unknown step'}`,
        where,
        action: rollback ? finishByHand(update) : 'Put the rollback point back by hand, then check health.',
      });
      break;
  }

  const afterRollback = update.health.afterRollback;
  if (afterRollback && afterRollback.status === 'unhealthy') {
    failures.push({
      what: `Health after the rollback is still unhealthy (${problemsOf(afterRollback)})`,
      where,
      action: 'The rollback did not bring health back, so the cause may not be the update: investigate now.',
    });
  }
  if (update.outcome === 'succeeded') {
    for (const check of update.health.after?.checks ?? []) {
      if (check.status === 'pass') continue;
      warnings.push({
        what: `Health check ${check.name} (${check.kind}) after the update: ${check.summary}`,
        where: check.name,
        action:
          'The update stayed within its health bounds, but look at this check before it becomes an outage.',
      });
    }
  }
  return { failures, warnings };
}
