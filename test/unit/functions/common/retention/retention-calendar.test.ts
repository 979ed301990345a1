/**
 * The calendar arithmetic under the retention planner (calendar.ts, iso-time.ts, zone-calendar.ts
 * and newest-first.ts in functions/common), checked against the runtime's own Date and Intl.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newestFirst } from '../../../../../functions/common/retention/newest-first.ts';
import {
  civilFromDays,
  daysFromCivil,
  formatIsoWeek,
  isoWeek,
} from '../../../../../functions/common/time/calendar.ts';
import { parseIsoDuration } from '../../../../../functions/common/time/duration.ts';
import { parseIsoTime } from '../../../../../functions/common/time/iso-time.ts';
import { ZoneCalendar } from '../../../../../functions/common/time/zone-calendar.ts';

const DAY = 86_400_000;
const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'America/St_Johns',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Pacific/Apia',
  'Africa/Casablanca',
] as const;

const formats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from the wall clock Intl reports, one Intl call per question: the reference. */
function intlOffset(zone: string, instant: number): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, format);
  }
  const parts = format.formatToParts(instant);
  const field = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const wall = Date.UTC(
    field('year'),
    field('month') - 1,
    field('day'),
    field('hour'),
    field('minute'),
    field('second'),
  );
  return wall - Math.floor(instant / 1000) * 1000;
}

