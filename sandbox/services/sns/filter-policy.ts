/**
 * SNS subscription filter policies: validation and matching, for both scopes
 * (`MessageAttributes`, the default, and `MessageBody`).
 *
 * Supported conditions: exact strings and numbers, `anything-but` (values or `{ prefix }`),
 * `prefix`, `suffix`, `equals-ignore-case`, `exists` and `numeric` ranges. Keys are ANDed, the
 * conditions listed for one key ORed; an array value matches when any element does.
 */

export type FilterPolicyScope = 'MessageAttributes' | 'MessageBody';

type Condition = string | number | boolean | null | { readonly [operator: string]: unknown };

/** A parsed policy: each key holds either its conditions or a nested policy (MessageBody scope). */
export interface FilterPolicy {
  readonly [key: string]: readonly Condition[] | FilterPolicy;
}

/** A value a policy is matched against. */
type Value = string | number | boolean | null | readonly Value[] | { readonly [key: string]: Value };

const OPERATORS = new Set(['anything-but', 'prefix', 'suffix', 'equals-ignore-case', 'exists', 'numeric']);
const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);
const MAX_ATTRIBUTE_KEYS = 5;

/** Thrown for a policy SNS would reject; the message is the reason SNS gives after "FilterPolicy: ". */
export class FilterPolicyError extends Error {
  override readonly name = 'FilterPolicyError';
}

/** Parses and validates a policy as SNS does on Subscribe / SetSubscriptionAttributes. */
export function parseFilterPolicy(text: string, scope: FilterPolicyScope): FilterPolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FilterPolicyError('failed to parse JSON.');
  }
  if (!isObject(parsed)) throw new FilterPolicyError('Filter policy must be a JSON object');
  const policy = validatePolicy(parsed, scope, 0);
  if (scope === 'MessageAttributes' && Object.keys(policy).length > MAX_ATTRIBUTE_KEYS) {
    throw new FilterPolicyError(`Filter policy can not have more than ${MAX_ATTRIBUTE_KEYS} keys`);
  }
  return policy;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validatePolicy(
  node: Record<string, unknown>,
  scope: FilterPolicyScope,
  depth: number,
): FilterPolicy {
  const entries = Object.entries(node);
  if (entries.length === 0) throw new FilterPolicyError('Filter policy must not be empty');
  const out: [string, readonly Condition[] | FilterPolicy][] = [];
  for (const [key, value] of entries) {
    if (Array.isArray(value)) {
      if (value.length === 0) throw new FilterPolicyError(`Empty arrays are not allowed (at "${key}")`);
      out.push([key, value.map((condition) => validateCondition(key, condition))]);
    } else if (isObject(value) && scope === 'MessageBody' && depth < 5) {
      out.push([key, validatePolicy(value, scope, depth + 1)]);
    } else {
      throw new FilterPolicyError(`"${key}" must be an array of match conditions`);
    }
  }
  return Object.fromEntries(out);
}

function validateCondition(key: string, condition: unknown): Condition {
  if (condition === null || ['string', 'number', 'boolean'].includes(typeof condition))
    return condition as Condition;
  if (!isObject(condition)) throw new FilterPolicyError(`Unrecognized match condition at "${key}"`);
  const operators = Object.keys(condition);
  const operator = operators[0];
  if (operators.length !== 1 || operator === undefined || !OPERATORS.has(operator)) {
    throw new FilterPolicyError(`Unrecognized match type ${operators.join(', ')} at "${key}"`);
  }
  const operand = condition[operator];
  const bad = (): never => {
    throw new FilterPolicyError(`Invalid ${operator} operand at "${key}"`);
  };
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      if (typeof operand !== 'string') bad();
      break;
    case 'exists':
      if (typeof operand !== 'boolean') bad();
      break;
    case 'numeric':
      if (!validateNumeric(operand)) bad();
      break;
    case 'anything-but': {
      const ok =
        typeof operand === 'string' ||
        typeof operand === 'number' ||
        (Array.isArray(operand) &&
          operand.length > 0 &&
          operand.every((v) => ['string', 'number'].includes(typeof v))) ||
        (isObject(operand) &&
          Object.keys(operand).length === 1 &&
          typeof (operand.prefix ?? operand.suffix) === 'string');
      if (!ok) bad();
      break;
    }
  }
  return condition as Condition;
}

