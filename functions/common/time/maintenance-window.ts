/**
 * Maintenance windows with deadlines (DESIGN §11): a window opens at a local wall-clock time on
 * chosen weekdays, in a time zone, and lasts a number of minutes of elapsed time. Work that a
 * scheduled run cannot finish before the window closes is not started: each kind of task declares
 * how long it is expected to take, and its deadline is the window's end minus that.
 *
 * Pure: the window, its deadlines and the reasons a task would be skipped are computed from an
 * instant, so the arithmetic (across midnight, across daylight-saving changes) is tested without
 * any clock. The flows compare the deadlines with `$$.State.EnteredTime` in a Choice state before
 * each task.
 */
import * as z from 'zod';
import { timeZoneSchema } from '../retention/retention-policy.ts';
import { MS_PER_DAY } from './calendar.ts';
import { ZoneCalendar } from './zone-calendar.ts';

export const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** The kinds of work the flows start only while the window has time for them. */
export const WINDOW_TASKS = ['backup', 'snapshot', 'databaseMaintenance'] as const;
export type WindowTask = (typeof WINDOW_TASKS)[number];

/**
 * What each kind of task declares it takes, in minutes, unless the config says otherwise: a
 * backup set (nested Backup flow, verified), a snapshot with its DR copy, ANALYZE (and VACUUM)
 * of a database.
 */
export const DEFAULT_EXPECTED_MINUTES: Readonly<Record<WindowTask, number>> = {
  backup: 60,
  snapshot: 30,
  databaseMaintenance: 30,
};

/** A deadline no run reaches: what every task gets when the window is not enforced. */
export const NO_DEADLINE = '9999-12-31T23:59:59.999Z';

const minutes = z.number().int('expected whole minutes').min(1).max(1440);

/** The `maintenanceWindow` config section. */
export const maintenanceWindowSchema = z
  .object({
    start: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time HH:MM such as 02:00')
      .meta({ title: 'HH:MM', description: 'local time the window opens (24 h)', examples: ['01:30'] }),
    durationMinutes: z
      .number()
      .int('expected whole minutes')
      .min(15)
      .max(1440)
      .describe(
        'how long the window stays open, in elapsed minutes (a 4-hour window is 4 hours on a DST night too)',
      ),
    timeZone: timeZoneSchema.optional().describe("the window's time zone (default: `environment.timeZone`)"),
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .refine((days) => new Set(days).size === days.length, 'expected each weekday at most once')
      .optional()
      .describe('the weekdays it opens on (the day it opens, in its time zone); default: every day'),
    expectedMinutes: z
      .object({
        backup: minutes.describe(
          `minutes a backup set (nested Backup flow, verified) is expected to take (default ${DEFAULT_EXPECTED_MINUTES.backup})`,
        ),
        snapshot: minutes.describe(
          `minutes a snapshot with its DR copy is expected to take (default ${DEFAULT_EXPECTED_MINUTES.snapshot})`,
        ),
        databaseMaintenance: minutes.describe(
          `minutes ANALYZE (and VACUUM) of a database is expected to take (default ${DEFAULT_EXPECTED_MINUTES.databaseMaintenance})`,
        ),
      })
      .partial()
      .strict()
      .default({})
      .describe(
        'minutes each kind of task is expected to take: a task starts only while that much of the window is left',
      ),
  })
  .strict();

export type MaintenanceWindowInput = z.input<typeof maintenanceWindowSchema>;
export type MaintenanceWindowConfig = z.output<typeof maintenanceWindowSchema>;

/** A window with its time zone decided (the config's, or the environment's). */
export type MaintenanceWindow = MaintenanceWindowConfig & { readonly timeZone: string };

/** The window with `timeZone` filled from the environment when the config leaves it out. */
export function resolveWindow(
  config: MaintenanceWindowConfig | undefined,
  environmentTimeZone: string,
): MaintenanceWindow | null {
  return config ? { ...config, timeZone: config.timeZone ?? environmentTimeZone } : null;
}

