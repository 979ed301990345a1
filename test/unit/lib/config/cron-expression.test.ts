/**
 * The Scheduler cron grammar (six fields; `?`, L, W and # rules; ranges per field), as
 * EventBridge Scheduler documents it.
 */
import { describe, expect, it } from 'vitest';
import { parseCron } from '../../../../lib/config/cron-expression.ts';

function problemOf(body: string): string | undefined {
  const parsed = parseCron(body);
  return parsed.ok ? undefined : parsed.problem;
}

describe('parseCron accepts what Scheduler documents', () => {
  it.each([
    ['a daily time', '0 2 * * ? *'],
    ['a weekday by name', '0 3 ? * SUN *'],
    ['a list of months', '0 5 1 1,4,7,10 ? *'],
    ['a month range by name', '0 0 ? JAN-MAR MON *'],
    ['a weekday range', '0 18 ? * MON-FRI *'],
    ['lowercase names', '0 0 ? * mon *'],
    ['a start and step', '0/15 * * * ? *'],
    ['a wildcard and step', '*/5 * * * ? *'],
    ['a range and step', '0 0 1-31/2 * ? *'],
    ['the last day of the month', '0 0 L * ? *'],
    ['the weekday nearest a day', '0 0 15W * ? *'],
    ['the last Friday of the month', '15 10 ? * 6L 2019-2022'],
    ['every Saturday as L', '0 0 ? * L *'],
    ['the second Tuesday', '0 0 ? * 3#2 *'],
    ['a year step', '0 0 1 1 ? 2030/2'],
  ])('accepts %s (%s)', (_label, body) => {
    expect(problemOf(body)).toBeUndefined();
  });
});

describe('parseCron refuses what Scheduler would refuse', () => {
  it.each([
    ['five fields', '0 0 * * ?', 'a cron expression has 6 fields'],
    ['seven fields', '0 0 * * ? * *', 'a cron expression has 6 fields'],
    ['white space inside the parentheses', ' 0 0 * * ? *', 'no white space just inside'],
    [
      'no "?" in either day field',
      '0 3 * * SUN *',
      'exactly one of day-of-month and day-of-week must be "?"',
    ],
    ['"?" in both day fields', '0 3 ? * ? *', 'exactly one of day-of-month and day-of-week must be "?"'],
    ['"?" in the minutes', '? 0 * * ? *', 'cron minutes field "?" takes only numbers'],
    ['"?" in the year', '0 0 * * ? ?', 'cron year field "?" takes only numbers'],
    ['minute 60', '60 3 * * ? *', 'cron minutes value 60 is outside 0-59'],
    ['hour 24', '0 24 * * ? *', 'cron hours value 24 is outside 0-23'],
    ['day-of-month 0', '0 0 0 * ? *', 'cron day-of-month value 0 is outside 1-31'],
    ['day-of-month 32', '0 0 32 * ? *', 'cron day-of-month value 32 is outside 1-31'],
    ['month 13', '0 0 ? 13 MON *', 'cron month value 13 is outside 1-12'],
    ['day-of-week 0 (cron-style Sunday)', '0 0 ? * 0 *', 'cron day-of-week value 0 is outside 1-7'],
    ['day-of-week 8', '0 0 ? * 8 *', 'cron day-of-week value 8 is outside 1-7'],
    ['year 1969', '0 0 1 1 ? 1969', 'cron year value 1969 is outside 1970-2199'],
    ['year 2200', '0 0 1 1 ? 2200', 'cron year value 2200 is outside 1970-2199'],
    ['a reversed range', '0 22-2 * * ? *', 'cron hours range "22-2" is reversed'],
    ['a zero step', '0 0 * * ? 2030/0', 'cron year step "0" is not a whole number'],
    ['a step longer than the field', '0/70 0 * * ? *', 'cron minutes step "70" is not a whole number 1-60'],
    ['a step in day-of-week', '0 0 ? * 1/2 *', 'cron day-of-week field does not take "/" steps'],
    ['W without a day', '0 0 W * ? *', '"L", "nW" and "?" stand alone'],
    ['LW', '0 0 LW * ? *', '"L", "nW" and "?" stand alone'],
    ['L in a list', '0 0 1,L * ? *', '"L", "nW" and "?" stand alone'],
    ['two # expressions', '0 0 ? * 3#1,6#3 *', '"#" allows a single expression'],
    ['a sixth week', '0 0 ? * 3#6 *', 'the week number after "#" must be 1-5'],
    ["cron-parser's H", 'H 0 * * ? *', 'cron minutes value "H" is not a number 0-59'],
    ['an unknown name', '0 0 ? * FUNDAY *', 'cron day-of-week value "FUNDAY"'],
  ])('refuses %s', (_label, body, problem) => {
    expect(problemOf(body)).toContain(problem);
  });
});

describe('parseCron expands each field', () => {
  it('lists the minutes a step selects', () => {
    // Act
    const parsed = parseCron('5/20 * * * ? *');

    // Assess
    expect(parsed.ok && parsed.value.minutes).toEqual([5, 25, 45]);
  });

  it('reads day-of-week names as 1-7 from Sunday', () => {
    // Act
    const parsed = parseCron('0 0 ? * SUN,SAT *');

    // Assess
    expect(parsed.ok && parsed.value.dayOfWeek).toEqual({ kind: 'weekdays', weekdays: [1, 7] });
  });
});
