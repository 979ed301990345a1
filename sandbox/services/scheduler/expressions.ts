/**
 * EventBridge Scheduler expressions and when they fire, in their time zone — pure functions.
 *
 * - `rate(n unit)`: every n minutes/hours/days (a day is 24 hours), from StartDate or, without
 *   one, from when the schedule was created (Scheduler starts invoking at once).
 * - `cron(min hour day-of-month month day-of-week year)`: AWS's six fields, day-of-week 1-7 =
 *   SUN-SAT, `?`, `L`, `#`; evaluated in the schedule's time zone. Across DST changes Scheduler
 *   skips a time that does not exist (spring forward) and runs a repeated time once (fall back).
 * - `at(yyyy-mm-ddThh:mm:ss)`: once, at that wall-clock time in the time zone.
 */
import { CronExpressionParser } from 'cron-parser';
import { scheduleExpressionProblem } from '../../../lib/config/schedule-expression.ts';

export type ScheduleExpression =
  | { readonly kind: 'rate'; readonly intervalMs: number }
  | { readonly kind: 'cron'; readonly cron: string; readonly years: (year: number) => boolean }
  | {
      readonly kind: 'at';
      readonly local: readonly [number, number, number, number, number, number];
    };

const UNIT_MS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** AWS day-of-week (1-7 = SUN-SAT, names) → cron-parser's (0-6 = SUN-SAT). */
function convertDayOfWeek(field: string): string {
  if (field === '?' || field === '*') return '*';
  if (field === 'L') return '6';
  const day = (token: string): string => {
    const named = DAY_NAMES.indexOf(token.toUpperCase());
    if (named >= 0) return String(named);
    const number = Number(token);
    if (!Number.isInteger(number) || number < 1 || number > 7)
      throw new Error(`day-of-week "${token}" is not 1-7 or SUN-SAT`);
    return String(number - 1);
  };
  return field
    .split(',')
    .map((part) => {
      let match = /^(\w+)#(\d)$/.exec(part);
      if (match) return `${day(match[1] ?? '')}#${match[2]}`;
      match = /^(\w+)L$/.exec(part);
      if (match) return `${day(match[1] ?? '')}L`;
      match = /^(\w+)-(\w+)(\/\d+)?$/.exec(part);
      if (match) return `${day(match[1] ?? '')}-${day(match[2] ?? '')}${match[3] ?? ''}`;
      match = /^(\w+)(\/\d+)?$/.exec(part);
      if (match) return `${day(match[1] ?? '')}${match[2] ?? ''}`;
      throw new Error(`day-of-week "${part}" is not supported`);
    })
    .join(',');
}

/** The year field as a predicate: `*`, `2030`, `2030-2032`, `2030/2`, lists of those. */
function yearPredicate(field: string): (year: number) => boolean {
  if (field === '*') return () => true;
  const tests = field.split(',').map((part) => {
    const match = /^(\d{4})(?:-(\d{4}))?(?:\/(\d+))?$/.exec(part);
    if (!match) throw new Error(`year "${part}" is not valid`);
    const from = Number(match[1]);
    const to = match[2] !== undefined ? Number(match[2]) : match[3] !== undefined ? 2199 : from;
    const step = match[3] !== undefined ? Number(match[3]) : 1;
    return (year: number) => year >= from && year <= to && (year - from) % step === 0;
  });
  return (year) => tests.some((test) => test(year));
}

/** Parses an expression, or throws an Error saying what is wrong with it. */
export function parseScheduleExpression(expression: string): ScheduleExpression {
  const problem = scheduleExpressionProblem(expression);
  if (problem) throw new Error(problem);
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate) return { kind: 'rate', intervalMs: Number(rate[1]) * (UNIT_MS[rate[2] ?? ''] ?? 0) };
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(expression);
  if (at) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    return { kind: 'at', local: [year, month, day, hour, minute, second] };
  }
  const fields = (/^cron\((.+)\)$/.exec(expression)?.[1] ?? '').trim().split(/\s+/);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (/W/i.test(dayOfMonth))
    throw new Error('the sandbox does not evaluate W (nearest weekday) in day-of-month');
  const cron = `0 ${minutes} ${hours} ${dayOfMonth === '?' ? '*' : dayOfMonth} ${month} ${convertDayOfWeek(dayOfWeek)}`;
  CronExpressionParser.parse(cron, { tz: 'UTC' });
  return { kind: 'cron', cron, years: yearPredicate(year) };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock fields of an instant in a time zone: [year, month, day, hour, minute, second]. */
