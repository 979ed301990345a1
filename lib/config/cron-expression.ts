/**
 * The body of an EventBridge Scheduler `cron(...)` expression, checked field by field against the
 * grammar Scheduler documents, and expanded into the values each field allows.
 *
 * Six fields separated by white space: minutes (0-59), hours (0-23), day-of-month (1-31),
 * month (1-12 or JAN-DEC), day-of-week (1-7 or SUN-SAT, 1 = Sunday), year (1970-2199).
 * Every field takes `,` lists, `a-b` ranges and `*`; all but day-of-week take `/` steps. Exactly
 * one of day-of-month and day-of-week is `?`. Day-of-month also takes `L` (last day) and `nW`
 * (the weekday nearest day n); day-of-week takes `L` (every Saturday, the last day of the week), `dL`
 * (the last weekday d of the month) and `d#n` (the n-th weekday d of the month). `L`, `W` and `#`
 * stand alone in their field: Scheduler allows one `#` expression per field, and its
 * documentation shows no list mixing them, so Caretaker refuses lists that do rather than guess.
 * A reversed range (`22-2`) is refused too: write it as two ranges (`22-23,0-2`).
 */

/** What a field may hold. */
interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Names for min, min + 1, … (JAN-DEC, SUN-SAT). */
  readonly names?: readonly string[];
  readonly steps: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS = {
  minutes: { label: 'minutes', min: 0, max: 59, steps: true },
  hours: { label: 'hours', min: 0, max: 23, steps: true },
  dayOfMonth: { label: 'day-of-month', min: 1, max: 31, steps: true },
  month: { label: 'month', min: 1, max: 12, names: MONTHS, steps: true },
  dayOfWeek: { label: 'day-of-week', min: 1, max: 7, names: WEEKDAYS, steps: false },
  year: { label: 'year', min: 1970, max: 2199, steps: true },
} as const satisfies Record<string, FieldSpec>;

/** Day-of-month: `?`, values, the last day (`L`) or the weekday nearest a day (`nW`). */
export type DayOfMonthRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'days'; readonly days: readonly number[] }
  | { readonly kind: 'last' }
  | { readonly kind: 'nearest-weekday'; readonly day: number };

/** Day-of-week (1 = Sunday): `?`, values, the last weekday d (`dL`) or the n-th weekday d (`d#n`). */
export type DayOfWeekRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'weekdays'; readonly weekdays: readonly number[] }
  | { readonly kind: 'last'; readonly weekday: number }
  | { readonly kind: 'nth'; readonly weekday: number; readonly nth: number };

/** A valid cron body, each field expanded. */
export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly dayOfMonth: DayOfMonthRule;
  readonly months: readonly number[];
  readonly dayOfWeek: DayOfWeekRule;
  readonly years: readonly number[];
}

/** Either the parsed value or why the text is not one. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (problem: string): Parsed<never> => ({ ok: false, problem });

/** One value of a field: a number in range or (for month and day-of-week) a name. */
function fieldValue(spec: FieldSpec, token: string): Parsed<number> {
  const named = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (named >= 0) return ok(spec.min + named);
  if (!/^\d{1,4}$/.test(token)) {
    const names = spec.names ? ` or ${spec.names[0]}-${spec.names.at(-1)}` : '';
    return fail(`cron ${spec.label} value "${token}" is not a number ${spec.min}-${spec.max}${names}`);
  }
  const value = Number(token);
  if (value < spec.min || value > spec.max) {
    return fail(`cron ${spec.label} value ${value} is outside ${spec.min}-${spec.max}`);
  }
  return ok(value);
}

/** One item of a list: `*`, `v`, `a-b`, each optionally `/step` where the field allows steps. */
function listItem(spec: FieldSpec, item: string): Parsed<number[]> {
  const [base = '', step, ...extra] = item.split('/');
  if (extra.length > 0) return fail(`cron ${spec.label} item "${item}" has more than one "/"`);
  if (step !== undefined && !spec.steps) return fail(`cron ${spec.label} field does not take "/" steps`);
  let from = spec.min;
  let to = spec.max;
  if (base !== '*') {
    const [low = '', high, ...more] = base.split('-');
    if (more.length > 0) return fail(`cron ${spec.label} item "${item}" is not a range a-b`);
    const start = fieldValue(spec, low);
    if (!start.ok) return start;
    from = start.value;
    if (high !== undefined) {
      const end = fieldValue(spec, high);
      if (!end.ok) return end;
      if (end.value < start.value) {
        return fail(`cron ${spec.label} range "${base}" is reversed (write it as two ascending ranges)`);
      }
      to = end.value;
    } else if (step === undefined) {
      to = from;
    }
  }
  let increment = 1;
  if (step !== undefined) {
    const size = spec.max - spec.min + 1;
    if (!/^\d{1,4}$/.test(step) || Number(step) < 1 || Number(step) > size) {
      return fail(`cron ${spec.label} step "${step}" is not a whole number 1-${size}`);
    }
    increment = Number(step);
  }
  const values: number[] = [];
  for (let value = from; value <= to; value += increment) values.push(value);
  return ok(values);
}

