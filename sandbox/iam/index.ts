/**
 * The sandbox's IAM policy evaluator: parse a template's policies once, then decide each request
 * a deployed function or state machine makes as AWS would. Pure: no network, no AWS calls.
 * docs/sandbox.md, "IAM enforcement: the evaluator", says what is and is not modelled.
 */
export {
  type AuthorizationRequest,
  type AuthorizationResult,
  authorize,
  type DecidingStatement,
  type Decision,
  type DecisionReason,
  type RequestResource,
  type ResourceDecision,
} from './authorize.ts';
export type { RequestPrincipal, RolePrincipal, ServicePrincipal } from './caller.ts';
export { describeStatement, explainDenial } from './explain.ts';
export { type LintCode, type LintFinding, lintPolicy } from './lint.ts';
export {
  type ParsePolicyOptions,
  PolicyGrammarError,
  type PolicyProblem,
  parsePolicy,
} from './parse-policy.ts';
export type { Policy, PolicyType } from './policy.ts';
export type { ContextInput, ContextScalar, ContextValue } from './request-context.ts';