export function wallClock(date: Date, timeZone: string): [number, number, number, number, number, number] {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = Object.fromEntries(
    formatter.formatToParts(date).map((part) => [part.type, Number(part.value)]),
  );
  return [
    parts.year ?? 0,
    parts.month ?? 0,
    parts.day ?? 0,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  ];
}

function offsetMs(date: Date, timeZone: string): number {
  const [y, mo, d, h, mi, s] = wallClock(date, timeZone);
  return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(date.getTime() / 1000) * 1000;
}

/** The instant a wall-clock time in a time zone names (the later reading for a skipped time). */
export function zonedTime(local: readonly number[], timeZone: string): Date {
  const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = local;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  const first = asUtc - offsetMs(new Date(asUtc), timeZone);
  return new Date(asUtc - offsetMs(new Date(first), timeZone));
}

function sameWallClock(a: Date, b: Date, timeZone: string): boolean {
  return wallClock(a, timeZone).join() === wallClock(b, timeZone).join();
}

export interface FireWindow {
  /** IANA time zone the expression is evaluated in. */
  readonly timeZone: string;
  /** When the schedule was created (first firing of a rate schedule without StartDate). */
  readonly createdAt: Date;
  readonly startDate?: Date;
  readonly endDate?: Date;
}

/** The first time strictly after `after` at which the schedule fires, or undefined if never again. */
export function nextFireTime(
  expression: ScheduleExpression,
  window: FireWindow,
  after: Date,
): Date | undefined {
  const earliest = Math.max(after.getTime() + 1, window.startDate?.getTime() ?? Number.NEGATIVE_INFINITY);
  let next: Date | undefined;
  switch (expression.kind) {
    case 'rate': {
      const anchor = (window.startDate ?? window.createdAt).getTime();
      const periods = Math.max(0, Math.ceil((earliest - anchor) / expression.intervalMs));
      next = new Date(anchor + periods * expression.intervalMs);
      break;
    }
    case 'at': {
      const at = zonedTime(expression.local, window.timeZone);
      next = at.getTime() >= earliest ? at : undefined;
      break;
    }
    case 'cron':
      next = nextCron(expression, window.timeZone, earliest);
      break;
  }
  if (next && window.endDate && next.getTime() > window.endDate.getTime()) return undefined;
  return next;
}

function nextCron(
  expression: Extract<ScheduleExpression, { kind: 'cron' }>,
  timeZone: string,
  earliest: number,
): Date | undefined {
  let iterator = CronExpressionParser.parse(expression.cron, {
    currentDate: new Date(earliest - 1),
    tz: timeZone,
  });
  const hours = new Set(iterator.fields.hour.values as readonly number[]);
  const minutes = new Set(iterator.fields.minute.values as readonly number[]);
  for (let guard = 0; guard < 100_000 && iterator.hasNext(); guard++) {
    const candidate = iterator.next().toDate();
    const [year, , , hour, minute] = wallClock(candidate, timeZone);
    if (year > 2199) return undefined;
    if (!expression.years(year)) {
      // Jump to the next year the year field allows instead of stepping through this one.
      let nextYear = year + 1;
      while (nextYear <= 2199 && !expression.years(nextYear)) nextYear++;
      if (nextYear > 2199) return undefined;
      const start = zonedTime([nextYear, 1, 1, 0, 0, 0], timeZone);
      iterator = CronExpressionParser.parse(expression.cron, {
        currentDate: new Date(start.getTime() - 1),
        tz: timeZone,
      });
      continue;
    }
    // Spring forward: a time that does not exist is moved by cron-parser; Scheduler skips it.
    if (!hours.has(hour) || !minutes.has(minute)) continue;
    // Fall back: a wall-clock time that already happened (30 or 60 minutes earlier) runs once.
    const repeated = [1_800_000, 3_600_000].some((ms) =>
      sameWallClock(new Date(candidate.getTime() - ms), candidate, timeZone),
    );
    if (repeated) continue;
    return candidate;
  }
  return undefined;
}