describe('civil dates', () => {
  it('agrees with Date.UTC on every day number from year 0 to 9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -719_528, max: 2_932_896 }), (days) => {
        // Act
        const { year, month, day } = civilFromDays(days);

        // Assess
        const date = new Date(days * DAY);
        expect([year, month, day]).toEqual([
          date.getUTCFullYear(),
          date.getUTCMonth() + 1,
          date.getUTCDate(),
        ]);
        expect(daysFromCivil(year, month, day)).toBe(days);
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['2020-12-31', '2020-W53'],
    ['2021-01-03', '2020-W53'],
    ['2021-01-04', '2021-W01'],
    ['2026-12-31', '2026-W53'],
    ['2027-01-01', '2026-W53'],
    ['2027-01-03', '2026-W53'],
    ['2027-01-04', '2027-W01'],
    ['2024-12-30', '2025-W01'],
    ['2010-01-03', '2009-W53'],
    ['2026-03-29', '2026-W13'],
  ])('puts %s in ISO week %s', (date, week) => {
    // Act
    const days = Date.parse(`${date}T00:00:00Z`) / DAY;

    // Assess
    expect(formatIsoWeek(days)).toBe(week);
  });

  it('numbers ISO weeks from 1 to 52 or 53, each starting on a Monday', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50_000 }), (days) => {
        // Act
        const { weekYear, week } = isoWeek(days);

        // Assess: the week's Thursday lies in weekYear, and week N's Thursday is Jan 1st's + 7(N-1)-ish.
        const thursday = days - ((new Date(days * DAY).getUTCDay() + 6) % 7) + 3;
        expect(new Date(thursday * DAY).getUTCFullYear()).toBe(weekYear);
        const firstThursday =
          daysFromCivil(weekYear, 1, 1) + ((4 - new Date(Date.UTC(weekYear, 0, 1)).getUTCDay() + 7) % 7);
        expect(week).toBe((thursday - firstThursday) / 7 + 1);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseIsoTime', () => {
  it.each([
    ['2026-03-29T01:30:00Z', Date.UTC(2026, 2, 29, 1, 30)],
    ['2026-03-29T01:30Z', Date.UTC(2026, 2, 29, 1, 30)],
    ['2026-03-29T01:30:00.5Z', Date.UTC(2026, 2, 29, 1, 30, 0, 500)],
    ['2026-03-29T01:30:00.123456789Z', Date.UTC(2026, 2, 29, 1, 30, 0, 123)],
    ['2026-03-29T03:30:00+02:00', Date.UTC(2026, 2, 29, 1, 30)],
    ['2026-03-28T20:00:00-05:30', Date.UTC(2026, 2, 29, 1, 30)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['0001-01-01T00:00:00Z', Date.UTC(2001, 0, 1) - 2000 * 365.2425 * DAY],
  ])('reads %s', (text, expected) => {
    expect(parseIsoTime(text)).toBe(expected);
  });

  it.each([
    '2026-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-03-29T24:00:00Z',
    '2026-03-29T23:60:00Z',
    '2026-03-29T23:59:60Z',
    '2026-03-29T01:30:00',
    '2026-03-29T01:30:00+0200',
    '2026-03-29T01:30:00+24:00',
    '2026-03-29T01:30:00.Z',
    '2026-03-29T01:30:00Zjunk',
    '2026-03-29 01:30:00Z',
    '2026-3-29T01:30:00Z',
    '+2026-03-29T01:30:00Z',
    '',
  ])('refuses %j', (text) => {
    expect(parseIsoTime(text)).toBeUndefined();
  });

  it('agrees with Date.parse on every toISOString output', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), (millis) => {
        expect(parseIsoTime(new Date(millis).toISOString())).toBe(millis);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('ZoneCalendar offsets', () => {
  it.each(ZONES)('agrees with Intl in %s at random instants from 1900 to 2100', (zone) => {
    const calendar = new ZoneCalendar(zone);
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) }), (instant) => {
        expect(calendar.offsetAt(instant)).toBe(intlOffset(zone, instant));
      }),
      { numRuns: 400 },
    );
  });

  it.each(ZONES)('agrees with Intl in %s second by second around its changes', (zone) => {
    // Prepare: every second within 3 s of each change in 2026 (found by scanning hourly).
    const calendar = new ZoneCalendar(zone);
    const probes: number[] = [];
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 3_600_000) {
      if (intlOffset(zone, t) !== intlOffset(zone, t + 3_600_000)) {
        for (let s = t; s <= t + 3_600_000; s += 60_000) {
          if (intlOffset(zone, s) !== intlOffset(zone, s + 60_000)) {
            for (let u = s - 3000; u <= s + 63_000; u += 1000) probes.push(u);
          }
        }
      }
    }

    // Assess
    for (const instant of probes)
      expect([instant, calendar.offsetAt(instant)]).toEqual([instant, intlOffset(zone, instant)]);
  });

  it('knows Apia skipped 2011-12-30 entirely', () => {
    // Prepare
    const calendar = new ZoneCalendar('Pacific/Apia');

    // Act: the last second of 12-29 and the first of 12-31, local.
    const before = calendar.localMillis(Date.UTC(2011, 11, 30, 9, 59, 59));
    const after = calendar.localMillis(Date.UTC(2011, 11, 30, 10, 0, 0));

    // Assess
    expect(new Date(before).toISOString()).toBe('2011-12-29T23:59:59.000Z');
    expect(new Date(after).toISOString()).toBe('2011-12-31T00:00:00.000Z');
  });
});

