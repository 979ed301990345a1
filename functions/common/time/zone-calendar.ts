/**
 * A time zone's calendar, fast enough for millions of points. Instants are UTC epoch
 * milliseconds; "local" values are the zone's wall clock expressed as if it were UTC
 * (local = instant + offset), so calendar fields come from the integer arithmetic of calendar.ts.
 * The zone's offset is asked of Intl once per UTC day and cached, with the exact instant of any
 * change inside that day.
 */
import { civilFromDays, daysFromCivil, daysInMonth, MS_PER_DAY, MS_PER_SECOND } from './calendar.ts';
import type { IsoDuration } from './duration.ts';

/** One UTC day's offsets: `offsets[i]` applies from `starts[i]` (the first start is the day's). */
interface DayOffsets {
  readonly starts: readonly number[];
  readonly offsets: readonly number[];
}

const GMT_OFFSET = /^GMT(?:([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?)?$/;

/**
 * A time zone's calendar: offsets, local wall-clock values, and calendar subtraction.
 * Create one per plan; it caches what it has asked Intl.
 */
export class ZoneCalendar {
  readonly timeZone: string;
  private readonly format: Intl.DateTimeFormat | undefined;
  private readonly days = new Map<number, DayOffsets>();
  private lastDay = Number.NaN;
  private lastEntry: DayOffsets = { starts: [0], offsets: [0] };

  /** Throws a RangeError for a zone the runtime does not know (validate names first). */
  constructor(timeZone: string) {
    this.timeZone = timeZone;
    // UTC never changes offset; skip Intl entirely.
    this.format =
      timeZone === 'UTC' || timeZone === 'Etc/UTC'
        ? undefined
        : new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  }

  /** The zone's offset from UTC, in milliseconds, at an instant. */
  offsetAt(instant: number): number {
    if (this.format === undefined) return 0;
    const day = Math.floor(instant / MS_PER_DAY);
    let entry = this.lastEntry;
    if (day !== this.lastDay) {
      entry = this.days.get(day) ?? this.computeDay(day);
      this.lastDay = day;
      this.lastEntry = entry;
    }
    const { starts, offsets } = entry;
    let i = starts.length - 1;
    while (i > 0 && instant < starts[i]!) i--;
    return offsets[i]!;
  }

  /** The local wall clock at an instant, as milliseconds on the UTC axis. */
  localMillis(instant: number): number {
    return instant + this.offsetAt(instant);
  }

  /**
   * The instant at which the local wall clock reads `local`. In a repeated hour (clocks set back)
   * the earlier instant is chosen; in a skipped hour (clocks set forward) the wall time is moved
   * forward by the gap, so 02:30 on a spring-forward night becomes 03:30 (as Temporal's
   * "compatible" disambiguation does).
   */
  instantOf(local: number): number {
    const before = this.offsetAt(local - MS_PER_DAY);
    const after = this.offsetAt(local + MS_PER_DAY);
    const early = local - before;
    const late = local - after;
    const earlyValid = this.offsetAt(early) === before;
    const lateValid = this.offsetAt(late) === after;
    if (earlyValid && lateValid) return Math.min(early, late);
    if (earlyValid) return early;
    if (lateValid) return late;
    return early;
  }

  /**
   * `instant − duration` with calendar arithmetic: years and months move the local date and clamp
   * the day to the month's end (03-31 − P1M = 02-28 or 02-29), weeks and days move it by calendar
   * days keeping the wall-clock time, then hours, minutes and seconds are subtracted as elapsed time.
   */
  subtract(instant: number, duration: IsoDuration): number {
    const clockMillis = ((duration.hours * 60 + duration.minutes) * 60 + duration.seconds) * 1000;
    if (duration.years === 0 && duration.months === 0 && duration.weeks === 0 && duration.days === 0) {
      return instant - clockMillis;
    }
    const local = this.localMillis(instant);
    const day = Math.floor(local / MS_PER_DAY);
    const timeOfDay = local - day * MS_PER_DAY;
    const { year, month, day: dayOfMonth } = civilFromDays(day);
    const monthIndex = year * 12 + (month - 1) - (duration.years * 12 + duration.months);
    const newYear = Math.floor(monthIndex / 12);
    const newMonth = monthIndex - newYear * 12 + 1;
    const newDayOfMonth = Math.min(dayOfMonth, daysInMonth(newYear, newMonth));
    const newDay = daysFromCivil(newYear, newMonth, newDayOfMonth) - duration.weeks * 7 - duration.days;
    return this.instantOf(newDay * MS_PER_DAY + timeOfDay) - clockMillis;
  }

  private askIntl(instant: number): number {
    const parts = this.format!.formatToParts(instant);
    const name = parts.find((part) => part.type === 'timeZoneName')?.value ?? '';
    const m = GMT_OFFSET.exec(name);
    if (!m) throw new RangeError(`unexpected offset "${name}" from Intl for ${this.timeZone}`);
    if (m[1] === undefined) return 0;
    const seconds = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    return (m[1] === '-' ? -seconds : seconds) * 1000;
  }

  private computeDay(day: number): DayOffsets {
    const start = day * MS_PER_DAY;
    const end = start + MS_PER_DAY;
    const startOffset = this.askIntl(start);
    const starts = [start];
    const offsets = [startOffset];
    this.findChanges(start, startOffset, end, this.askIntl(end), starts, offsets);
    const entry = { starts, offsets };
    this.days.set(day, entry);
    return entry;
  }

  /**
   * Bisects [from, to] down to the second for every change of offset inside it. Offsets change on
   * whole seconds; two changes inside one day that cancel each other out would go unseen, which no
   * zone in the tz database does.
   */
  private findChanges(
    from: number,
    fromOffset: number,
    to: number,
    toOffset: number,
    starts: number[],
    offsets: number[],
  ): void {
    if (fromOffset === toOffset) return;
    if (to - from <= MS_PER_SECOND) {
      // A change exactly at the end of the day belongs to the next day.
      if (to !== starts[0]! + MS_PER_DAY) {
        starts.push(to);
        offsets.push(toOffset);
      }
      return;
    }
    const mid = from + Math.floor((to - from) / 2 / MS_PER_SECOND) * MS_PER_SECOND;
    const midOffset = this.askIntl(mid);
    this.findChanges(from, fromOffset, mid, midOffset, starts, offsets);
    this.findChanges(mid, midOffset, to, toOffset, starts, offsets);
  }
}