function validateNumeric(operand: unknown): boolean {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) return false;
  for (let i = 0; i < operand.length; i += 2) {
    if (!NUMERIC_OPERATORS.has(String(operand[i])) || typeof operand[i + 1] !== 'number') return false;
  }
  return operand.length === 2 || (String(operand[0]).startsWith('>') && String(operand[2]).startsWith('<'));
}

/** Whether a message with these attributes passes a MessageAttributes-scope policy. */
export function matchesAttributes(
  policy: FilterPolicy,
  attributes: Readonly<Record<string, { readonly DataType: string; readonly StringValue?: string }>>,
): boolean {
  const document: Record<string, Value> = {};
  for (const [name, attribute] of Object.entries(attributes)) {
    const value = attributeValue(attribute.DataType, attribute.StringValue);
    if (value !== undefined) document[name] = value;
  }
  return matches(policy, document);
}

/** Attributes as filter values: numbers for Number, arrays for String.Array; Binary is not filterable. */
function attributeValue(dataType: string, text: string | undefined): Value | undefined {
  if (text === undefined || dataType.startsWith('Binary')) return undefined;
  if (dataType.startsWith('Number')) return Number(text);
  if (dataType.startsWith('String.Array')) {
    try {
      const parsed: unknown = JSON.parse(text);
      return Array.isArray(parsed) ? (parsed as Value[]) : text;
    } catch {
      // Publish validated String.Array values already; an unparsable one matches as plain text.
      return text;
    }
  }
  return text;
}

/** Whether a message body passes a MessageBody-scope policy; a body that is not a JSON object never does. */
export function matchesBody(policy: FilterPolicy, message: string): boolean {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    // Only JSON bodies can be filtered: SNS drops non-JSON messages for body-scoped policies.
    return false;
  }
  return isObject(body) && matches(policy, body as Record<string, Value>);
}

function matches(policy: FilterPolicy, document: Readonly<Record<string, Value>>): boolean {
  return Object.entries(policy).every(([key, rule]) => {
    const present = Object.hasOwn(document, key);
    const value = present ? document[key] : undefined;
    if (!Array.isArray(rule)) {
      return present && isObject(value) && matches(rule as FilterPolicy, value as Record<string, Value>);
    }
    return (rule as readonly Condition[]).some((condition) => conditionMatches(condition, present, value));
  });
}

function conditionMatches(condition: Condition, present: boolean, value: Value | undefined): boolean {
  if (isObject(condition) && 'exists' in condition) return condition.exists === present;
  if (!present || value === undefined) return false;
  const candidates: readonly Value[] = Array.isArray(value) ? value : [value];
  if (isObject(condition) && 'anything-but' in condition) {
    // anything-but on an array value holds only when no element is excluded.
    return candidates.every((candidate) => !excluded(condition['anything-but'], candidate));
  }
  return candidates.some((candidate) => scalarMatches(condition, candidate));
}

function scalarMatches(condition: Condition, value: Value): boolean {
  if (!isObject(condition)) return condition === value;
  if ('prefix' in condition) return typeof value === 'string' && value.startsWith(String(condition.prefix));
  if ('suffix' in condition) return typeof value === 'string' && value.endsWith(String(condition.suffix));
  if ('equals-ignore-case' in condition) {
    return (
      typeof value === 'string' &&
      value.toLowerCase() === String(condition['equals-ignore-case']).toLowerCase()
    );
  }
  if ('numeric' in condition)
    return typeof value === 'number' && numericMatches(condition.numeric as unknown[], value);
  return false;
}

function excluded(operand: unknown, value: Value): boolean {
  if (isObject(operand)) {
    if (typeof value !== 'string') return false;
    if (typeof operand.prefix === 'string') return value.startsWith(operand.prefix);
    return typeof operand.suffix === 'string' && value.endsWith(operand.suffix);
  }
  const values = Array.isArray(operand) ? operand : [operand];
  return values.includes(value);
}

function numericMatches(operand: readonly unknown[], value: number): boolean {
  for (let i = 0; i < operand.length; i += 2) {
    const bound = operand[i + 1] as number;
    const ok =
      operand[i] === '='
        ? value === bound
        : operand[i] === '<'
          ? value < bound
          : operand[i] === '<='
            ? value <= bound
            : operand[i] === '>'
              ? value > bound
              : value >= bound;
    if (!ok) return false;
  }
  return true;
}
