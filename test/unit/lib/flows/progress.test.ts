import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import type { AslMachine } from '../../../../lib/flows/asl.ts';
import { ProgressNarrator } from '../../../../lib/flows/progress.ts';

const machine: AslMachine = {
  StartAt: 'Apply',
  States: {
    Apply: {
      Type: 'Task',
      Retry: [{ ErrorEquals: ['ThrottledError'] }],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Rollback' }],
      End: true,
    },
    Rollback: { Type: 'Pass', End: true },
  },
};

type PartialEvent = Pick<HistoryEvent, 'type' | 'previousEventId'> & {
  stateEnteredEventDetails?: { name: string };
  taskFailedEventDetails?: { error: string };
};

/** Narrates `events` (ids from 1, each pointing at the one before unless given). */
function narrate(events: PartialEvent[]): string[] {
  const narrator = new ProgressNarrator(machine);
  const byId = new Map<number, HistoryEvent>();
  return events.flatMap((partial, index) => {
    const event = {
      previousEventId: index,
      timestamp: new Date(),
      ...partial,
      id: index + 1,
    } as HistoryEvent;
    byId.set(event.id!, event);
    return narrator.lines(event, byId);
  });
}

describe('ProgressNarrator', () => {
  it('calls out a failed attempt that is retried', () => {
    const lines = narrate([
      { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Apply' } },
      { type: 'TaskScheduled', previousEventId: 1 },
      { type: 'TaskFailed', taskFailedEventDetails: { error: 'ThrottledError' } },
      { type: 'TaskScheduled', previousEventId: 1 },
    ]);

    expect(lines).toEqual(['▶ Apply', '↻ Apply: retrying after ThrottledError']);
  });

  it('calls out a failure that a Catch hands to another state', () => {
    const lines = narrate([
      { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Apply' } },
      { type: 'TaskScheduled', previousEventId: 1 },
      { type: 'TaskFailed', taskFailedEventDetails: { error: 'UnhealthyError' } },
      { type: 'PassStateEntered', stateEnteredEventDetails: { name: 'Rollback' } },
    ]);

    expect(lines).toEqual(['▶ Apply', '⚠ Apply failed (UnhealthyError): handled by Rollback', '▶ Rollback']);
  });
});
