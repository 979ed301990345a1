/**
 * Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01): dates, ISO
 * weeks, and the labels retention reasons use. Integer arithmetic only, so the retention planner
 * can derive the calendar fields of a million points without asking Intl for each.
 */

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
