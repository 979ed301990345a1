/**
 * Whether a statement applies to a request: its action, resource and conditions all match.
 * (The Principal of resource policies is matched in caller.ts.)
 */
import { conditionHolds } from './condition-evaluation.ts';
import { matchesArn } from './pattern.ts';
import type { ActionElement, ResourceElement, Statement } from './policy.ts';
import { resolvePolicyString, UnresolvedVariableError } from './policy-strings.ts';
import type { RequestContext } from './request-context.ts';

/** What a statement is matched against. */
export interface StatementRequest {
  /** `service:Action`, such as `s3:GetObject`. */
  readonly action: string;
  /** The resource's ARN, or `*` for actions that support no resource-level permissions. */
  readonly resource: string;
  readonly context: RequestContext;
}

/** Action names are case-insensitive, service prefix included (`S3:getobject` is `s3:GetObject`). */
function actionMatches(element: ActionElement, action: string): boolean {
  const matched = element.patterns.some((pattern) => pattern.matchesGlob(action, true));
  return matched !== element.negated;
}

function resourceMatches(element: ResourceElement, resource: string, context: RequestContext): boolean {
  const matched = element.patterns.some((value) => {
    if (value.source === '*') return true;
    return matchesArn(resolvePolicyString(value, context), resource);
  });
  return matched !== element.negated;
}

/**
 * Whether the statement applies. A policy variable the request cannot resolve makes the statement
 * not apply, neither allowing nor denying ("this might cause the entire statement to be invalid").
 */
export function statementApplies(statement: Statement, request: StatementRequest): boolean {
  if (!actionMatches(statement.action, request.action)) return false;
  try {
    return (
      resourceMatches(statement.resource, request.resource, request.context) &&
      statement.conditions.every((condition) => conditionHolds(condition, request.context))
    );
  } catch (error) {
    if (error instanceof UnresolvedVariableError) return false;
    throw error;
  }
}
