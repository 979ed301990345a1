/**
 * Property tests of the retention planner over thousands of random histories: the safety floors
 * hold for every policy, and the plan equals a deliberately naive reference planner (Intl per
 * point, Date.UTC for the calendar, one walk per option) written from the semantics.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  NOT_KEPT,
  planRetention,
  type RetentionPoint,
} from '../../../../../functions/common/retention/retention.ts';
import {
  COUNT_OPTIONS,
  type RetentionPolicyInput,
} from '../../../../../functions/common/retention/retention-policy.ts';
import { type IsoDuration, parseIsoDuration } from '../../../../../functions/common/time/duration.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'];
/** Instants near which calendars are interesting: DST changes, ISO week 53, year ends, leap day. */
const ANCHORS = [
  '2026-03-29T01:00:00Z',
  '2026-10-25T01:00:00Z',
  '2026-11-01T06:00:00Z',
  '2026-12-31T23:00:00Z',
  '2020-12-31T12:00:00Z',
  '2024-02-29T00:00:00Z',
  '2026-04-05T15:30:00Z',
].map((iso) => Date.parse(iso));

interface History {
  readonly points: RetentionPoint[];
  readonly now: Date;
}

/** Writes an instant with the given offset, so inputs mix `Z` and `±hh:mm` forms. */
function isoWithOffset(instant: number, offsetMinutes: number): string {
  if (offsetMinutes === 0) return new Date(instant).toISOString();
  const local = new Date(instant + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const historyArbitrary: fc.Arbitrary<History> = fc
  .record({
    anchor: fc.constantFrom(...ANCHORS),
    // Coarse steps make equal times common; fine steps make hour and day edges common.
    step: fc.constantFrom(15 * 60_000, HOUR, 7 * HOUR, DAY, 1000),
    entries: fc.array(
      fc.record({
        offset: fc.integer({ min: -1500, max: 60 }),
        managed: fc.integer({ min: 0, max: 99 }).map((n) => n < 85),
        verified: fc.boolean(),
        writtenOffset: fc.constantFrom(0, 0, 60, -300, 330, -570),
      }),
      { minLength: 0, maxLength: 40 },
    ),
    nowOffset: fc.integer({ min: -200, max: 400 }),
  })
  .map(({ anchor, step, entries, nowOffset }) => ({
    points: entries.map((entry, i) => ({
      id: `p${i}`,
      createdAt: isoWithOffset(anchor + entry.offset * step, entry.writtenOffset),
      managed: entry.managed,
      verified: entry.verified,
    })),
    now: new Date(anchor + nowOffset * step),
  }));

const count = fc.constantFrom(0, 0, 0, -1, 1, 2, 3, 5);
const policyArbitrary: fc.Arbitrary<RetentionPolicyInput> = fc
  .record({
    keepLast: count,
    keepHourly: count,
    keepDaily: count,
    keepWeekly: count,
    keepMonthly: count,
    keepYearly: count,
    keepWithin: fc.constantFrom(undefined, undefined, 'PT6H', 'P1D', 'P3D', 'P1W', 'P1M', 'P1Y', 'P1M2DT3H'),
    timeZone: fc.constantFrom(...ZONES),
    minKeep: fc.integer({ min: 0, max: 6 }),
    minAge: fc.constantFrom(undefined, 'PT12H', 'PT90M', 'P1D', 'P2D'),
  })
  .map((policy) => {
    const hasOption = COUNT_OPTIONS.some((option) => policy[option] !== 0) || policy.keepWithin !== undefined;
    const withOption = hasOption ? policy : { ...policy, keepDaily: 1 };
    return Object.fromEntries(Object.entries(withOption).filter(([, value]) => value !== undefined));
  });

/** Managed indices newest first, equal times in input order (Array.prototype.sort is stable). */
function newestFirst(points: readonly RetentionPoint[]): number[] {
  const time = (i: number) => Date.parse(String(points[i]!.createdAt));
  return points
    .map((_, i) => i)
    .filter((i) => points[i]!.managed)
    .sort((a, b) => time(b) - time(a));
}

// --- the naive reference planner -----------------------------------------------------------

interface Wall {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function wallOf(instant: number, zone: string): Wall {
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
  const field = (type: string) => Number(parts.find((part) => part.type === type)!.value);
  return {
    year: field('year'),
    month: field('month'),
    day: field('day'),
    hour: field('hour'),
    minute: field('minute'),
    second: field('second'),
  };
}

function wallMillis(w: Wall): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

function isoWeekKey(w: Wall): string {
  const date = Date.UTC(w.year, w.month - 1, w.day);
  const weekday = (new Date(date).getUTCDay() + 6) % 7;
  const thursday = new Date(date + (3 - weekday) * DAY);
  const year = thursday.getUTCFullYear();
  return `${year}-W${Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY)) + 1}`;
}

function bucketKey(option: string, instant: number, zone: string, position: number): string {
  const w = wallOf(instant, zone);
  switch (option) {
    case 'keepLast':
      return String(position);
    case 'keepHourly':
      return `${w.year}-${w.month}-${w.day}T${w.hour}`;
    case 'keepDaily':
      return `${w.year}-${w.month}-${w.day}`;
    case 'keepWeekly':
      return isoWeekKey(w);
    case 'keepMonthly':
      return `${w.year}-${w.month}`;
    default:
      return `${w.year}`;
  }
}

/** instant − duration: calendar parts on the wall clock (day clamped), then clock parts. */
function subtract(instant: number, d: IsoDuration, zone: string): number {
  const clock = ((d.hours * 60 + d.minutes) * 60 + d.seconds) * 1000;
  if (d.years + d.months + d.weeks + d.days === 0) return instant - clock;
  const w = wallOf(instant, zone);
  const months = w.year * 12 + w.month - 1 - d.years * 12 - d.months;
  const year = Math.floor(months / 12);
  const month = months - year * 12 + 1;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const target =
    Date.UTC(year, month - 1, Math.min(w.day, lastDay) - d.weeks * 7 - d.days, w.hour, w.minute, w.second) +
    (instant % 1000);
  // Every instant whose wall clock reads the target, trying each offset in force within a day of
  // it (no zone changes offset twice within 3 hours); none means the target is in a gap.
  const offsetAt = (t: number) => wallMillis(wallOf(t, zone)) - Math.floor(t / 1000) * 1000;
  const candidates = new Set<number>();
  for (let probe = target - DAY; probe <= target + DAY; probe += 3 * HOUR) {
    const candidate = target - offsetAt(probe);
    if (candidate + offsetAt(candidate) === target) candidates.add(candidate);
  }
  const resolved = candidates.size > 0 ? Math.min(...candidates) : target - offsetAt(target - DAY);
  return resolved - clock;
}

function referencePlan(
  points: readonly RetentionPoint[],
  policy: RetentionPolicyInput,
  now: number,
): string[] {
  const zone = policy.timeZone ?? 'UTC';
  const time = (i: number) => Date.parse(String(points[i]!.createdAt));
  const kept = new Set<number>();
  const order = newestFirst(points);
  for (const option of COUNT_OPTIONS) {
    let left = policy[option] ?? 0;
    let last: string | undefined;
    order.forEach((index, position) => {
      if (left === 0) return;
      const key = bucketKey(option, time(index), zone, position);
      if (key !== last || position === order.length - 1) {
        kept.add(index);
        last = key;
        if (left > 0) left--;
      }
    });
  }
  if (policy.keepWithin !== undefined) {
    const newest = order.find((i) => time(i) <= now);
    const threshold =
      newest === undefined ? -Infinity : subtract(time(newest), parseIsoDuration(policy.keepWithin)!, zone);
    for (const i of order) if (time(i) > threshold) kept.add(i);
  }
  const verified = order.find((i) => points[i]!.verified);
  if (verified !== undefined) kept.add(verified);
  if (policy.minAge !== undefined) {
    const threshold = subtract(now, parseIsoDuration(policy.minAge)!, zone);
    for (const i of order) if (time(i) > threshold) kept.add(i);
  }
  for (const i of order) {
    if (kept.size >= (policy.minKeep ?? 1)) break;
    kept.add(i);
  }
  return points.map((point, i) => (!point.managed || kept.has(i) ? 'keep' : 'delete'));
}

// --- properties ------------------------------------------------------------------------------

describe('planRetention properties', () => {
  it('returns one decision per point, in input order, each with a reason', () => {
    fc.assert(
      fc.property(historyArbitrary, policyArbitrary, ({ points, now }, policy) => {
        // Act
        const decisions = planRetention(points, policy, { now });

        // Assess
        expect(decisions.map((d) => d.id)).toEqual(points.map((p) => p.id));
        for (const decision of decisions) {
          expect(decision.reasons.length).toBeGreaterThan(0);
          if (decision.action === 'delete') expect(decision.reasons).toEqual([NOT_KEPT]);
          else expect(decision.reasons).not.toContain(NOT_KEPT);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never deletes an unmanaged point, and keeps it for that reason only', () => {
    fc.assert(
      fc.property(historyArbitrary, policyArbitrary, ({ points, now }, policy) => {
        // Act
        const decisions = planRetention(points, policy, { now });

        // Assess
        points.forEach((point, i) => {
          if (!point.managed)
            expect(decisions[i]).toEqual({ id: point.id, action: 'keep', reasons: ['unmanaged'] });
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('always keeps the newest verified managed point', () => {
    fc.assert(
      fc.property(historyArbitrary, policyArbitrary, ({ points, now }, policy) => {
        // Act
        const decisions = planRetention(points, policy, { now });

        // Assess
        const newestVerified = newestFirst(points).find((i) => points[i]!.verified);
        if (newestVerified !== undefined) {
          expect(decisions[newestVerified]!.action).toBe('keep');
          expect(decisions[newestVerified]!.reasons).toContain('newest verified');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never deletes a point younger than minAge', () => {
    fc.assert(
      fc.property(historyArbitrary, policyArbitrary, ({ points, now }, policy) => {
        // Act
        const decisions = planRetention(points, policy, { now });

        // Assess: a calendar day lasts at least 23 hours, whatever the zone's changes, so anything
        // younger than this bound is younger than minAge.
        if (policy.minAge === undefined) return;
        const d = parseIsoDuration(policy.minAge)!;
        const surelyYounger = d.days * 23 * HOUR + d.hours * HOUR + d.minutes * 60_000;
        points.forEach((point, i) => {
          if (now.getTime() - Date.parse(String(point.createdAt)) < surelyYounger) {
            expect(decisions[i]!.action).toBe('keep');
          }
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps at least min(minKeep, managed points) managed points', () => {
    fc.assert(
      fc.property(historyArbitrary, policyArbitrary, ({ points, now }, policy) => {
        // Act
        const decisions = planRetention(points, policy, { now });

        // Assess
        const managedCount = points.filter((p) => p.managed).length;
        const keptManaged = decisions.filter((d, i) => points[i]!.managed && d.action === 'keep').length;
        expect(keptManaged).toBeGreaterThanOrEqual(Math.min(policy.minKeep ?? 1, managedCount));
      }),
      { numRuns: 2000 },
    );
  });

  it('decides the same for each id whatever the input order, when times are distinct', () => {
    fc.assert(
      fc.property(
        historyArbitrary,
        policyArbitrary,
        fc.infiniteStream(fc.nat()),
        ({ points, now }, policy, seeds) => {
          // Prepare: drop points sharing a time, then shuffle.
          const seen = new Set<number>();
          const distinct = points.filter((p) => {
            const t = Date.parse(String(p.createdAt));
            return !seen.has(t) && seen.add(t);
          });
          const shuffled = [...distinct];
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = seeds.next().value % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }

          // Act
          const byId = (list: RetentionPoint[]) =>
            Object.fromEntries(planRetention(list, policy, { now }).map((d) => [d.id, d]));

          // Assess
          expect(byId(shuffled)).toEqual(byId(distinct));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('keeps more or the same when a count grows, with no minKeep floor', () => {
    fc.assert(
      fc.property(
        historyArbitrary,
        policyArbitrary,
        fc.constantFrom(...COUNT_OPTIONS),
        ({ points, now }, policy, option) => {
          // Prepare
          const current = policy[option] ?? 0;
          if (current === -1) return;
          const smaller = { ...policy, minKeep: 0 };
          const larger = { ...smaller, [option]: current + 1 };

          // Act
          const before = planRetention(points, smaller, { now });
          const after = planRetention(points, larger, { now });

          // Assess
          before.forEach((decision, i) => {
            if (decision.action === 'keep') expect(after[i]!.action).toBe('keep');
          });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('matches a naive reference planner on every history', () => {
    fc.assert(
      fc.property(historyArbitrary, policyArbitrary, ({ points, now }, policy) => {
        // Act
        const decisions = planRetention(points, policy, { now });

        // Assess
        expect(decisions.map((d) => d.action)).toEqual(referencePlan(points, policy, now.getTime()));
      }),
      { numRuns: 1000 },
    );
  });
});
