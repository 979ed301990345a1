/**
 * EventBridge Scheduler expressions: `rate(5 minutes)`, `cron(0 2 * * ? *)`, `at(2026-01-01T00:00:00)`.
 * Checked at synth against the grammar Scheduler documents, so an expression Scheduler would
 * refuse fails `cdk synth` instead of `cdk deploy`. This module knows no clock: whether an
 * `at()` is in the past, or a cron fires again, is decided in schedule-rules.ts.
 */
import { daysInMonth } from '../../functions/common/time/calendar.ts';
import { type CronSchedule, type Parsed, parseCron } from './cron-expression.ts';

/** A wall-clock time in the schedule's time zone. */
export interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** A valid Scheduler expression. */
export type ScheduleExpression =
  | { readonly kind: 'rate'; readonly value: number; readonly unit: 'minute' | 'hour' | 'day' }
  | { readonly kind: 'cron'; readonly schedule: CronSchedule }
  | { readonly kind: 'at'; readonly local: LocalTime };

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

/** Minutes in one unit of a rate. */
export const RATE_UNIT_MINUTES = { minute: 1, hour: 60, day: 1440 } as const;

function parseRate(expression: string): Parsed<ScheduleExpression> {
  const rate = RATE.exec(expression);
  if (!rate) {
    return {
      ok: false,
      problem:
        'a rate expression is rate(<whole number> minute|minutes|hour|hours|day|days), one space apart',
    };
  }
  const value = Number(rate[1]);
  const word = rate[2]!;
  if (value < 1) return { ok: false, problem: 'a rate must be at least 1' };
  // Scheduler requires the singular for 1 and the plural above it: rate(1 hours) and rate(5 hour) are refused.
  const singular = word.replace(/s$/, '') as 'minute' | 'hour' | 'day';
  if ((value === 1) !== (word === singular)) {
    return { ok: false, problem: `use "${value} ${value === 1 ? singular : `${singular}s`}"` };
  }
  return { ok: true, value: { kind: 'rate', value, unit: singular } };
}

function parseAt(expression: string): Parsed<ScheduleExpression> {
  const at = AT.exec(expression);
  if (!at) return { ok: false, problem: 'a one-time expression is at(yyyy-mm-ddThh:mm:ss)' };
  const [year, month, day, hour, minute, second] = at.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) return { ok: false, problem: `at(): month ${month} is not 01-12` };
  if (day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, problem: `at(): ${at[1]}-${at[2]} has no day ${at[3]}` };
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return { ok: false, problem: `at(): ${at[4]}:${at[5]}:${at[6]} is not a time of day` };
  }
  return { ok: true, value: { kind: 'at', local: { year, month, day, hour, minute, second } } };
}

/** Parses a Scheduler expression, or says why Scheduler would refuse it. */
export function parseScheduleExpression(expression: string): Parsed<ScheduleExpression> {
  if (expression.startsWith('rate(')) return parseRate(expression);
  if (expression.startsWith('at(')) return parseAt(expression);
  const cron = /^cron\((.*)\)$/s.exec(expression);
  if (cron) {
    const parsed = parseCron(cron[1]!);
    return parsed.ok ? { ok: true, value: { kind: 'cron', schedule: parsed.value } } : parsed;
  }
  return { ok: false, problem: 'expected rate(<n> <unit>), cron(<6 fields>) or at(<yyyy-mm-ddThh:mm:ss>)' };
}

/** Returns why `expression` is not a valid Scheduler expression, or undefined when it is. */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const parsed = parseScheduleExpression(expression);
  return parsed.ok ? undefined : parsed.problem;
}
