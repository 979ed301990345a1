/**
 * The retention planner against hand-worked calendars. Every expected keep/delete below was worked
 * out by hand from the semantics in issue 5 (restic's `forget` with an explicit time zone); the
 * comments give the local wall-clock time each instant has in the policy's zone.
 */
import { describe, expect, it } from 'vitest';
import {
  NOT_KEPT,
  planRetention,
  type RetentionDecision,
  type RetentionPoint,
} from '../../../../../functions/common/retention/retention.ts';
import type { RetentionPolicyInput } from '../../../../../functions/common/retention/retention-policy.ts';
import { ValidationError } from '../../../../../functions/common/runtime/errors.ts';

const NOW = new Date('2027-06-01T00:00:00Z');

function managed(id: string, createdAt: string, verified = false): RetentionPoint {
  return { id, createdAt, managed: true, verified };
}

/** Plans and returns the decisions keyed by id. */
function plan(
  points: readonly RetentionPoint[],
  policy: RetentionPolicyInput,
  now: Date = NOW,
): Map<string, RetentionDecision> {
  return new Map(planRetention(points, policy, { now }).map((decision) => [decision.id, decision]));
}

function keptIds(decisions: Map<string, RetentionDecision>): string[] {
  return [...decisions.values()].filter((d) => d.action === 'keep').map((d) => d.id);
}

/** Policies below isolate one rule: no minKeep floor unless the test is about it. */
const ONLY = { minKeep: 0 } as const;

describe('restic forget examples', () => {
  it('keeps the last four Sundays of twelve weekly backups with keepDaily 4', () => {
    // Prepare: restic's documented example, one backup every Sunday 11:00 for 12 weeks.
    const sundays = [
      '2019-09-01',
      '2019-09-08',
      '2019-09-15',
      '2019-09-22',
      '2019-09-29',
      '2019-10-06',
      '2019-10-13',
      '2019-10-20',
      '2019-10-27',
      '2019-11-03',
      '2019-11-10',
      '2019-11-17',
    ];
    const points = sundays.map((day) => managed(day, `${day}T11:00:00Z`));

    // Act
    const decisions = plan(points, { keepDaily: 4 });

    // Assess
    expect(keptIds(decisions)).toEqual(['2019-10-27', '2019-11-03', '2019-11-10', '2019-11-17']);
    expect(decisions.get('2019-11-17')?.reasons).toEqual(['daily bucket 2019-11-17 (1 of 4)']);
    expect(decisions.get('2019-10-20')?.reasons).toEqual([NOT_KEPT]);
  });

  it('keeps 7 daily, weekly, monthly and yearly points of a century of dailies, sharing overlaps', () => {
    // Prepare: restic's documented example, a backup every day for 100 years (1950-2049).
    const points: RetentionPoint[] = [];
    for (let day = Date.UTC(1950, 0, 1); day <= Date.UTC(2049, 11, 31); day += 86_400_000) {
      points.push(
        managed(new Date(day).toISOString().slice(0, 10), new Date(day + 11 * 3_600_000).toISOString()),
      );
    }

    // Act
    const decisions = planRetention(
      points,
      { keepDaily: 7, keepWeekly: 5, keepMonthly: 12, keepYearly: 75, minKeep: 0 },
      { now: new Date('2050-01-01T00:00:00Z') },
    );

    // Assess: every option keeps its full count. 2049-12-31 is a Friday, so the dailies
    // (12-25 … 12-31) already hold two weekly points (12-31 and Sunday 12-26): weekly adds 12-19,
    // 12-12 and 12-05; monthly adds the 11 month ends before December; yearly the 74 year ends
    // before 2049. 7 + 3 + 11 + 74 = 95.
    const kept = decisions.filter((d) => d.action === 'keep');
    const tally = (label: string) => kept.filter((d) => d.reasons.some((r) => r.startsWith(label))).length;
    expect([tally('daily'), tally('weekly'), tally('monthly'), tally('yearly')]).toEqual([7, 5, 12, 75]);
    expect(kept).toHaveLength(95);
    expect(kept.filter((d) => d.reasons.some((r) => r.startsWith('weekly'))).map((d) => d.id)).toEqual([
      '2049-12-05',
      '2049-12-12',
      '2049-12-19',
      '2049-12-26',
      '2049-12-31',
    ]);
    expect(kept[0]).toEqual({ id: '1975-12-31', action: 'keep', reasons: ['yearly bucket 1975 (75 of 75)'] });
  });
});

