/**
 * Rules on the configured schedules that depend on the clock, the time zone or what a schedule
 * starts, checked at synth after each expression's grammar (schedule-expression.ts):
 *
 * - an `at()` already past at synth time, or a cron that never fires again, would deploy a
 *   schedule that silently never runs;
 * - cleanup deletes recovery points and a DR drill restores databases and data: neither may run
 *   more often than hourly (a `rate` under 60 minutes, or a cron listing more than one minute).
 *
 * When a cron fires is computed with cron-parser (MIT), after translating Scheduler's fields to
 * its dialect (day-of-week 0-6 from Sunday, no year field, no `W`).
 */
import { CronExpressionParser } from 'cron-parser';
import { ZoneCalendar } from '../../functions/common/time/zone-calendar.ts';
import type { ConfigIssue } from './config-issue.ts';
import type { CronSchedule } from './cron-expression.ts';
import {
  parseScheduleExpression,
  RATE_UNIT_MINUTES,
  type ScheduleExpression,
} from './schedule-expression.ts';

/** Schedules whose runs are destructive or expensive enough to be held to at most one an hour. */
export const AT_MOST_HOURLY = {
  cleanup: 'each cleanup run deletes recovery points',
  drDrill: 'each drill restores databases and data and tears them down',
} as const;

/** The longest month each month can have (February in a leap year). */
const LONGEST_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The cron in cron-parser's dialect, with a leading seconds field and no year. */
function cronParserText(schedule: CronSchedule): string {
  const { dayOfMonth: dom, dayOfWeek: dow } = schedule;
  const day =
    dom.kind === 'any'
      ? '*'
      : dom.kind === 'last'
        ? 'L'
        : // The weekday nearest day n stays inside the month, so it fires in exactly the months day n exists.
          dom.kind === 'nearest-weekday'
          ? String(dom.day)
          : dom.days.join(',');
  const weekday =
    dow.kind === 'any'
      ? '*'
      : dow.kind === 'last'
        ? `${dow.weekday - 1}L`
        : dow.kind === 'nth'
          ? `${dow.weekday - 1}#${dow.nth}`
          : dow.weekdays.map((d) => d - 1).join(',');
  return `0 ${schedule.minutes.join(',')} ${schedule.hours.join(',')} ${day} ${schedule.months.join(',')} ${weekday}`;
}

/** Why a cron never fires on any date (a day-of-month no listed month has), or undefined. */
function impossibleDay(schedule: CronSchedule): string | undefined {
  const dom = schedule.dayOfMonth;
  const days = dom.kind === 'days' ? dom.days : dom.kind === 'nearest-weekday' ? [dom.day] : undefined;
  if (!days) return undefined;
  const possible = days.some((day) => schedule.months.some((month) => day <= LONGEST_MONTH[month - 1]!));
  return possible
    ? undefined
    : `day-of-month ${days.join(',')} never occurs in month ${schedule.months.join(',')}`;
}

/** The first firing strictly after `now`, or undefined when the cron never fires again. */
export function nextCronFiring(schedule: CronSchedule, timeZone: string, now: Date): Date | undefined {
  if (impossibleDay(schedule)) return undefined;
  const calendar = new ZoneCalendar(timeZone);
  const yearOf = (instant: number) => new Date(calendar.localMillis(instant)).getUTCFullYear();
  const allowed = new Set(schedule.years);
  const text = cronParserText(schedule);
  const thisYear = yearOf(now.getTime());
  for (const year of schedule.years) {
    if (year < thisYear) continue;
    const yearStart = calendar.instantOf(Date.UTC(year, 0, 1));
    const from = Math.max(now.getTime(), yearStart - 1);
    const next = CronExpressionParser.parse(text, { currentDate: new Date(from), tz: timeZone })
      .next()
      .toDate();
    // cron-parser has no year field: a firing in a year the expression leaves out does not count.
    if (allowed.has(yearOf(next.getTime()))) return next;
  }
  return undefined;
}

/** Why a cron never fires again after `now`, or undefined when it does. */
function neverFires(schedule: CronSchedule, timeZone: string, now: Date): string | undefined {
  const after = `after synth time (${now.toISOString()} in ${timeZone})`;
  try {
    if (nextCronFiring(schedule, timeZone, now)) return undefined;
  } catch (error) {
    return `cannot be evaluated ${after}: ${(error as Error).message}`;
  }
  const reason = impossibleDay(schedule);
  return `never fires ${after}${reason ? `: ${reason}` : ''}`;
}

/** The instant an `at()` names in its time zone (a skipped wall time moves forward, as Scheduler does). */
function atInstant(expression: Extract<ScheduleExpression, { kind: 'at' }>, timeZone: string): number {
  const { year, month, day, hour, minute, second } = expression.local;
  return new ZoneCalendar(timeZone).instantOf(Date.UTC(year, month - 1, day, hour, minute, second));
}

/** How often a schedule may fire at most, in runs per hour, when it fires more than once an hour. */
function runsPerHour(expression: ScheduleExpression): string | undefined {
  if (expression.kind === 'rate') {
    const minutes = expression.value * RATE_UNIT_MINUTES[expression.unit];
    return minutes < 60 ? `runs every ${minutes} minute${minutes === 1 ? '' : 's'}` : undefined;
  }
  if (expression.kind === 'cron' && expression.schedule.minutes.length > 1) {
    const minutes = expression.schedule.minutes;
    return `fires ${minutes.length} times an hour (minutes ${minutes.length > 6 ? `${minutes.slice(0, 6).join(',')},…` : minutes.join(',')})`;
  }
  return undefined;
}

/** Problems of one schedule's expression (already known to be grammatical) at synth time `now`. */
export function scheduleRuleProblems(name: string, text: string, timeZone: string, now: Date): ConfigIssue[] {
  const parsed = parseScheduleExpression(text);
  if (!parsed.ok) return [];
  const expression = parsed.value;
  const path = ['schedules', name, 'expression'];
  const problems: ConfigIssue[] = [];
  if (expression.kind === 'at' && atInstant(expression, timeZone) <= now.getTime()) {
    problems.push({
      path,
      message: `${text} in ${timeZone} is already past at synth time (${now.toISOString()}): Scheduler would never run it`,
    });
  }
  if (expression.kind === 'cron') {
    const never = neverFires(expression.schedule, timeZone, now);
    if (never !== undefined) problems.push({ path, message: `${text} ${never}` });
  }
  const why = AT_MOST_HOURLY[name as keyof typeof AT_MOST_HOURLY];
  const frequency = why ? runsPerHour(expression) : undefined;
  if (why && frequency) {
    problems.push({
      path,
      message: `${text} ${frequency}; ${name} may run at most once an hour: ${why}`,
    });
  }
  return problems;
}
