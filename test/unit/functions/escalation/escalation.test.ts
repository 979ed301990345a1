/** functions/escalation/escalation.ts: when each level is due and which one to page, pure. */
import { describe, expect, it } from 'vitest';
import {
  dueTimes,
  escalationAlert,
  levelToPage,
  withPaged,
  withPublishedLevel,
} from '../../../../functions/escalation/escalation.ts';
import type { Incident, IncidentState } from '../../../../functions/report/incident.ts';

const LEVELS = [{ respondWithinMinutes: 15 }, { respondWithinMinutes: 30 }, { respondWithinMinutes: 60 }];
const T = Date.parse('2026-11-21T02:40:00Z');
const min = (n: number) => T + n * 60_000;
const incident = (fields: Partial<Incident> = {}): Incident => ({
  openedBy: 'arn:aws:states:us-east-1:000000000000:execution:Caretaker-prod-RoutineMaintenance:night-1',
  openedAt: '2026-11-21T02:00:00.000Z',
  failedRuns: 1,
  lastFailedBy: 'arn:aws:states:us-east-1:000000000000:execution:Caretaker-prod-RoutineMaintenance:night-1',
  lastFailedAt: '2026-11-21T02:00:00.000Z',
  reportedAt: new Date(T).toISOString(),
  ...fields,
});

describe('dueTimes', () => {
  it('pages each level after the previous level’s time: level 2 after 15 min, level 3 after 45', () => {
    expect(dueTimes(T, LEVELS)).toEqual([
      { level: 2, dueAt: min(15) },
      { level: 3, dueAt: min(45) },
    ]);
  });
});

describe('levelToPage', () => {
  it('pages nothing before level 1’s time is up', () => {
    expect(levelToPage(incident(), LEVELS, min(14))).toBeUndefined();
  });

  it('pages level 2 once its time has come, and not again once its message went out', () => {
    expect(levelToPage(incident(), LEVELS, min(15))).toEqual({ level: 2, dueAt: min(15), retry: false });
    const paged = incident({
      escalations: [{ level: 2, at: new Date(min(15)).toISOString(), messageId: 'm-2' }],
    });
    expect(levelToPage(paged, LEVELS, min(44))).toBeUndefined();
    expect(levelToPage(paged, LEVELS, min(45))).toMatchObject({ level: 3 });
  });

  it('pages one level per run, in order, when it comes late', () => {
    expect(levelToPage(incident(), LEVELS, min(600))).toMatchObject({ level: 2 });
  });

  it('publishes again a level recorded but not published', () => {
    const recorded = incident({ escalations: [{ level: 2, at: new Date(min(15)).toISOString() }] });

    expect(levelToPage(recorded, LEVELS, min(16))).toEqual({ level: 2, dueAt: min(15), retry: true });
  });

  it('pages no one after the last level', () => {
    const all = incident({
      escalations: [
        { level: 2, at: new Date(min(15)).toISOString(), messageId: 'm-2' },
        { level: 3, at: new Date(min(45)).toISOString(), messageId: 'm-3' },
      ],
    });

    expect(levelToPage(all, LEVELS, min(10_000))).toBeUndefined();
  });

  it('counts from the opening run’s start for a state written before reportedAt existed', () => {
    const old = incident({ reportedAt: undefined, openedAt: new Date(T).toISOString() });
    delete (old as { reportedAt?: string }).reportedAt;

    expect(levelToPage(old, LEVELS, min(15))).toMatchObject({ level: 2 });
  });
});

describe('state and alert', () => {
  const state: IncidentState = {
    format: 'caretaker.report.incident-state',
    flow: 'RoutineMaintenance',
    open: incident(),
    last: null,
  };

  it('records a level before publishing, then its message id for the same incident only', () => {
    const recorded = withPaged(state, 2, new Date(min(15)));
    const published = withPublishedLevel(recorded, state.open!, 2, 'm-2');
    const another = withPublishedLevel(
      { ...recorded, open: incident({ openedBy: 'other-run' }) },
      state.open!,
      2,
      'm-2',
    );

    expect(recorded.open!.escalations).toEqual([{ level: 2, at: new Date(min(15)).toISOString() }]);
    expect(published!.open!.escalations).toEqual([
      { level: 2, at: new Date(min(15)).toISOString(), messageId: 'm-2' },
    ]);
    expect(another).toBeUndefined();
  });

  it('words the page: the level, how long it has been open, what to do, when the next level is paged', () => {
    const alert = escalationAlert('RoutineMaintenance', state.open!, 2, LEVELS, new Date(min(16)));

    expect(alert).toMatchObject({
      severity: 'critical',
      flow: 'RoutineMaintenance',
      summary: 'Escalated to level 2: incident unresolved for 16 min',
      executionArn: state.open!.lastFailedBy,
    });
    expect(alert.action).toContain('Level 1 had 15 minutes and the incident is still open');
    expect(alert.details).toContain(
      'Level 3 is paged at 2026-11-21T03:25:00.000Z if the incident is still open then.',
    );
    expect(
      escalationAlert('RoutineMaintenance', state.open!, 3, LEVELS, new Date(min(46))).details,
    ).toContain('level 3 of 3');
  });
});
