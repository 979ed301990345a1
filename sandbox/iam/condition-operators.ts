/**
 * The condition operators: how one request value compares with one policy value, which values a
 * policy may hold, and where policy variables are resolved. Sources: IAM User Guide, "IAM JSON
 * policy elements: Condition operators" and "Variables and tags".
 */
import { parseIpAddress, parseIpRange, rangeContains } from './ip-address.ts';
import { matchesArn, type Pattern } from './pattern.ts';

export type OperatorFamily = 'String' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'IpAddress' | 'Arn' | 'Null';

/** One base operator (without `IfExists` or a set qualifier). */
export interface OperatorSpec {
  readonly name: string;
  readonly family: OperatorFamily;
  /**
   * Negated operators (StringNotEquals, NotIpAddress, …) match a request value when it matches
   * none of the policy values: the documented NOR over a key's values.
   */
  readonly negated: boolean;
  /** Whether policy variables are resolved in this operator's values (string and ARN operators). */
  readonly variables: boolean;
  /** Why a policy value cannot be used with this operator, or undefined when it can. */
  readonly check: (value: string) => string | undefined;
  /** Whether a request value matches a resolved policy value, before any negation. */
  readonly matches: (policy: Pattern, request: string) => boolean;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const EPOCH = /^\d+(\.\d+)?$/;
// The W3C profile of ISO 8601 (year, month, day, then time with seconds and fraction optional).
const W3C_DATE = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function parseNumber(text: string): number | undefined {
  return NUMBER.test(text) ? Number(text) : undefined;
}

/** Milliseconds since the epoch for ISO 8601 text or epoch seconds; undefined otherwise. */
export function parseDate(text: string): number | undefined {
  if (EPOCH.test(text)) return Number(text) * 1000;
  if (!W3C_DATE.test(text)) return undefined;
  // A time without a zone is read as UTC, not as this machine's local time.
  const zoned = /T[^Z+-]*$/.test(text) ? `${text}Z` : text;
  const millis = Date.parse(zoned);
  return Number.isNaN(millis) ? undefined : millis;
}

// Numeric and Date operators: the comparison of the request value (actual) with the policy's.
const COMPARISONS: ReadonlyArray<
  readonly [suffix: string, compare: (actual: number, expected: number) => boolean, negated: boolean]
> = [
  ['Equals', (actual, expected) => actual === expected, false],
  ['NotEquals', (actual, expected) => actual === expected, true],
  ['LessThan', (actual, expected) => actual < expected, false],
  ['LessThanEquals', (actual, expected) => actual <= expected, false],
  ['GreaterThan', (actual, expected) => actual > expected, false],
  ['GreaterThanEquals', (actual, expected) => actual >= expected, false],
];

function ordered(family: 'Numeric' | 'Date', parse: (text: string) => number | undefined): OperatorSpec[] {
  const what = family === 'Numeric' ? 'a number' : 'an ISO 8601 date or epoch seconds';
  return COMPARISONS.map(([suffix, compare, negated]) => {
    const name = `${family}${suffix}`;
    return {
      name,
      family,
      negated,
      variables: false,
      check: (value) => (parse(value) === undefined ? `${name} needs ${what}, not "${value}"` : undefined),
      matches: (policy, request) => {
        const expected = parse(policy.text);
        const actual = parse(request);
        // A request value of the wrong type compares with nothing.
        return expected !== undefined && actual !== undefined && compare(actual, expected);
      },
    };
  });
}

const anyString = (): undefined => undefined;

function stringOperator(name: string, negated: boolean, matches: OperatorSpec['matches']): OperatorSpec {
  return { name, family: 'String', negated, variables: true, check: anyString, matches };
}

function arnOperator(name: string, negated: boolean): OperatorSpec {
  return { name, family: 'Arn', negated, variables: true, check: anyString, matches: matchesArn };
}

function ipOperator(name: string, negated: boolean): OperatorSpec {
  return {
    name,
    family: 'IpAddress',
    negated,
    variables: false,
    check: (value) =>
      parseIpRange(value) === undefined
        ? `${name} needs an IP address or CIDR range, not "${value}"`
        : undefined,
    matches: (policy, request) => {
      const range = parseIpRange(policy.text);
      const address = parseIpAddress(request);
      return range !== undefined && address !== undefined && rangeContains(range, address);
    },
  };
}

const equalsExactly = (policy: Pattern, request: string): boolean => policy.text === request;
const equalsIgnoringCase = (policy: Pattern, request: string): boolean =>
  policy.text.toLowerCase() === request.toLowerCase();
const like = (policy: Pattern, request: string): boolean => policy.matchesGlob(request, false);

const SPECS: readonly OperatorSpec[] = [
  stringOperator('StringEquals', false, equalsExactly),
  stringOperator('StringNotEquals', true, equalsExactly),
  stringOperator('StringEqualsIgnoreCase', false, equalsIgnoringCase),
  stringOperator('StringNotEqualsIgnoreCase', true, equalsIgnoringCase),
  stringOperator('StringLike', false, like),
  stringOperator('StringNotLike', true, like),
  ...ordered('Numeric', parseNumber),
  ...ordered('Date', parseDate),
  {
    name: 'Bool',
    family: 'Bool',
    negated: false,
    // The operator reference allows variables with Bool (the variables page says otherwise).
    variables: true,
    check: (value) =>
      /^(true|false)$/i.test(value) ? undefined : `Bool needs true or false, not "${value}"`,
    matches: (policy, request) => policy.text.toLowerCase() === request.toLowerCase(),
  },
  {
    name: 'BinaryEquals',
    family: 'Binary',
    negated: false,
    variables: false,
    check: (value) => (BASE64.test(value) ? undefined : `BinaryEquals needs base64, not "${value}"`),
    matches: (policy, request) =>
      BASE64.test(request) && Buffer.from(policy.text, 'base64').equals(Buffer.from(request, 'base64')),
  },
  ipOperator('IpAddress', false),
  ipOperator('NotIpAddress', true),
  // ArnEquals and ArnLike "behave identically", wildcards included; so do their negations.
  arnOperator('ArnEquals', false),
  arnOperator('ArnLike', false),
  arnOperator('ArnNotEquals', true),
  arnOperator('ArnNotLike', true),
  {
    name: 'Null',
    family: 'Null',
    negated: false,
    variables: false,
    check: (value) =>
      /^(true|false)$/i.test(value) ? undefined : `Null needs true or false, not "${value}"`,
    // Null tests whether the key exists, not values; condition evaluation handles it on its own.
    matches: () => false,
  },
];

/** The base operators by name (operator names are case-sensitive, as IAM reads them). */
export const OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map(SPECS.map((spec) => [spec.name, spec]));
