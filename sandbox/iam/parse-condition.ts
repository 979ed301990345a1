/**
 * Parses a statement's Condition element into one Condition per operator and key, checking each
 * value against its operator (a Numeric operator needs numbers, and so on) unless it holds a
 * policy variable, which only the request can fill in.
 */
import { OPERATORS, type OperatorSpec } from './condition-operators.ts';
import { describeValue, isObject, type Problems } from './parse-support.ts';
import type { Condition, PolicyVersion } from './policy.ts';
import { hasVariables, type PolicyString, parsePolicyString } from './policy-strings.ts';

const QUALIFIERS = ['ForAllValues', 'ForAnyValue'] as const;
const IF_EXISTS = 'IfExists';

/** Splits `ForAnyValue:StringLikeIfExists` into its parts, or says why it is no operator. */
function parseOperator(operator: string): Pick<Condition, 'qualifier' | 'spec' | 'ifExists'> | string {
  const qualifier = QUALIFIERS.find((q) => operator.startsWith(`${q}:`));
  let base = qualifier === undefined ? operator : operator.slice(qualifier.length + 1);
  const ifExists = base.endsWith(IF_EXISTS) && OPERATORS.has(base.slice(0, -IF_EXISTS.length));
  if (ifExists) base = base.slice(0, -IF_EXISTS.length);
  const spec = OPERATORS.get(base);
  if (spec === undefined) return `"${operator}" is not a condition operator`;
  // Null tests whether a key exists at all: IAM allows neither IfExists nor a set qualifier on it.
  if (spec.family === 'Null' && (ifExists || qualifier !== undefined))
    return `"${operator}" is not allowed: use Null alone`;
  return { qualifier, spec, ifExists };
}

function parseValues(
  value: unknown,
  spec: OperatorSpec,
  version: PolicyVersion,
  path: string,
  problems: Problems,
): PolicyString[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) problems.add(path, 'expected at least one value, got an empty array');
  const variables = spec.variables && version === '2012-10-17';
  const values: PolicyString[] = [];
  for (const [index, item] of items.entries()) {
    const itemPath = Array.isArray(value) ? `${path}[${index}]` : path;
    // Condition values may be written as JSON numbers and booleans (`1.2`, `true`).
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
      problems.add(itemPath, `expected a string, number or boolean, got ${describeValue(item)}`);
      continue;
    }
    const parsed = parsePolicyString(String(item), variables);
    const problem = hasVariables(parsed) ? undefined : spec.check(String(item));
    if (problem === undefined) values.push(parsed);
    else problems.add(itemPath, problem);
  }
  return values;
}

/** The conditions of the Condition element at `path` (none when it is absent). */
export function parseConditions(
  value: unknown,
  version: PolicyVersion,
  path: string,
  problems: Problems,
): Condition[] {
  if (value === undefined) return [];
  if (!isObject(value)) {
    problems.add(path, `expected an object of condition operators, got ${describeValue(value)}`);
    return [];
  }
  const conditions: Condition[] = [];
  for (const [operator, block] of Object.entries(value)) {
    const operatorPath = `${path}.${operator}`;
    const parsed = parseOperator(operator);
    if (typeof parsed === 'string') {
      problems.add(operatorPath, parsed);
      continue;
    }
    if (!isObject(block)) {
      problems.add(
        operatorPath,
        `expected an object of condition keys and values, got ${describeValue(block)}`,
      );
      continue;
    }
    if (Object.keys(block).length === 0) problems.add(operatorPath, 'expected at least one condition key');
    for (const [key, values] of Object.entries(block)) {
      conditions.push({
        operator,
        key,
        ...parsed,
        values: parseValues(values, parsed.spec, version, `${operatorPath}.${key}`, problems),
      });
    }
  }
  return conditions;
}