describe('count options', () => {
  it('keeps every managed point with keepLast -1, numbering them', () => {
    // Prepare
    const points = [managed('b', '2026-03-02T00:00:00Z'), managed('a', '2026-03-01T00:00:00Z')];

    // Act
    const decisions = plan(points, { keepLast: -1, ...ONLY });

    // Assess
    expect(decisions.get('b')?.reasons).toEqual(['last (1 of unlimited)']);
    expect(decisions.get('a')?.reasons).toEqual(['last (2 of unlimited)']);
  });

  it('keeps the newest point of each bucket, not the first one made', () => {
    // Prepare: two points on each of two days.
    const points = [
      managed('29-early', '2026-03-29T08:00:00Z'),
      managed('29-late', '2026-03-29T10:00:00Z'),
      managed('28-late', '2026-03-28T10:00:00Z'),
      managed('28-early', '2026-03-28T08:00:00Z'),
      managed('27-late', '2026-03-27T10:00:00Z'),
      managed('27-early', '2026-03-27T08:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepDaily: 2, ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['29-late', '28-late']);
  });

  it('also keeps the oldest point while the option has count left', () => {
    // Prepare: two days only, keepDaily allows five.
    const points = [
      managed('29-late', '2026-03-29T10:00:00Z'),
      managed('29-early', '2026-03-29T08:00:00Z'),
      managed('28-late', '2026-03-28T10:00:00Z'),
      managed('28-early', '2026-03-28T08:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepDaily: 5, ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['29-late', '28-late', '28-early']);
    expect(decisions.get('28-early')?.reasons).toEqual(['daily bucket 2026-03-28 (oldest point, 3 of 5)']);
  });

  it('does not keep the oldest point once the option has used its count', () => {
    // Prepare
    const points = [
      managed('29-late', '2026-03-29T10:00:00Z'),
      managed('28-late', '2026-03-28T10:00:00Z'),
      managed('28-early', '2026-03-28T08:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepDaily: 2, ...ONLY });

    // Assess
    expect(decisions.get('28-early')?.action).toBe('delete');
  });

  it('ORs the options together and lists every option that keeps a point', () => {
    // Prepare
    const points = [
      managed('sun', '2026-03-29T10:00:00Z'),
      managed('sat', '2026-03-28T10:00:00Z'),
      managed('prev-sun', '2026-03-22T10:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepLast: 1, keepDaily: 2, keepWeekly: 2, keepMonthly: 1, ...ONLY });

    // Assess
    expect(decisions.get('sun')?.reasons).toEqual([
      'last (1 of 1)',
      'daily bucket 2026-03-29 (1 of 2)',
      'weekly bucket 2026-W13 (1 of 2)',
      'monthly bucket 2026-03 (1 of 1)',
    ]);
    expect(decisions.get('sat')?.reasons).toEqual(['daily bucket 2026-03-28 (2 of 2)']);
    expect(decisions.get('prev-sun')?.reasons).toEqual(['weekly bucket 2026-W12 (2 of 2)']);
  });

  it('keeps equal times in input order: the first listed is the newer one', () => {
    // Prepare
    const same = '2026-03-29T10:00:00Z';
    const forward = [managed('x', same), managed('y', same)];
    const backward = [managed('y', same), managed('x', same)];

    // Act
    const first = plan(forward, { keepLast: 1, ...ONLY });
    const second = plan(backward, { keepLast: 1, ...ONLY });

    // Assess
    expect(keptIds(first)).toEqual(['x']);
    expect(keptIds(second)).toEqual(['y']);
  });

  it('reads times with any offset as the same instant', () => {
    // Prepare: 10:00Z written three ways on one day, then one earlier point.
    const points = [
      managed('z', '2026-03-29T10:00:00Z'),
      managed('plus', '2026-03-29T11:00:00.000+01:00'),
      managed('minus', '2026-03-29T05:30:00-04:30'),
      managed('older', '2026-03-29T09:59:59.999Z'),
    ];

    // Act
    const decisions = plan(points, { keepLast: 3, ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['z', 'plus', 'minus']);
  });

  it('accepts Date times as the AWS SDK returns them', () => {
    // Prepare
    const points = [
      { id: 'new', createdAt: new Date('2026-03-29T10:00:00Z'), managed: true, verified: false },
      { id: 'old', createdAt: new Date('2026-03-28T10:00:00Z'), managed: true, verified: false },
    ];

    // Act
    const decisions = plan(points, { keepLast: 1, ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['new']);
  });
});

describe('time zones and daylight saving (Europe/Berlin)', () => {
  it('counts the hour skipped by the spring-forward change as no bucket', () => {
    // Prepare: 2026-03-29 at 01:00Z clocks jump from 02:00 CET to 03:00 CEST.
    const points = [
      managed('04:10', '2026-03-29T02:10:00Z'), // 04:10 CEST
      managed('03:45', '2026-03-29T01:45:00Z'), // 03:45 CEST
      managed('03:15', '2026-03-29T01:15:00Z'), // 03:15 CEST
      managed('01:30', '2026-03-29T00:30:00Z'), // 01:30 CET
      managed('01:10', '2026-03-29T00:10:00Z'), // 01:10 CET
    ];

    // Act
    const decisions = plan(points, { keepHourly: 3, timeZone: 'Europe/Berlin', ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['04:10', '03:45', '01:30']);
    expect(decisions.get('01:30')?.reasons).toEqual(['hourly bucket 2026-03-29 01:00 (3 of 3)']);
  });

  it('puts both passes through the repeated fall-back hour into one hourly bucket', () => {
    // Prepare: 2026-10-25 at 01:00Z clocks go back from 03:00 CEST to 02:00 CET.
    const points = [
      managed('03:10 CET', '2026-10-25T02:10:00Z'),
      managed('02:50 CET', '2026-10-25T01:50:00Z'),
      managed('02:10 CET', '2026-10-25T01:10:00Z'),
      managed('02:50 CEST', '2026-10-25T00:50:00Z'),
      managed('02:10 CEST', '2026-10-25T00:10:00Z'),
      managed('01:50 CEST', '2026-10-24T23:50:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepHourly: 3, timeZone: 'Europe/Berlin', ...ONLY });

    // Assess: the hours are 03, 02 (both passes), 01.
    expect(keptIds(decisions)).toEqual(['03:10 CET', '02:50 CET', '01:50 CEST']);
    expect(decisions.get('02:50 CET')?.reasons).toEqual(['hourly bucket 2026-10-25 02:00 (2 of 3)']);
  });

  it('sees the same repeated hour as two hourly buckets in UTC', () => {
    // Prepare: the instants of the previous test, planned in UTC.
    const points = [
      managed('02:10Z', '2026-10-25T02:10:00Z'),
      managed('01:50Z', '2026-10-25T01:50:00Z'),
      managed('01:10Z', '2026-10-25T01:10:00Z'),
      managed('00:50Z', '2026-10-25T00:50:00Z'),
      managed('00:10Z', '2026-10-25T00:10:00Z'),
      managed('23:50Z', '2026-10-24T23:50:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepHourly: 3, timeZone: 'UTC', ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['02:10Z', '01:50Z', '00:50Z']);
  });

  it('starts a day at local midnight, not UTC midnight', () => {
    // Prepare: in January Berlin is UTC+1, so 23:30Z is already the next day there.
    const points = [
      managed('23:30Z', '2026-01-10T23:30:00Z'), // 2026-01-11 00:30 local
      managed('22:30Z', '2026-01-10T22:30:00Z'), // 2026-01-10 23:30 local
      managed('12:00Z', '2026-01-10T12:00:00Z'), // 2026-01-10 13:00 local
      managed('09:00Z', '2026-01-09T09:00:00Z'),
    ];

    // Act
    const berlin = plan(points, { keepDaily: 2, timeZone: 'Europe/Berlin', ...ONLY });
    const utc = plan(points, { keepDaily: 2, timeZone: 'UTC', ...ONLY });

    // Assess
    expect(keptIds(berlin)).toEqual(['23:30Z', '22:30Z']);
    expect(berlin.get('23:30Z')?.reasons).toEqual(['daily bucket 2026-01-11 (1 of 2)']);
    expect(keptIds(utc)).toEqual(['23:30Z', '09:00Z']);
    expect(utc.get('23:30Z')?.reasons).toEqual(['daily bucket 2026-01-10 (1 of 2)']);
  });

  it('puts a point in the previous month west of UTC', () => {
    // Prepare: 02:00Z on July 1st is 22:00 on June 30th in New York (EDT, UTC-4).
    const points = [managed('july-utc', '2026-07-01T02:00:00Z'), managed('june', '2026-06-15T12:00:00Z')];

    // Act
    const decisions = plan(points, { keepMonthly: 1, timeZone: 'America/New_York', ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['july-utc']);
    expect(decisions.get('july-utc')?.reasons).toEqual(['monthly bucket 2026-06 (1 of 1)']);
  });

  it('measures keepWithin P1D in calendar days: 23 hours across spring-forward', () => {
    // Prepare: newest 2026-03-29 12:00 CEST; a calendar day earlier is 2026-03-28 12:00 CET = 11:00Z.
    const points = [
      managed('newest', '2026-03-29T10:00:00Z'),
      managed('11:30Z', '2026-03-28T11:30:00Z'),
      managed('11:00Z', '2026-03-28T11:00:00Z'),
      managed('10:30Z', '2026-03-28T10:30:00Z'),
    ];

    // Act
    const calendarDay = plan(points, { keepWithin: 'P1D', timeZone: 'Europe/Berlin', ...ONLY });
    const hours = plan(points, { keepWithin: 'PT24H', timeZone: 'Europe/Berlin', ...ONLY });

    // Assess
    expect(keptIds(calendarDay)).toEqual(['newest', '11:30Z']);
    expect(calendarDay.get('11:30Z')?.reasons).toEqual(['within P1D of newest']);
    expect(keptIds(hours)).toEqual(['newest', '11:30Z', '11:00Z', '10:30Z']);
  });

  it('resolves a calendar day back into the skipped hour by moving forward, as Temporal does', () => {
    // Prepare: newest 2026-03-30 02:30 CEST (00:30Z); a day earlier reads 02:30 on 03-29, which does
    // not exist; it becomes 03:30 CEST = 01:30Z.
    const points = [
      managed('newest', '2026-03-30T00:30:00Z'),
      managed('01:31Z', '2026-03-29T01:31:00Z'),
      managed('01:30Z', '2026-03-29T01:30:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepWithin: 'P1D', timeZone: 'Europe/Berlin', ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['newest', '01:31Z']);
  });
});

describe('ISO weeks', () => {
  it('puts 2026-12-31, 2027-01-01 and 2027-01-03 in week 2026-W53', () => {
    // Prepare
    const points = [
      managed('2027-01-04', '2027-01-04T10:00:00Z'), // Monday, 2027-W01
      managed('2027-01-03', '2027-01-03T10:00:00Z'), // Sunday, 2026-W53
      managed('2027-01-01', '2027-01-01T10:00:00Z'), // Friday, 2026-W53
      managed('2026-12-31', '2026-12-31T10:00:00Z'), // Thursday, 2026-W53
      managed('2026-12-27', '2026-12-27T10:00:00Z'), // Sunday, 2026-W52
      managed('2026-12-20', '2026-12-20T10:00:00Z'), // Sunday, 2026-W51
    ];

    // Act
    const decisions = plan(points, { keepWeekly: 3, ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['2027-01-04', '2027-01-03', '2026-12-27']);
    expect(decisions.get('2027-01-03')?.reasons).toEqual(['weekly bucket 2026-W53 (2 of 3)']);
  });

  it('puts 2021-01-03 in week 2020-W53 and 2021-01-04 in 2021-W01', () => {
    // Prepare
    const points = [
      managed('2021-01-04', '2021-01-04T10:00:00Z'),
      managed('2021-01-03', '2021-01-03T10:00:00Z'),
      managed('2020-12-28', '2020-12-28T10:00:00Z'),
      managed('2020-12-27', '2020-12-27T10:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepWeekly: 2, ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['2021-01-04', '2021-01-03']);
    expect(decisions.get('2021-01-04')?.reasons).toEqual(['weekly bucket 2021-W01 (1 of 2)']);
    expect(decisions.get('2021-01-03')?.reasons).toEqual(['weekly bucket 2020-W53 (2 of 2)']);
  });
});

describe('month ends and leap days', () => {
  it('clamps keepWithin P1M from March 31st to February 28th', () => {
    // Prepare: without clamping, 03-31 − 1 month would overflow to March 3rd.
    const points = [
      managed('03-31', '2026-03-31T12:00:00Z'),
      managed('03-02', '2026-03-02T12:00:00Z'),
      managed('02-28 12:00:01', '2026-02-28T12:00:01Z'),
      managed('02-28 12:00:00', '2026-02-28T12:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepWithin: 'P1M', ...ONLY });

    // Assess: strictly newer than 2026-02-28T12:00:00Z.
    expect(keptIds(decisions)).toEqual(['03-31', '03-02', '02-28 12:00:01']);
  });

  it('clamps keepWithin P1M from March 31st to February 29th in a leap year', () => {
    // Prepare
    const points = [
      managed('03-31', '2024-03-31T12:00:00Z'),
      managed('02-29 12:00:01', '2024-02-29T12:00:01Z'),
      managed('02-29 12:00:00', '2024-02-29T12:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepWithin: 'P1M', ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['03-31', '02-29 12:00:01']);
  });

  it('clamps keepWithin P1Y from a leap day to February 28th', () => {
    // Prepare
    const points = [
      managed('leap-day', '2024-02-29T12:00:00Z'),
      managed('2023-03-01', '2023-03-01T00:00:00Z'),
      managed('2023-02-28 12:00:01', '2023-02-28T12:00:01Z'),
      managed('2023-02-28 12:00:00', '2023-02-28T12:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepWithin: 'P1Y', ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['leap-day', '2023-03-01', '2023-02-28 12:00:01']);
  });

  it('keeps a leap day as the newest point of its year with keepYearly', () => {
    // Prepare
    const points = [
      managed('2024-02-29', '2024-02-29T23:00:00Z'),
      managed('2024-01-15', '2024-01-15T12:00:00Z'),
      managed('2023-12-31', '2023-12-31T12:00:00Z'),
      managed('2023-06-01', '2023-06-01T12:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepYearly: 2, ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['2024-02-29', '2023-12-31']);
    expect(decisions.get('2024-02-29')?.reasons).toEqual(['yearly bucket 2024 (1 of 2)']);
  });

  it('keeps the last day of each month with keepMonthly over daily points', () => {
    // Prepare: daily points from 2024-01-25 to 2024-03-05.
    const points: RetentionPoint[] = [];
    for (let day = Date.UTC(2024, 0, 25); day <= Date.UTC(2024, 2, 5); day += 86_400_000) {
      const date = new Date(day).toISOString().slice(0, 10);
      points.push(managed(date, `${date}T06:00:00Z`));
    }

    // Act
    const decisions = plan(points, { keepMonthly: 3, ...ONLY });

    // Assess: 03-05 for March, the leap day for February, 01-31 for January.
    expect(keptIds(decisions)).toEqual(['2024-01-31', '2024-02-29', '2024-03-05']);
  });
});

describe('keepWithin and the future', () => {
  const now = new Date('2026-03-29T12:00:00Z');
  const points = [
    managed('future', '2026-04-01T00:00:00Z'),
    managed('03-29', '2026-03-29T10:00:00Z'),
    managed('03-27', '2026-03-27T10:00:00Z'),
    managed('03-20', '2026-03-20T10:00:00Z'),
  ];

  it('measures keepWithin from the newest point that is not in the future', () => {
    // Act
    const decisions = plan(points, { keepWithin: 'P3D', ...ONLY }, now);

    // Assess: 03-29T10:00Z − 3 days = 03-26T10:00Z.
    expect(keptIds(decisions)).toEqual(['future', '03-29', '03-27']);
    expect(decisions.get('future')?.reasons).toEqual(['within P3D of newest (in the future)']);
  });

  it('keeps every point when all of them are in the future', () => {
    // Act
    const decisions = plan(points, { keepWithin: 'PT1H', ...ONLY }, new Date('2026-01-01T00:00:00Z'));

    // Assess
    expect(keptIds(decisions)).toEqual(['future', '03-29', '03-27', '03-20']);
  });

  it('counts a point in the future as the newest for keepLast', () => {
    // Act
    const decisions = plan(points, { keepLast: 1, ...ONLY }, now);

    // Assess
    expect(keptIds(decisions)).toEqual(['future']);
  });
});

describe('safety floors', () => {
  it('keeps the newest verified point even when the policy would delete it', () => {
    // Prepare
    const points = [
      managed('newest', '2026-03-29T10:00:00Z'),
      managed('verified', '2026-03-28T10:00:00Z', true),
      managed('older-verified', '2026-03-27T10:00:00Z', true),
    ];

    // Act
    const decisions = plan(points, { keepLast: 1, ...ONLY });

    // Assess
    expect(keptIds(decisions)).toEqual(['newest', 'verified']);
    expect(decisions.get('verified')?.reasons).toEqual(['newest verified']);
  });

  it('keeps every point younger than minAge, measured from now', () => {
    // Prepare
    const now = new Date('2026-03-29T12:00:00Z');
    const points = [
      managed('1h', '2026-03-29T11:00:00Z'),
      managed('11h59', '2026-03-29T00:01:00Z'),
      managed('12h', '2026-03-29T00:00:00Z'),
      managed('13h', '2026-03-28T23:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepLast: 1, minAge: 'PT12H', ...ONLY }, now);

    // Assess
    expect(keptIds(decisions)).toEqual(['1h', '11h59']);
    expect(decisions.get('11h59')?.reasons).toEqual(['younger than minAge PT12H']);
  });

  it('keeps the newest other points until minKeep managed points are kept', () => {
    // Prepare
    const points = [
      managed('d', '2026-03-29T10:00:00Z'),
      managed('c', '2026-03-28T10:00:00Z'),
      managed('b', '2026-03-27T10:00:00Z'),
      managed('a', '2026-03-26T10:00:00Z'),
    ];

    // Act
    const decisions = plan(points, { keepLast: 1, minKeep: 3 });

    // Assess
    expect(keptIds(decisions)).toEqual(['d', 'c', 'b']);
    expect(decisions.get('c')?.reasons).toEqual(['minKeep 3']);
  });

  it('keeps the newest managed point by default (minKeep 1) when no rule keeps any', () => {
    // Prepare: keepWithin PT0S keeps only points newer than the newest, i.e. none here.
    const points = [managed('newer', '2026-03-29T10:00:00Z'), managed('older', '2026-03-28T10:00:00Z')];

    // Act
    const decisions = plan(points, { keepWithin: 'PT0S' });

    // Assess
    expect(keptIds(decisions)).toEqual(['newer']);
    expect(decisions.get('newer')?.reasons).toEqual(['minKeep 1']);
  });

  it('keeps every managed point when minKeep exceeds their number', () => {
    // Prepare
    const points = [managed('b', '2026-03-29T10:00:00Z'), managed('a', '2026-03-28T10:00:00Z')];

    // Act
    const decisions = plan(points, { keepLast: 1, minKeep: 5 });

    // Assess
    expect(keptIds(decisions)).toEqual(['b', 'a']);
  });

  it('keeps unmanaged points with reason "unmanaged" and leaves them out of every rule', () => {
    // Prepare: the unmanaged point is the newest and verified; keepLast 1 must still keep a managed one.
    const points = [
      { id: 'manual', createdAt: '2026-03-30T10:00:00Z', managed: false, verified: true },
      managed('managed-new', '2026-03-29T10:00:00Z'),
      managed('managed-old', '2026-03-28T10:00:00Z', true),
    ];

    // Act
    const decisions = plan(points, { keepLast: 1, ...ONLY });

    // Assess
    expect(decisions.get('manual')?.reasons).toEqual(['unmanaged']);
    expect(decisions.get('managed-new')?.reasons).toEqual(['last (1 of 1)']);
    expect(decisions.get('managed-old')?.reasons).toEqual(['newest verified']);
  });
});

describe('decisions', () => {
  it('returns one decision per point in input order', () => {
    // Prepare
    const points = [
      managed('middle', '2026-03-28T10:00:00Z'),
      managed('newest', '2026-03-29T10:00:00Z'),
      { id: 'manual', createdAt: '2026-01-01T00:00:00Z', managed: false, verified: false },
      managed('oldest', '2026-03-27T10:00:00Z'),
    ];

    // Act
    const decisions = planRetention(points, { keepLast: 1 }, { now: NOW });

    // Assess
    expect(decisions.map((d) => [d.id, d.action])).toEqual([
      ['middle', 'delete'],
      ['newest', 'keep'],
      ['manual', 'keep'],
      ['oldest', 'delete'],
    ]);
  });

  it('returns no decisions for no points', () => {
    // Act
    const decisions = planRetention([], { keepDaily: 7 }, { now: NOW });

    // Assess
    expect(decisions).toEqual([]);
  });
});

describe('refusals', () => {
  const points = [managed('a', '2026-03-29T10:00:00Z')];

  function problemsOf(run: () => unknown): readonly { path: string; message: string }[] {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).problems;
    }
    throw new Error('expected a ValidationError');
  }

  it.each([
    ['no option at all', {}],
    ['only zero counts', { keepDaily: 0, keepLast: 0 }],
  ])('refuses a policy with no keep option (%s)', (_, policy) => {
    // Act
    const problems = problemsOf(() => planRetention(points, policy, { now: NOW }));

    // Assess
    expect(problems).toEqual([
      { path: 'policy', message: expect.stringContaining('at least one keep option') },
    ]);
  });

  it('refuses a negative count other than -1', () => {
    // Act
    const problems = problemsOf(() => planRetention(points, { keepDaily: -2 }, { now: NOW }));

    // Assess
    expect(problems).toEqual([
      { path: 'policy.keepDaily', message: expect.stringContaining('-1 (unlimited)') },
    ]);
  });

  it.each(['7d', 'P1.5D', 'P', 'PT'])('refuses the invalid duration %s', (duration) => {
    // Act
    const problems = problemsOf(() =>
      planRetention(points, { keepWithin: duration, minAge: duration }, { now: NOW }),
    );

    // Assess
    expect(problems.map((p) => p.path)).toEqual(['policy.keepWithin', 'policy.minAge']);
  });

  it('refuses an unknown time zone', () => {
    // Act
    const problems = problemsOf(() =>
      planRetention(points, { keepDaily: 7, timeZone: 'Europe/Atlantis' }, { now: NOW }),
    );

    // Assess
    expect(problems.map((p) => p.path)).toEqual(['policy.timeZone']);
  });

  it.each([
    '2026-02-30T10:00:00Z',
    '2026-03-29T24:00:00Z',
    '2026-03-29T10:00:00',
    '2026-03-29 10:00:00Z',
    'yesterday',
    '',
  ])('refuses the unparseable time "%s"', (createdAt) => {
    // Act
    const problems = problemsOf(() =>
      planRetention(
        [managed('a', '2026-03-29T10:00:00Z'), managed('b', createdAt)],
        { keepDaily: 7 },
        { now: NOW },
      ),
    );

    // Assess
    expect(problems).toEqual([{ path: 'points[1].createdAt', message: expect.stringContaining('ISO 8601') }]);
  });

  it('refuses a duplicate id, naming both places', () => {
    // Act
    const problems = problemsOf(() =>
      planRetention(
        [
          managed('a', '2026-03-29T10:00:00Z'),
          managed('b', '2026-03-28T10:00:00Z'),
          managed('a', '2026-03-27T10:00:00Z'),
        ],
        { keepDaily: 7 },
        { now: NOW },
      ),
    );

    // Assess
    expect(problems).toEqual([{ path: 'points[2].id', message: 'duplicate id "a" (also points[0])' }]);
  });

  it('refuses an invalid now', () => {
    // Act
    const problems = problemsOf(() => planRetention(points, { keepDaily: 7 }, { now: new Date('nonsense') }));

    // Assess
    expect(problems.map((p) => p.path)).toEqual(['now']);
  });

  it('lists every problem of policy and points at once', () => {
    // Act
    const problems = problemsOf(() =>
      planRetention(
        [
          managed('a', 'soon'),
          { id: '', createdAt: '2026-03-29T10:00:00Z', managed: 'yes', verified: false } as never,
        ],
        { keepDaily: -5, timeZone: 'Nowhere' },
        { now: NOW },
      ),
    );

    // Assess
    expect(problems.map((p) => p.path)).toEqual([
      'policy.keepDaily',
      'policy.timeZone',
      'points[0].createdAt',
      'points[1].id',
      'points[1].managed',
    ]);
  });

  it('lists the first twenty bad points of many, then how many more', () => {
    // Prepare
    const bad = Array.from({ length: 100 }, (_, i) => managed(`p${i}`, 'not a time'));

    // Act
    const problems = problemsOf(() => planRetention(bad, { keepDaily: 7 }, { now: NOW }));

    // Assess
    expect(problems).toHaveLength(21);
    expect(problems.at(-1)).toEqual({ path: 'points', message: '80 more problems not listed' });
  });
});
