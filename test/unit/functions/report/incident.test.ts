import { describe, expect, it } from 'vitest';
import {
  decideIncident,
  type IncidentState,
  incidentStateSchema,
  type ReportedRun,
  withPublished,
} from '../../../../functions/report/incident.ts';

const run = (name: string, day: number, failed: boolean): ReportedRun => ({
  flow: 'Backup',
  run: `arn:aws:states:eu-central-1:111122223333:execution:Caretaker-prod-Backup:${name}`,
  startedAt: `2026-11-${String(day).padStart(2, '0')}T01:00:00.000Z`,
  failed,
});

/** Reports the runs in order, as report does (publishing each), and returns each decision. */
function sequence(...runs: ReportedRun[]): { decisions: string[]; state: IncidentState | undefined } {
  let state: IncidentState | undefined;
  const decisions: string[] = [];
  runs.forEach((each, index) => {
    const decided = decideIncident(state, each);
    decisions.push(decided.decision);
    state = withPublished(decided.next, `m-${index}`);
  });
  return { decisions, state };
}

describe('decideIncident', () => {
  it('opens an incident on a failed run, keeps it going while runs fail, resolves it on the next success', () => {
    const { decisions, state } = sequence(
      run('a', 1, false),
      run('b', 2, true),
      run('c', 3, true),
      run('d', 4, false),
      run('e', 5, false),
    );

    expect(decisions).toEqual(['none', 'opened', 'ongoing', 'resolved', 'none']);
    expect(state?.open).toBeNull();
  });

  it('counts the failed runs of an incident and remembers which run opened it', () => {
    const { state } = sequence(run('b', 2, true), run('c', 3, true), run('d', 4, true));

    expect(state?.open).toEqual({
      openedBy: run('b', 2, true).run,
      openedAt: '2026-11-02T01:00:00.000Z',
      failedRuns: 3,
      lastFailedBy: run('d', 4, true).run,
      lastFailedAt: '2026-11-04T01:00:00.000Z',
    });
  });

  it('replays its decision for a run reported again, and says when its alert already went out', () => {
    const first = decideIncident(undefined, run('b', 2, true));
    const published = withPublished(first.next, 'm-1');

    const unpublishedRetry = decideIncident(first.next, run('b', 2, true));
    const publishedRetry = decideIncident(published, run('b', 2, true));

    expect(unpublishedRetry).toMatchObject({ decision: 'opened', alreadyPublished: false, next: first.next });
    expect(publishedRetry).toMatchObject({ decision: 'opened', alreadyPublished: true, messageId: 'm-1' });
  });

  it('resolves only with a run that started after the latest failed one', () => {
    const { decisions, state } = sequence(run('c', 3, true), run('late', 2, false));

    expect(decisions).toEqual(['opened', 'none']);
    expect(state?.open?.openedBy).toBe(run('c', 3, true).run);
  });

  it('does not resolve with a run that cannot show the cause is gone (a cleanup dry run)', () => {
    const { decisions } = sequence(
      run('b', 2, true),
      { ...run('dry', 3, false), canResolve: false },
      run('c', 4, false),
    );

    expect(decisions).toEqual(['opened', 'none', 'resolved']);
  });

  it('writes states its own schema accepts', () => {
    const { state } = sequence(run('b', 2, true), run('c', 3, false));

    expect(incidentStateSchema.safeParse(state).success).toBe(true);
    expect(incidentStateSchema.safeParse({ ...state, open: { openedBy: 'x y' } }).success).toBe(false);
  });
});
