/**
 * Calendar arithmetic in an IANA time zone, fast enough for millions of points.
 *
 * Instants are UTC epoch milliseconds; "local" values are the wall clock of the zone expressed as
 * if it were UTC (local = instant + offset), so calendar fields come from plain integer arithmetic
 * on day numbers (days since 1970-01-01) instead of one Intl call per point. The zone's offset is
 * asked of Intl once per UTC day and cached, with the exact instant of any change inside that day.
 */
import type { IsoDuration } from './duration.ts';

export const MS_PER_SECOND = 1000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;

/** Day number (days since 1970-01-01) of a proleptic Gregorian date; `month` is 1-12. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const shiftedMonth = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

export interface CivilDate {
  readonly year: number;
  /** 1-12 */
  readonly month: number;
  /** 1-31 */
  readonly day: number;
}

/** The proleptic Gregorian date of a day number (days since 1970-01-01). */
export function civilFromDays(days: number): CivilDate {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Day number of the Monday that starts the ISO week containing `days`. Identifies the week. */
export function isoWeekMonday(days: number): number {
  // 1970-01-01 was a Thursday: (days + 3) mod 7 is 0 on Mondays.
  return days - ((((days + 3) % 7) + 7) % 7);
}

/** ISO 8601 week-year and week number (1-53) of a day number. */
export function isoWeek(days: number): { readonly weekYear: number; readonly week: number } {
  // The ISO week belongs to the year of its Thursday.
  const thursday = isoWeekMonday(days) + 3;
  const weekYear = civilFromDays(thursday).year;
  return { weekYear, week: Math.floor((thursday - daysFromCivil(weekYear, 1, 1)) / 7) + 1 };
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const padYear = (n: number): string => (n >= 0 && n < 1000 ? String(n).padStart(4, '0') : String(n));

/** `2026-03-29` for a day number. */
export function formatDate(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${padYear(year)}-${pad2(month)}-${pad2(day)}`;
}

/** `2026-W53` for a day number. */
export function formatIsoWeek(days: number): string {
  const { weekYear, week } = isoWeek(days);
  return `${padYear(weekYear)}-W${pad2(week)}`;
}

/** `2026-03` for a day number. */
export function formatMonth(days: number): string {
  const { year, month } = civilFromDays(days);
  return `${padYear(year)}-${pad2(month)}`;
}

/** `2026` for a day number. */
export function formatYear(days: number): string {
  return padYear(civilFromDays(days).year);
}

/** `2026-03-29 02:00` for local milliseconds (the hour a point falls in). */
export function formatLocalHour(localMillis: number): string {
  const days = Math.floor(localMillis / MS_PER_DAY);
  const hour = Math.floor((localMillis - days * MS_PER_DAY) / MS_PER_HOUR);
  return `${formatDate(days)} ${pad2(hour)}:00`;
}

/** What {@link parseIsoTime} accepts, for error messages. */
export const ISO_TIME_EXPECTED =
  'expected an ISO 8601 time with Z or an offset, such as 2026-03-29T01:30:00Z';

const CHAR_0 = 48;
const DASH = 45;
const PLUS = 43;
const DOT = 46;
const COLON = 58;
const LETTER_T = 84;
const LETTER_Z = 90;

/** The value of `count` decimal digits at `at`, or -1 if any of them is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const digit = text.charCodeAt(i) - CHAR_0;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Parses an ISO 8601 / RFC 3339 time, `yyyy-mm-ddThh:mm[:ss[.fraction]]` with `Z` or `±hh:mm`,
 * into epoch milliseconds (digits below the millisecond are dropped), or returns undefined.
 * Stricter than `Date.parse`, which accepts `2026-02-30` and `24:00` and reads offset-less times
 * in the machine's zone. Hand-written rather than a regular expression: it runs once per point,
 * millions of times per plan, and allocates nothing.
 */
export function parseIsoTime(text: string): number | undefined {
  const length = text.length;
  if (
    length < 17 ||
    text.charCodeAt(4) !== DASH ||
    text.charCodeAt(7) !== DASH ||
    text.charCodeAt(10) !== LETTER_T ||
    text.charCodeAt(13) !== COLON
  ) {
    return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return undefined;
  let at = 16;
  let second = 0;
  let millis = 0;
  if (text.charCodeAt(at) === COLON) {
    second = digits(text, at + 1, 2);
    if (second < 0 || second > 59) return undefined;
    at += 3;
    if (text.charCodeAt(at) === DOT) {
      const from = ++at;
      while (at < length && text.charCodeAt(at) >= CHAR_0 && text.charCodeAt(at) <= CHAR_0 + 9) at++;
      if (at === from) return undefined;
      const fraction = digits(text, from, Math.min(3, at - from));
      millis = at - from >= 3 ? fraction : fraction * (at - from === 1 ? 100 : 10);
    }
  }
  let offsetMinutes = 0;
  const sign = text.charCodeAt(at);
  if (sign === LETTER_Z) {
    if (at + 1 !== length) return undefined;
  } else if (sign === PLUS || sign === DASH) {
    if (at + 6 !== length || text.charCodeAt(at + 3) !== COLON) return undefined;
    const offsetHours = digits(text, at + 1, 2);
    const offsetMins = digits(text, at + 4, 2);
    if (offsetHours < 0 || offsetHours > 23 || offsetMins < 0 || offsetMins > 59) return undefined;
    offsetMinutes = (sign === DASH ? -1 : 1) * (offsetHours * 60 + offsetMins);
  } else {
    return undefined;
  }
  const local = daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
  return local + millis - offsetMinutes * 60_000;
}

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