/** A `,` list of items, expanded, sorted and without duplicates. */
function valueList(spec: FieldSpec, field: string): Parsed<number[]> {
  const values = new Set<number>();
  for (const item of field.split(',')) {
    if (item === '') return fail(`cron ${spec.label} field "${field}" has an empty list item`);
    const expanded = listItem(spec, item);
    if (!expanded.ok) return expanded;
    for (const value of expanded.value) values.add(value);
  }
  return ok([...values].sort((a, b) => a - b));
}

function dayOfMonthRule(field: string): Parsed<DayOfMonthRule> {
  const spec = FIELDS.dayOfMonth;
  const upper = field.toUpperCase();
  if (upper === '?') return ok({ kind: 'any' });
  if (upper === 'L') return ok({ kind: 'last' });
  const weekday = /^(\d{1,2})W$/.exec(upper);
  if (weekday) {
    const day = fieldValue(spec, weekday[1]!);
    return day.ok ? ok({ kind: 'nearest-weekday', day: day.value }) : day;
  }
  if (/[LW?]/.test(upper)) {
    return fail(`cron day-of-month "${field}": "L", "nW" and "?" stand alone in the field`);
  }
  const days = valueList(spec, field);
  return days.ok ? ok({ kind: 'days', days: days.value }) : days;
}

function dayOfWeekRule(field: string): Parsed<DayOfWeekRule> {
  const spec = FIELDS.dayOfWeek;
  const upper = field.toUpperCase();
  if (upper === '?') return ok({ kind: 'any' });
  // `L` alone is the last day of the week, Saturday: every Saturday, not the last one of the month.
  if (upper === 'L') return ok({ kind: 'weekdays', weekdays: [7] });
  const last = /^(\w+)L$/.exec(upper);
  if (last && !upper.includes(',')) {
    const weekday = fieldValue(spec, last[1]!);
    return weekday.ok ? ok({ kind: 'last', weekday: weekday.value }) : weekday;
  }
  const nth = /^(\w+)#(\d+)$/.exec(upper);
  if (nth) {
    const weekday = fieldValue(spec, nth[1]!);
    if (!weekday.ok) return weekday;
    const n = Number(nth[2]);
    if (n < 1 || n > 5) return fail(`cron day-of-week "${field}": the week number after "#" must be 1-5`);
    return ok({ kind: 'nth', weekday: weekday.value, nth: n });
  }
  if (upper.includes('#')) {
    return fail(`cron day-of-week "${field}": "#" allows a single expression d#n in the field`);
  }
  if (/L|\?/.test(upper.replace(/SAT|SUN|MON|TUE|WED|THU|FRI/g, ''))) {
    return fail(`cron day-of-week "${field}": "L", "dL" and "?" stand alone in the field`);
  }
  const weekdays = valueList(spec, field);
  return weekdays.ok ? ok({ kind: 'weekdays', weekdays: weekdays.value }) : weekdays;
}

/** Parses the text between `cron(` and `)`. */
export function parseCron(body: string): Parsed<CronSchedule> {
  if (body !== body.trim()) return fail('a cron expression has no white space just inside its parentheses');
  const fields = body.split(/\s+/);
  if (fields.length !== 6) {
    return fail(
      `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`,
    );
  }
  const [minuteField, hourField, domField, monthField, dowField, yearField] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  for (const [spec, text] of [
    [FIELDS.minutes, minuteField],
    [FIELDS.hours, hourField],
    [FIELDS.month, monthField],
    [FIELDS.year, yearField],
  ] as const) {
    if (/[?LW#]/i.test(text.replace(/JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC/gi, ''))) {
      return fail(`cron ${spec.label} field "${text}" takes only numbers, "," "-" "*" and "/"`);
    }
  }
  const minutes = valueList(FIELDS.minutes, minuteField);
  if (!minutes.ok) return minutes;
  const hours = valueList(FIELDS.hours, hourField);
  if (!hours.ok) return hours;
  const dayOfMonth = dayOfMonthRule(domField);
  if (!dayOfMonth.ok) return dayOfMonth;
  const months = valueList(FIELDS.month, monthField);
  if (!months.ok) return months;
  const dayOfWeek = dayOfWeekRule(dowField);
  if (!dayOfWeek.ok) return dayOfWeek;
  const years = valueList(FIELDS.year, yearField);
  if (!years.ok) return years;
  if ((dayOfMonth.value.kind === 'any') === (dayOfWeek.value.kind === 'any')) {
    return fail('exactly one of day-of-month and day-of-week must be "?"');
  }
  return ok({
    minutes: minutes.value,
    hours: hours.value,
    dayOfMonth: dayOfMonth.value,
    months: months.value,
    dayOfWeek: dayOfWeek.value,
    years: years.value,
  });
}
