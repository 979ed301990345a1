/**
 * functions/common/time/maintenance-window.ts: where an instant stands in a maintenance window, across
 * midnight and daylight-saving changes, and the deadlines and reasons a run's tasks get. Pure.
 */
import { describe, expect, it } from 'vitest';
import {
  type MaintenanceWindow,
  maintenanceWindowSchema,
  minutesLeft,
  NO_DEADLINE,
  planWindow,
  resolveWindow,
  windowAt,
} from '../../../../../functions/common/time/maintenance-window.ts';

const at = (text: string) => new Date(text).getTime();
const iso = (ms: number) => new Date(ms).toISOString();
function window(fields: Partial<MaintenanceWindow> = {}): MaintenanceWindow {
  return resolveWindow(
    maintenanceWindowSchema.parse({ start: '02:00', durationMinutes: 240, ...fields }),
    fields.timeZone ?? 'UTC',
  )!;
}

describe('windowAt', () => {
  it('finds the occurrence an instant falls in and the next one', () => {
    const state = windowAt(window(), at('2026-11-21T03:00:00Z'));

    expect(iso(state.open!.opensAt)).toBe('2026-11-21T02:00:00.000Z');
    expect(iso(state.open!.closesAt)).toBe('2026-11-21T06:00:00.000Z');
    expect(iso(state.next.opensAt)).toBe('2026-11-22T02:00:00.000Z');
  });

  it('treats the closing instant as closed', () => {
    const state = windowAt(window(), at('2026-11-21T06:00:00Z'));

    expect(state.open).toBeNull();
    expect(iso(state.next.opensAt)).toBe('2026-11-22T02:00:00.000Z');
  });

  it('keeps a window that opened before midnight open after it', () => {
    const state = windowAt(window({ start: '23:00', durationMinutes: 180 }), at('2026-11-22T01:30:00Z'));

    expect(iso(state.open!.opensAt)).toBe('2026-11-21T23:00:00.000Z');
    expect(iso(state.open!.closesAt)).toBe('2026-11-22T02:00:00.000Z');
  });

  it('opens a window whose start is skipped on a spring-forward night at the same wall time after the gap', () => {
    // Europe/Berlin, 2026-03-29: clocks jump from 02:00 CET to 03:00 CEST; 02:30 does not exist.
    const berlin = window({ start: '02:30', durationMinutes: 120, timeZone: 'Europe/Berlin' });

    const state = windowAt(berlin, at('2026-03-29T02:00:00Z'));

    expect(iso(state.open!.opensAt)).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(iso(state.open!.closesAt)).toBe('2026-03-29T03:30:00.000Z'); // 05:30 CEST: 2 h elapsed
  });

  it('lasts its minutes of elapsed time across the spring-forward change', () => {
    const berlin = window({ start: '01:00', durationMinutes: 240, timeZone: 'Europe/Berlin' });

    const state = windowAt(berlin, at('2026-03-29T00:30:00Z'));

    expect(iso(state.open!.opensAt)).toBe('2026-03-29T00:00:00.000Z'); // 01:00 CET
    expect(iso(state.open!.closesAt)).toBe('2026-03-29T04:00:00.000Z'); // 06:00 CEST, 4 h later
  });

  it('opens at the first of the repeated times on a fall-back night', () => {
    // Europe/Berlin, 2026-10-25: 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
    const berlin = window({ start: '02:30', durationMinutes: 60, timeZone: 'Europe/Berlin' });

    const state = windowAt(berlin, at('2026-10-25T00:45:00Z'));

    expect(iso(state.open!.opensAt)).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(state.open!.closesAt)).toBe('2026-10-25T01:30:00.000Z');
  });

  it('follows the zone offset on either side of a change: the same local start is a different UTC time', () => {
    const york = window({ start: '01:00', durationMinutes: 60, timeZone: 'America/New_York' });

    const before = windowAt(york, at('2026-03-07T12:00:00Z')).next;
    const after = windowAt(york, at('2026-03-08T12:00:00Z')).next;

    expect(iso(before.opensAt)).toBe('2026-03-08T06:00:00.000Z'); // 01:00 EST
    expect(iso(after.opensAt)).toBe('2026-03-09T05:00:00.000Z'); // 01:00 EDT
  });

  it('opens only on the configured weekdays, judged in its own time zone', () => {
    // 2026-11-23 is a Monday; in Pacific/Auckland it is already Tuesday morning at 20:00Z.
    const weekend = window({ start: '02:00', durationMinutes: 60, days: ['SAT', 'SUN'] });
    const tuesday = window({
      start: '08:00',
      durationMinutes: 60,
      days: ['TUE'],
      timeZone: 'Pacific/Auckland',
    });

    expect(iso(windowAt(weekend, at('2026-11-23T12:00:00Z')).next.opensAt)).toBe('2026-11-28T02:00:00.000Z');
    expect(iso(windowAt(tuesday, at('2026-11-23T19:30:00Z')).open!.opensAt)).toBe('2026-11-23T19:00:00.000Z');
  });
});

