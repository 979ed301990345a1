/**
 * Escalation of unresolved critical incidents (DESIGN §11), pure. Level 1 is told at once (its
 * subscriptions take every critical alert); when an incident is still open after level 1's time,
 * level 2 is paged; after level 2's time, level 3; and so on: one message per level, never again
 * for a level once its message went out. Times count from when the incident's first alert went
 * out. A report that resolves the incident closes it, which stops the escalation.
 */
import type { Alert } from '#common/alerts/alert-schema';
import type { Incident, IncidentState } from '../report/incident.ts';

/** One escalation level: how long it has before the next one is paged. */
export interface EscalationLevel {
  readonly respondWithinMinutes: number;
}

/** When each level from 2 on is due for an incident whose first alert went out at `start`. */
export function dueTimes(
  start: number,
  levels: readonly EscalationLevel[],
): { level: number; dueAt: number }[] {
  const due: { level: number; dueAt: number }[] = [];
  let at = start;
  for (let i = 0; i < levels.length - 1; i++) {
    at += levels[i]!.respondWithinMinutes * 60_000;
    due.push({ level: i + 2, dueAt: at });
  }
  return due;
}

/** When the incident's escalation clock starts: its first alert (the opening run's start for older states). */
export function escalationStart(incident: Incident): number {
  return Date.parse(incident.reportedAt ?? incident.openedAt);
}

/**
 * The level to page now, if any: the lowest level that is due and whose message has not gone out
 * (recorded but unpublished counts as not gone out: the publish is retried). Levels are paged one
 * per call, in order, so an escalation run that comes late does not send a burst.
 */
export function levelToPage(
  incident: Incident,
  levels: readonly EscalationLevel[],
  now: number,
): { level: number; dueAt: number; retry: boolean } | undefined {
  for (const due of dueTimes(escalationStart(incident), levels)) {
    if (now < due.dueAt) return undefined;
    const paged = incident.escalations?.find((e) => e.level === due.level);
    if (!paged) return { ...due, retry: false };
    if (paged.messageId === undefined) return { ...due, retry: true };
  }
  return undefined;
}

/** The state with `level` recorded as paged at `now` (replacing an unpublished record of it). */
export function withPaged(state: IncidentState, level: number, now: Date): IncidentState {
  const open = state.open!;
  const others = (open.escalations ?? []).filter((e) => e.level !== level);
  return {
    ...state,
    open: {
      ...open,
      escalations: [...others, { level, at: now.toISOString() }].sort((a, b) => a.level - b.level),
    },
  };
}

/** The state with `level`'s message id recorded, if the incident is still the same one. */
export function withPublishedLevel(
  state: IncidentState,
  incident: Incident,
  level: number,
  messageId: string,
): IncidentState | undefined {
  const open = state.open;
  if (!open || open.openedBy !== incident.openedBy) return undefined;
  return {
    ...state,
    open: {
      ...open,
      escalations: (open.escalations ?? []).map((e) => (e.level === level ? { ...e, messageId } : e)),
    },
  };
}

const EXECUTION_ARN = /^arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[\w-]+:[\w.-]+$/;

/** The escalation alert paging `level` about `incident` of `flow`. */
export function escalationAlert(
  flow: IncidentState['flow'],
  incident: Incident,
  level: number,
  levels: readonly EscalationLevel[],
  now: Date,
): Alert {
  const since = escalationStart(incident);
  const minutes = Math.round((now.getTime() - since) / 60_000);
  const previous = levels[level - 2]!;
  const next = dueTimes(since, levels).find((due) => due.level === level + 1);
  return {
    severity: 'critical',
    flow,
    summary: `Escalated to level ${level}: incident unresolved for ${minutes} min`,
    where: `the ${flow} incident opened by ${incident.openedBy} (started ${incident.openedAt})`,
    action: `Level ${level - 1} had ${previous.respondWithinMinutes} minutes and the incident is still open: take it over. Read the last report of the ${flow} flow (its alert names what failed and what to do), fix the cause and run the flow again: its success resolves the incident and stops the escalation.`,
    details: [
      `ESCALATION: level ${level} of ${levels.length}, paged ${minutes} min after the incident's first alert (${new Date(since).toISOString()}).`,
      `${incident.failedRuns} failed run${incident.failedRuns === 1 ? '' : 's'} in a row; the latest: ${incident.lastFailedBy} (started ${incident.lastFailedAt}).`,
      next
        ? `Level ${next.level} is paged at ${new Date(next.dueAt).toISOString()} if the incident is still open then.`
        : 'This is the last level: no one else is paged.',
    ].join('\n'),
    ...(EXECUTION_ARN.test(incident.lastFailedBy) ? { executionArn: incident.lastFailedBy } : {}),
    evidence: { incident: { state: 'escalated', level, ...incident } },
  };
}
