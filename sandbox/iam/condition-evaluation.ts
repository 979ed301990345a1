/**
 * Whether one condition (one operator, one key) holds for a request. Sources: IAM User Guide,
 * "Condition operators" (missing keys, IfExists, Null), "Conditions with multiple context keys or
 * values" (OR over values, NOR for negated operators) and "Single-valued vs. multivalued context
 * keys" (ForAllValues, ForAnyValue).
 */
import type { Pattern } from './pattern.ts';
import type { Condition } from './policy.ts';
import { resolvePolicyString } from './policy-strings.ts';
import type { RequestContext } from './request-context.ts';

function nullHolds(condition: Condition, values: readonly string[] | undefined): boolean {
  // A key with an empty set of values is as good as absent: it has no value that is "not null".
  const absent = values === undefined || values.length === 0;
  return condition.values.some((value) => (value.source.toLowerCase() === 'true') === absent);
}

/**
 * Whether the condition holds; throws UnresolvedVariableError when a policy variable in its
 * values has no value (the statement then does not apply).
 */
export function conditionHolds(condition: Condition, context: RequestContext): boolean {
  const requestValues = context.values(condition.key);
  const { spec, qualifier } = condition;
  if (spec.family === 'Null') return nullHolds(condition, requestValues);
  const policyValues: Pattern[] = condition.values.map((value) => resolvePolicyString(value, context));
  const matchesAny = (requestValue: string): boolean =>
    policyValues.some((p) => spec.matches(p, requestValue));
  // One request value against all policy values: OR, or NOR for negated operators.
  const valueHolds = (requestValue: string): boolean => matchesAny(requestValue) !== spec.negated;
  const present = requestValues !== undefined && requestValues.length > 0;

  // IfExists: "If the key is not present, evaluate the condition element as true."
  if (!present && condition.ifExists) return true;
  if (qualifier === 'ForAllValues') return !present || requestValues.every(valueHolds);
  if (qualifier === 'ForAnyValue') return present && requestValues.some(valueHolds);
  // A missing key matches nothing, so a negated operator holds ("StringNotLike … is true").
  if (!present) return spec.negated;
  // Without a set operator a multivalued key matches when any of its values does, and a negated
  // operator is the negation of that (AWS documents no more for this case; see docs/sandbox.md).
  return requestValues.some(matchesAny) !== spec.negated;
}