/** One occurrence of the window, as UTC epoch milliseconds. */
export interface WindowOccurrence {
  readonly opensAt: number;
  readonly closesAt: number;
}

/** The occurrence open at `instant` (if any) and the next one to open after it. */
export interface WindowState {
  readonly open: WindowOccurrence | null;
  readonly next: WindowOccurrence;
}

/** Weekday of a day number (days since 1970-01-01, a Thursday), MON = 0. */
function weekdayOf(day: number): Weekday {
  return WEEKDAYS[(((day + 3) % 7) + 7) % 7]!;
}

const startMinutes = (start: string) => {
  const [hours, mins] = start.split(':').map(Number) as [number, number];
  return hours * 60 + mins;
};

/**
 * Where `instant` stands in the window's schedule. An opening time that does not exist on a
 * spring-forward night (02:30 when clocks jump from 02:00 to 03:00) moves forward by the gap, and
 * on a fall-back night the first of the repeated times is taken (ZoneCalendar.instantOf).
 */
export function windowAt(window: MaintenanceWindow, instant: number): WindowState {
  const calendar = new ZoneCalendar(window.timeZone);
  const today = Math.floor(calendar.localMillis(instant) / MS_PER_DAY);
  const offset = startMinutes(window.start) * 60_000;
  const length = window.durationMinutes * 60_000;
  let open: WindowOccurrence | null = null;
  // A window lasts at most a day: one that opened yesterday may still be open; the next one is
  // at most a week away.
  for (let day = today - 1; day <= today + 8; day++) {
    if (window.days && !window.days.includes(weekdayOf(day))) continue;
    const opensAt = calendar.instantOf(day * MS_PER_DAY + offset);
    const occurrence = { opensAt, closesAt: opensAt + length };
    if (opensAt <= instant && instant < occurrence.closesAt) open = occurrence;
    else if (opensAt > instant) return { open, next: occurrence };
  }
  throw new Error('unreachable: a window opens at least once a week');
}