describe('planWindow', () => {
  it('gives each task the window end minus its expected minutes, enforced', () => {
    const plan = planWindow(window({ expectedMinutes: { backup: 90 } }), at('2026-11-21T02:10:00Z'), {
      enforce: true,
    });

    expect(plan).toMatchObject({
      enforced: true,
      opensAt: '2026-11-21T02:00:00.000Z',
      closesAt: '2026-11-21T06:00:00.000Z',
      expectedMinutes: { backup: 90, snapshot: 30, databaseMaintenance: 30 },
      deadlines: {
        backup: '2026-11-21T04:30:00.000Z',
        snapshot: '2026-11-21T05:30:00.000Z',
        databaseMaintenance: '2026-11-21T05:30:00.000Z',
      },
    });
    expect(plan.reasons.backup).toBe(
      'a backup is expected to take 90 min and the maintenance window closes at 06:00 UTC (2026-11-21T06:00:00.000Z): it had to start by 04:30 UTC (2026-11-21T04:30:00.000Z)',
    );
  });

  it('words the deadline in the window time zone across a DST change', () => {
    const berlin = window({ start: '01:00', durationMinutes: 240, timeZone: 'Europe/Berlin' });

    const plan = planWindow(berlin, at('2026-03-29T00:10:00Z'), { enforce: true });

    expect(plan.deadlines.snapshot).toBe('2026-03-29T03:30:00.000Z');
    expect(plan.reasons.snapshot).toContain('closes at 06:00 Europe/Berlin');
    expect(plan.reasons.snapshot).toContain('start by 05:30 Europe/Berlin');
  });

  it('puts every deadline in the past for a scheduled run that starts outside the window, saying when it opens', () => {
    const now = at('2026-11-21T07:00:00Z');

    const plan = planWindow(window(), now, { enforce: true });

    expect(plan.opensAt).toBeNull();
    expect(Object.values(plan.deadlines).every((deadline) => new Date(deadline).getTime() < now)).toBe(true);
    expect(plan.reasons.backup).toContain('outside the maintenance window');
    expect(plan.reasons.backup).toContain('next opens at 02:00 UTC (2026-11-22T02:00:00.000Z)');
  });

  it('sets no deadline for a run by hand, though it still describes the window', () => {
    const plan = planWindow(window(), at('2026-11-21T07:00:00Z'), { enforce: false });

    expect(plan.enforced).toBe(false);
    expect(plan.deadlines).toEqual({
      backup: NO_DEADLINE,
      snapshot: NO_DEADLINE,
      databaseMaintenance: NO_DEADLINE,
    });
    expect(plan.nextOpensAt).toBe('2026-11-22T02:00:00.000Z');
  });

  it('sets no deadline without a window', () => {
    const plan = planWindow(null, at('2026-11-21T07:00:00Z'), { enforce: true });

    expect(plan).toMatchObject({ enforced: false, description: null, deadlines: { backup: NO_DEADLINE } });
  });
});

describe('minutesLeft', () => {
  it('counts the whole minutes until the window closes, null outside it', () => {
    expect(minutesLeft(window(), at('2026-11-21T05:20:30Z'))).toBe(39);
    expect(minutesLeft(window(), at('2026-11-21T06:20:00Z'))).toBeNull();
  });
});

describe('maintenanceWindowSchema', () => {
  it('refuses an opening time that is not HH:MM and a weekday given twice', () => {
    const result = maintenanceWindowSchema.safeParse({
      start: '24:00',
      durationMinutes: 60,
      days: ['MON', 'MON'],
    });

    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.path.join('.'))).toEqual(['start', 'days']);
  });
});
