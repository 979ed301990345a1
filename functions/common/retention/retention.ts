/**
 * The retention planner (DESIGN §7): which recovery points to keep and which to delete, and why.
 *
 * Semantics are restic's `forget` with an explicit time zone. Unmanaged points are always kept and
 * take no part. Managed points are walked newest first (equal times in input order); each count
 * option keeps the newest point of each of its calendar buckets until its count runs out, plus the
 * oldest point while it still has count left; `keepWithin` keeps everything within a calendar
 * duration of the newest point not in the future. Options OR together. Then the safety floors,
 * which no policy can override: the newest verified point, everything younger than `minAge`, and
 * the newest points up to `minKeep`. Pure: no clock, no I/O — `now` is an argument.
 */
import {
  civilFromDays,
  formatDate,
  formatIsoWeek,
  formatLocalHour,
  formatMonth,
  formatYear,
  isoWeekMonday,
  MS_PER_DAY,
  MS_PER_HOUR,
} from '../time/calendar.ts';
import { parseIsoDuration } from '../time/duration.ts';
import { ZoneCalendar } from '../time/zone-calendar.ts';
import { type History, newestFirst } from './newest-first.ts';
import { type RetentionPoint, validatePlanInput } from './retention-input.ts';
import {
  COUNT_OPTIONS,
  type CountOption,
  type RetentionPolicy,
  type RetentionPolicyInput,
} from './retention-policy.ts';

export type { RetentionPoint } from './retention-input.ts';
export { recoveryPointSchema, recoveryPointsSchema } from './retention-input.ts';

/** What to do with one recovery point, and every rule that decided it. */
export interface RetentionDecision {
  readonly id: string;
  readonly action: 'keep' | 'delete';
  /** At least one, human-readable: `daily bucket 2026-03-29 (3 of 7)`, `newest verified`, … */
  readonly reasons: readonly string[];
}

export interface PlanOptions {
  /** The moment the plan is made: decides which points are "in the future" and `minAge`. */
  readonly now: Date;
}

/** Reason given to every point no rule keeps. */
export const NOT_KEPT = 'not kept by any rule';

// Shared by every delete decision (frozen): a plan over a million points allocates no list each.
const DELETE_REASONS: readonly string[] = Object.freeze([NOT_KEPT]);

/**
 * Plans retention: one decision per input point, in input order.
 * Throws a ValidationError (listing every problem, before deciding anything) for a policy with no
 * keep option, a negative count other than -1, an invalid duration or time zone, an unparseable
 * time, a duplicate id, or an invalid `now`.
 */
export function planRetention(
  points: readonly RetentionPoint[],
  policy: RetentionPolicyInput,
  options: PlanOptions,
): RetentionDecision[] {
  const input = validatePlanInput(points, policy, options.now);
  const rules = input.policy;
  const ledger = new Ledger(points.length);
  const { managed } = input;
  for (let i = 0, next = 0; i < points.length; i++) {
    if (managed[next] === i) next++;
    else ledger.keepUnmanaged(i);
  }
  const history = newestFirst(managed, input.times);
  const calendar = new ZoneCalendar(rules.timeZone);

  applyCountOptions(history, rules, calendar, ledger);
  applyKeepWithin(history, input.now, rules, calendar, ledger);
  applyFloors(history, input.now, rules, calendar, points, ledger);

  // Sized up front: a million decisions would otherwise regrow and copy the array ~20 times.
  const decisions: RetentionDecision[] = new Array(points.length);
  for (let i = 0; i < points.length; i++) {
    const kept = ledger.reasonsOf(i);
    decisions[i] = kept
      ? { id: points[i]!.id, action: 'keep', reasons: kept }
      : { id: points[i]!.id, action: 'delete', reasons: DELETE_REASONS };
  }
  return decisions;
}

/**
 * The reasons gathered so far, by input index, and how many managed points they keep. Only kept
 * points get a list; the index → list map is a typed array, so a million mostly-deleted points
 * leave the garbage collector almost nothing to scan.
 */
class Ledger {
  private readonly listOf: Int32Array;
  private readonly lists: string[][] = [];
  keptManaged = 0;

  constructor(size: number) {
    this.listOf = new Int32Array(size).fill(-1);
  }

  keepUnmanaged(index: number): void {
    this.listOf[index] = this.lists.push(['unmanaged']) - 1;
  }

  /** Keeps a managed point for one more reason. */
  keep(index: number, reason: string): void {
    const at = this.listOf[index]!;
    if (at !== -1) this.lists[at]!.push(reason);
    else {
      this.listOf[index] = this.lists.push([reason]) - 1;
      this.keptManaged++;
    }
  }

  isKept(index: number): boolean {
    return this.listOf[index] !== -1;
  }

  /** The point's reasons, or undefined when nothing keeps it. */
  reasonsOf(index: number): string[] | undefined {
    const at = this.listOf[index]!;
    return at === -1 ? undefined : this.lists[at];
  }
}

interface Counter {
  readonly option: CountOption;
  readonly total: number;
  left: number;
  kept: number;
  lastKey: number;
}