describe('ZoneCalendar wall clock to instant', () => {
  const berlin = new ZoneCalendar('Europe/Berlin');

  it('takes the earlier instant in the repeated fall-back hour', () => {
    // Act: 02:30 on 2026-10-25 happens at 00:30Z (CEST) and 01:30Z (CET).
    const instant = berlin.instantOf(Date.UTC(2026, 9, 25, 2, 30));

    // Assess
    expect(new Date(instant).toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });

  it('moves a wall time in the skipped spring-forward hour forward by the gap', () => {
    // Act: 02:30 on 2026-03-29 does not exist; 03:30 CEST is 01:30Z.
    const instant = berlin.instantOf(Date.UTC(2026, 2, 29, 2, 30));

    // Assess
    expect(new Date(instant).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });

  it('round-trips every instant outside repeated hours', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2070, 0, 1) }),
        (zone, instant) => {
          const calendar = new ZoneCalendar(zone);
          const local = calendar.localMillis(instant);
          const back = calendar.instantOf(local);
          // In a repeated hour the earlier instant is chosen; it reads the same wall clock.
          expect(back <= instant).toBe(true);
          expect(calendar.localMillis(back)).toBe(local);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('ZoneCalendar subtraction', () => {
  const utc = new ZoneCalendar('UTC');
  const berlin = new ZoneCalendar('Europe/Berlin');
  const minus = (calendar: ZoneCalendar, iso: string, duration: string) =>
    new Date(calendar.subtract(Date.parse(iso), parseIsoDuration(duration)!)).toISOString();

  it.each([
    ['2026-03-31T12:00:00Z', 'P1M', '2026-02-28T12:00:00.000Z'],
    ['2024-03-31T12:00:00Z', 'P1M', '2024-02-29T12:00:00.000Z'],
    ['2024-02-29T12:00:00Z', 'P1Y', '2023-02-28T12:00:00.000Z'],
    ['2024-02-29T12:00:00Z', 'P4Y', '2020-02-29T12:00:00.000Z'],
    ['2026-01-31T00:00:00Z', 'P2M', '2025-11-30T00:00:00.000Z'],
    ['2026-03-31T12:00:00Z', 'P1M1D', '2026-02-27T12:00:00.000Z'],
    ['2026-01-05T00:00:00Z', 'P1W', '2025-12-29T00:00:00.000Z'],
    ['2026-01-01T01:00:00Z', 'P1DT2H', '2025-12-30T23:00:00.000Z'],
    ['2026-01-01T00:00:00Z', 'PT90M', '2025-12-31T22:30:00.000Z'],
  ])('%s − %s = %s in UTC', (from, duration, expected) => {
    expect(minus(utc, from, duration)).toBe(expected);
  });

  it('subtracts a calendar day across spring-forward as 23 hours', () => {
    // 2026-03-29 12:00 CEST − P1D = 2026-03-28 12:00 CET.
    expect(minus(berlin, '2026-03-29T10:00:00Z', 'P1D')).toBe('2026-03-28T11:00:00.000Z');
  });

  it('subtracts a calendar day across fall-back as 25 hours', () => {
    // 2026-10-26 12:00 CET − P1D = 2026-10-25 12:00 CET, but 10-24 12:00 is CEST: 25 hours.
    expect(minus(berlin, '2026-10-25T11:00:00Z', 'P1D')).toBe('2026-10-24T10:00:00.000Z');
  });

  it('subtracts hours as elapsed time across a change', () => {
    // 2026-03-29 04:00 CEST (02:00Z) − PT3H = 23:00Z, which reads 00:00 CET.
    expect(minus(berlin, '2026-03-29T02:00:00Z', 'PT3H')).toBe('2026-03-28T23:00:00.000Z');
  });
});

describe('newestFirst', () => {
  it('orders by time descending, equal times in input order, with or without radix sort', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 0, maxLength: 3000 }),
        fc.constantFrom(1, 1000, 3_600_000, 2 ** 33, 2 ** 40, 2 ** 46, 2 ** 47),
        (steps, unit) => {
          // Prepare: few distinct values so ties are common; units span 1 to 5 radix passes and, at
          // 2^47, ages too large for exact radix digits (the comparison-sort path).
          const times = Float64Array.from(steps, (step) => Date.UTC(2026, 0, 1) + step * unit);
          const indices = Uint32Array.from(times.keys());

          // Act
          const { order, times: sorted } = newestFirst(indices, times);

          // Assess
          const expected = [...indices].sort((a, b) => times[b]! - times[a]! || a - b);
          expect([...order]).toEqual(expected);
          expect([...sorted]).toEqual(expected.map((index) => times[index]!));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('sorts a subset of indices', () => {
    // Prepare
    const times = Float64Array.from([5, 9, 1, 9, 7]);

    // Act
    const { order } = newestFirst(Uint32Array.from([0, 2, 3, 4]), times);

    // Assess
    expect([...order]).toEqual([3, 4, 0, 2]);
  });
});