/** The local wall-clock time `HH:MM` of an instant. */
export function localTime(timeZone: string, instant: number): string {
  const local = new ZoneCalendar(timeZone).localMillis(instant);
  const ofDay = local - Math.floor(local / MS_PER_DAY) * MS_PER_DAY;
  const hh = Math.floor(ofDay / 3_600_000);
  const mm = Math.floor((ofDay % 3_600_000) / 60_000);
  return `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
}

const iso = (instant: number) => new Date(instant).toISOString();

/** The window, as it stands for one run: what the flow compares before each task, and what the report shows. */
export interface WindowPlan {
  /** Whether the deadlines apply: the run was started by its schedule and a window is configured. */
  readonly enforced: boolean;
  /** `02:00 for 240 min, Europe/Berlin (MON, TUE)`, or null without a window. */
  readonly description: string | null;
  readonly timeZone: string | null;
  /** When the plan was made (the run's start, near enough). */
  readonly plannedAt: string;
  /** The occurrence the run started in; null when it started outside the window (or there is none). */
  readonly opensAt: string | null;
  readonly closesAt: string | null;
  /** When the window opens next (after the one the run is in). */
  readonly nextOpensAt: string | null;
  readonly expectedMinutes: Readonly<Record<WindowTask, number>>;
  /** The latest time each kind of task may start (`NO_DEADLINE` when not enforced). */
  readonly deadlines: Readonly<Record<WindowTask, string>>;
  /** Why a task of each kind would be skipped, in words, for the report. */
  readonly reasons: Readonly<Record<WindowTask, string>>;
}

/** Describes the window in one line. */
export function describeWindow(window: MaintenanceWindow): string {
  return `${window.start} for ${window.durationMinutes} min, ${window.timeZone}${window.days ? ` (${window.days.join(', ')})` : ''}`;
}

/**
 * The window plan for a run starting at `now`. With `enforce` false (a run by hand) or no window,
 * nothing has a deadline. Started outside the window, every deadline is already past: nothing is
 * started, and each task says why.
 */
export function planWindow(
  window: MaintenanceWindow | null,
  now: number,
  options: { readonly enforce: boolean },
): WindowPlan {
  const expected = { ...DEFAULT_EXPECTED_MINUTES, ...(window?.expectedMinutes ?? {}) };
  const each = <T>(value: (task: WindowTask) => T) =>
    Object.fromEntries(WINDOW_TASKS.map((task) => [task, value(task)])) as Record<WindowTask, T>;
  const base = { plannedAt: iso(now), expectedMinutes: expected };
  if (!window) {
    return {
      ...base,
      enforced: false,
      description: null,
      timeZone: null,
      opensAt: null,
      closesAt: null,
      nextOpensAt: null,
      deadlines: each(() => NO_DEADLINE),
      reasons: each(() => 'no maintenance window is configured'),
    };
  }
  const state = windowAt(window, now);
  const at = (instant: number) =>
    `${localTime(window.timeZone, instant)} ${window.timeZone} (${iso(instant)})`;
  const described = {
    ...base,
    description: describeWindow(window),
    timeZone: window.timeZone,
    opensAt: state.open ? iso(state.open.opensAt) : null,
    closesAt: state.open ? iso(state.open.closesAt) : null,
    nextOpensAt: iso(state.next.opensAt),
  };
  if (!options.enforce) {
    return {
      ...described,
      enforced: false,
      deadlines: each(() => NO_DEADLINE),
      reasons: each(() => 'the run was started by hand: the maintenance window does not apply'),
    };
  }
  const open = state.open;
  if (!open) {
    return {
      ...described,
      enforced: true,
      // Already past: every task is skipped.
      deadlines: each(() => iso(now - 1)),
      reasons: each(
        () =>
          `the run started at ${at(now)}, outside the maintenance window (${describeWindow(window)}); it next opens at ${at(state.next.opensAt)}`,
      ),
    };
  }
  return {
    ...described,
    enforced: true,
    deadlines: each((task) => iso(open.closesAt - expected[task] * 60_000)),
    reasons: each(
      (task) =>
        `${TASK_TITLES[task]} is expected to take ${expected[task]} min and the maintenance window closes at ${at(open.closesAt)}: it had to start by ${at(open.closesAt - expected[task] * 60_000)}`,
    ),
  };
}

/** How each kind of task is named in reasons and reports. */
export const TASK_TITLES: Readonly<Record<WindowTask, string>> = {
  backup: 'a backup',
  snapshot: 'a snapshot (with its DR copy)',
  databaseMaintenance: 'database maintenance',
};

/** Minutes left in the occurrence open at `instant`, or null when the window is closed. */
export function minutesLeft(window: MaintenanceWindow, instant: number): number | null {
  const { open } = windowAt(window, instant);
  return open ? Math.floor((open.closesAt - instant) / 60_000) : null;
}

const taskRecord = <T extends z.ZodType>(value: T) =>
  z.object({ backup: value, snapshot: value, databaseMaintenance: value });

/** A {@link WindowPlan} as the flow hands it to `report`. */
export const windowPlanSchema = z.object({
  enforced: z.boolean(),
  description: z.string().nullable(),
  timeZone: z.string().nullable(),
  plannedAt: z.string(),
  opensAt: z.string().nullable(),
  closesAt: z.string().nullable(),
  nextOpensAt: z.string().nullable(),
  expectedMinutes: taskRecord(z.number()),
  deadlines: taskRecord(z.string()),
  reasons: taskRecord(z.string()),
});

/** Why and when a task was not started: what the flow records for a skipped task. */
export const skippedSchema = z.object({
  /** When the flow decided (the state's entered time). */
  at: z.string(),
  /** The deadline it was past. */
  deadline: z.string(),
  reason: z.string(),
});
