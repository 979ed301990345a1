/** Schedule rules judged at synth time: past at(), crons that never fire again, at most hourly cleanup and drills. */
import { describe, expect, it } from 'vitest';
import { parseCron } from '../../../../lib/config/cron-expression.ts';
import { nextCronFiring, scheduleRuleProblems } from '../../../../lib/config/schedule-rules.ts';

const SYNTH = new Date('2026-06-01T00:00:00Z');

function messages(name: string, expression: string, timeZone = 'UTC', now = SYNTH): string[] {
  return scheduleRuleProblems(name, expression, timeZone, now).map((problem) => problem.message);
}

function cron(body: string) {
  const parsed = parseCron(body);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.value;
}

describe('one-time schedules', () => {
  it('refuses an at() already past at synth time, naming the schedule', () => {
    // Act
    const problems = scheduleRuleProblems('drDrill', 'at(2026-05-31T23:00:00)', 'UTC', SYNTH);

    // Assess
    expect(problems).toEqual([
      {
        path: ['schedules', 'drDrill', 'expression'],
        message:
          'at(2026-05-31T23:00:00) in UTC is already past at synth time (2026-06-01T00:00:00.000Z): Scheduler would never run it',
      },
    ]);
  });

  it('judges an at() in the schedule’s time zone', () => {
    // Prepare: 01:30 in Berlin (UTC+2 in June) was 23:30 UTC the day before synth.
    const expression = 'at(2026-06-01T01:30:00)';

    // Act / Assess
    expect(messages('health', expression, 'Europe/Berlin')).toHaveLength(1);
    expect(messages('health', expression, 'UTC')).toEqual([]);
  });

  it('accepts an at() in the future', () => {
    expect(messages('drDrill', 'at(2026-06-01T00:01:00)')).toEqual([]);
  });
});

describe('crons that never fire again', () => {
  it('refuses a cron whose only year is past', () => {
    expect(messages('health', 'cron(0 0 1 1 ? 2025)')).toEqual([
      'cron(0 0 1 1 ? 2025) never fires after synth time (2026-06-01T00:00:00.000Z in UTC)',
    ]);
  });

  it('refuses a day no listed month has, saying why', () => {
    expect(messages('routineMaintenance', 'cron(0 0 31 2,4 ? *)')).toEqual([
      'cron(0 0 31 2,4 ? *) never fires after synth time (2026-06-01T00:00:00.000Z in UTC): day-of-month 31 never occurs in month 2,4',
    ]);
  });

  it('refuses 29 February in a year list without a leap year', () => {
    expect(messages('health', 'cron(0 0 29 2 ? 2027)')).toHaveLength(1);
  });

  it('finds 29 February in a leap year', () => {
    expect(nextCronFiring(cron('0 0 29 2 ? 2027-2028'), 'UTC', SYNTH)).toEqual(
      new Date('2028-02-29T00:00:00Z'),
    );
  });

  it('finds the next firing in the schedule’s time zone, Sunday being day 1', () => {
    // Prepare: 2026-06-07 is a Sunday; 03:00 in Berlin is 01:00 UTC.
    const next = nextCronFiring(cron('0 3 ? * 1 *'), 'Europe/Berlin', SYNTH);

    // Assess
    expect(next).toEqual(new Date('2026-06-07T01:00:00Z'));
  });

  it('finds the second Tuesday of the month for 3#2', () => {
    expect(nextCronFiring(cron('0 9 ? * 3#2 *'), 'UTC', SYNTH)).toEqual(new Date('2026-06-09T09:00:00Z'));
  });
});

describe('cleanup and DR drills run at most hourly', () => {
  it('refuses a cleanup rate under an hour', () => {
    expect(messages('cleanup', 'rate(30 minutes)')).toEqual([
      'rate(30 minutes) runs every 30 minutes; cleanup may run at most once an hour: each cleanup run deletes recovery points',
    ]);
  });

  it('accepts a cleanup every 60 minutes', () => {
    expect(messages('cleanup', 'rate(60 minutes)')).toEqual([]);
  });

  it('refuses a drill cron with two minutes in an hour', () => {
    expect(messages('drDrill', 'cron(0,30 5 1 1 ? *)')).toEqual([
      'cron(0,30 5 1 1 ? *) fires 2 times an hour (minutes 0,30); drDrill may run at most once an hour: each drill restores databases and data and tears them down',
    ]);
  });

  it('accepts a drill every hour on the first of the month', () => {
    expect(messages('drDrill', 'cron(15 * 1 * ? *)')).toEqual([]);
  });

  it('leaves health checks free to run every few minutes', () => {
    expect(messages('health', 'rate(5 minutes)')).toEqual([]);
  });
});
