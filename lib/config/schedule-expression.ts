/**
 * EventBridge Scheduler expressions: `rate(5 minutes)`, `cron(0 2 * * ? *)`, `at(2026-01-01T00:00:00)`.
 * Checked at synth so a typo fails `cdk synth` instead of `cdk deploy`.
 */

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const AT = /^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/;
const CRON = /^cron\((.+)\)$/;

const FIELD = {
  minutes: /^(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?(,(\d{1,2}(-\d{1,2})?)(\/\d{1,2})?)*$/,
  hours: /^(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?(,(\d{1,2}(-\d{1,2})?)(\/\d{1,2})?)*$/,
  dayOfMonth: /^(\*|\?|L|W|\d{1,2}W|(\d{1,2}(-\d{1,2})?)(\/\d{1,2})?(,\d{1,2}(-\d{1,2})?)*)$/,
  month:
    /^(\*|([1-9]|1[0-2]|[A-Z]{3})(-([1-9]|1[0-2]|[A-Z]{3}))?(\/\d{1,2})?(,([1-9]|1[0-2]|[A-Z]{3})(-([1-9]|1[0-2]|[A-Z]{3}))?)*)$/,
  dayOfWeek:
    /^(\*|\?|L|[1-7]L|[1-7]#[1-5]|[A-Z]{3}#[1-5]|([1-7]|[A-Z]{3})(-([1-7]|[A-Z]{3}))?(,([1-7]|[A-Z]{3})(-([1-7]|[A-Z]{3}))?)*)$/,
  year: /^(\*|\d{4}(-\d{4})?(\/\d{1,3})?(,\d{4}(-\d{4})?)*)$/,
} as const;

/** Returns why `expression` is not a valid Scheduler expression, or undefined when it is. */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    if (value < 1) return 'a rate must be at least 1';
    if ((value === 1) !== !rate[2]?.endsWith('s'))
      return `use "${value} ${value === 1 ? 'minute/hour/day' : 'minutes/hours/days'}"`;
    return undefined;
  }
  if (AT.test(expression)) return undefined;
  const cron = CRON.exec(expression);
  if (!cron) return 'expected rate(<n> <unit>), cron(<6 fields>) or at(<yyyy-mm-ddThh:mm:ss>)';
  const fields = cron[1]!.trim().split(/\s+/);
  if (fields.length !== 6)
    return `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`;
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const checks: [string, string, RegExp][] = [
    ['minutes', minutes, FIELD.minutes],
    ['hours', hours, FIELD.hours],
    ['day-of-month', dayOfMonth, FIELD.dayOfMonth],
    ['month', month, FIELD.month],
    ['day-of-week', dayOfWeek, FIELD.dayOfWeek],
    ['year', year, FIELD.year],
  ];
  for (const [name, value, pattern] of checks) {
    if (!pattern.test(value.toUpperCase())) return `cron ${name} field "${value}" is not valid`;
  }
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return 'exactly one of day-of-month and day-of-week must be "?"';
  }
  return undefined;
}
