/**
 * ISO 8601 durations (`P1Y2M3W4DT5H30M`), parsed into their calendar parts.
 * Calendar parts (years, months, weeks, days) are kept apart from clock parts (hours, minutes,
 * seconds) because adding "one day" across a DST change is not adding 24 hours.
 */

export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

const PATTERN =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?!$)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Parses an ISO 8601 duration with integer parts, or returns undefined if it is not one. */
export function parseIsoDuration(text: string): IsoDuration | undefined {
  const match = PATTERN.exec(text);
  if (!match) return undefined;
  const [years, months, weeks, days, hours, minutes, seconds] = match
    .slice(1)
    .map((part) => Number(part ?? 0));
  return {
    years: years ?? 0,
    months: months ?? 0,
    weeks: weeks ?? 0,
    days: days ?? 0,
    hours: hours ?? 0,
    minutes: minutes ?? 0,
    seconds: seconds ?? 0,
  };
}

/**
 * The length of a duration in milliseconds when calendar parts are taken at their nominal length
 * (a day 24 h, a month 30 days, a year 365 days). For thresholds such as an RPO, not for calendar
 * arithmetic.
 */
export function nominalMillis(duration: IsoDuration): number {
  const days = duration.years * 365 + duration.months * 30 + duration.weeks * 7 + duration.days;
  return ((days * 24 + duration.hours) * 60 + duration.minutes) * 60_000 + duration.seconds * 1000;
}