const BUCKET_LABEL: Readonly<Record<CountOption, string>> = {
  keepLast: 'last',
  keepHourly: 'hourly bucket',
  keepDaily: 'daily bucket',
  keepWeekly: 'weekly bucket',
  keepMonthly: 'monthly bucket',
  keepYearly: 'yearly bucket',
};

/** The count options: one walk newest → oldest, every option deciding on each point. */
function applyCountOptions(
  history: History,
  policy: RetentionPolicy,
  calendar: ZoneCalendar,
  ledger: Ledger,
): void {
  const counters: Counter[] = [];
  for (const option of COUNT_OPTIONS) {
    const total = policy[option] ?? 0;
    if (total !== 0) counters.push({ option, total, left: total, kept: 0, lastKey: Number.NaN });
  }
  const { order, times } = history;
  const oldest = order.length - 1;
  let active = counters.length;
  let civilDay = Number.NaN;
  let year = 0;
  let month = 0;
  for (let position = 0; position < order.length && active > 0; position++) {
    const local = calendar.localMillis(times[position]!);
    const day = Math.floor(local / MS_PER_DAY);
    for (const counter of counters) {
      if (counter.left === 0) continue;
      let key: number;
      switch (counter.option) {
        case 'keepLast':
          key = position;
          break;
        case 'keepHourly':
          key = Math.floor(local / MS_PER_HOUR);
          break;
        case 'keepDaily':
          key = day;
          break;
        case 'keepWeekly':
          key = isoWeekMonday(day);
          break;
        default:
          if (day !== civilDay) {
            const civil = civilFromDays(day);
            civilDay = day;
            year = civil.year;
            month = civil.month;
          }
          key = counter.option === 'keepMonthly' ? year * 12 + month - 1 : year;
      }
      const newBucket = key !== counter.lastKey;
      // The oldest point is kept while the option has count left: restic's way of making the
      // history as long as possible when there are fewer buckets than the count allows.
      if (!newBucket && position !== oldest) continue;
      counter.lastKey = key;
      counter.kept++;
      if (counter.left > 0 && --counter.left === 0) active--;
      ledger.keep(order[position]!, describeBucket(counter, local, day, newBucket));
    }
  }
}

function describeBucket(counter: Counter, local: number, day: number, newBucket: boolean): string {
  const total = counter.total === -1 ? 'unlimited' : counter.total;
  const of = `(${newBucket ? '' : 'oldest point, '}${counter.kept} of ${total})`;
  const label = BUCKET_LABEL[counter.option];
  switch (counter.option) {
    case 'keepLast':
      return `${label} ${of}`;
    case 'keepHourly':
      return `${label} ${formatLocalHour(local)} ${of}`;
    case 'keepDaily':
      return `${label} ${formatDate(day)} ${of}`;
    case 'keepWeekly':
      return `${label} ${formatIsoWeek(day)} ${of}`;
    case 'keepMonthly':
      return `${label} ${formatMonth(day)} ${of}`;
    case 'keepYearly':
      return `${label} ${formatYear(day)} ${of}`;
  }
}

/** `keepWithin D`: every point strictly newer than (newest point not in the future − D). */
function applyKeepWithin(
  history: History,
  now: number,
  policy: RetentionPolicy,
  calendar: ZoneCalendar,
  ledger: Ledger,
): void {
  if (policy.keepWithin === undefined) return;
  const { order, times } = history;
  const within = parseIsoDuration(policy.keepWithin)!;
  const newest = times.findIndex((time) => time <= now);
  // With every point in the future there is nothing to measure from: all of them are kept.
  const threshold = newest === -1 ? Number.NEGATIVE_INFINITY : calendar.subtract(times[newest]!, within);
  const reason = `within ${policy.keepWithin} of newest`;
  const futureReason = `${reason} (in the future)`;
  for (let position = 0; position < order.length && times[position]! > threshold; position++) {
    ledger.keep(order[position]!, times[position]! > now ? futureReason : reason);
  }
}

/** The safety floors no policy overrides: newest verified, younger than minAge, minKeep. */
function applyFloors(
  history: History,
  now: number,
  policy: RetentionPolicy,
  calendar: ZoneCalendar,
  points: readonly { readonly verified: boolean }[],
  ledger: Ledger,
): void {
  const { order, times } = history;
  const newestVerified = order.find((index) => points[index]!.verified);
  if (newestVerified !== undefined) ledger.keep(newestVerified, 'newest verified');

  if (policy.minAge !== undefined) {
    const threshold = calendar.subtract(now, parseIsoDuration(policy.minAge)!);
    const reason = `younger than minAge ${policy.minAge}`;
    for (let position = 0; position < order.length && times[position]! > threshold; position++) {
      ledger.keep(order[position]!, reason);
    }
  }

  const reason = `minKeep ${policy.minKeep}`;
  for (let position = 0; position < order.length && ledger.keptManaged < policy.minKeep; position++) {
    const index = order[position]!;
    if (!ledger.isKept(index)) ledger.keep(index, reason);
  }
}
