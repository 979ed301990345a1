/**
 * The decision on one request, following AWS's evaluation logic for a request within one account
 * (IAM User Guide, "Policy evaluation logic"; AWS KMS Developer Guide, "Key policies"):
 *
 * 1. An applicable Deny in any identity policy or in the resource's policy: explicit deny.
 * 2. An Allow in the resource policy that names the caller (session, role, `*`, or the service):
 *    allow, whatever the identity policies say.
 * 3. An Allow in an identity policy: allow, except on a KMS key, whose key policy must also enable
 *    IAM policies for the request (an Allow naming the account, as the default key policy does).
 * 4. Otherwise: implicit deny.
 *
 * Not modelled: SCPs and RCPs, permissions boundaries, session policies, KMS grants, ACLs,
 * cross-account requests (Caretaker uses none of them; docs/sandbox.md says more).
 */
import { type Caller, callerOf, principalMatch, type RequestPrincipal } from './caller.ts';
import type { Effect, Policy, PolicyType } from './policy.ts';
import { type ContextInput, RequestContext } from './request-context.ts';
import { type StatementRequest, statementApplies } from './statement-match.ts';

/** A resource the request acts on, with its own policy when it has one. */
export interface RequestResource {
  /** The resource's ARN, or `*` for actions that support no resource-level permissions. */
  readonly arn: string;
  /** The bucket policy, key policy or topic policy, parsed as a `resource` policy. */
  readonly policy?: Policy;
  /** A KMS key: its key policy must allow, itself or by enabling IAM policies. */
  readonly kmsKey?: boolean;
}

export interface AuthorizationRequest {
  readonly principal: RequestPrincipal;
  /** `service:Action`, such as `s3:GetObject`. */
  readonly action: string;
  /** Every resource the action needs; the request is allowed only if each one is. */
  readonly resources: readonly RequestResource[];
  /**
   * Condition keys and values. `aws:PrincipalArn`, `aws:PrincipalAccount` and
   * `aws:PrincipalType` (and `aws:PrincipalServiceName` for a service) are added from the
   * principal when absent; nothing else is assumed.
   */
  readonly context?: ContextInput;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** Why a resource got its decision. */
export type DecisionReason =
  /** A Deny statement applies (listed). */
  | 'ExplicitDeny'
  /** The resource policy names the caller in an applicable Allow (listed, with any identity allows). */
  | 'AllowedByResourcePolicy'
  /** An identity policy allows, and the resource needs nothing more (listed). */
  | 'AllowedByIdentityPolicy'
  /** An identity policy allows and the KMS key policy enables IAM policies (both listed). */
  | 'AllowedByIdentityPolicyEnabledByKeyPolicy'
  /** No applicable Allow anywhere. */
  | 'NoAllow'
  /** Identity policies allow (listed) but the KMS key policy neither allows nor enables IAM policies. */
  | 'KeyPolicyDoesNotEnableIamPolicies'
  /** A KMS key without a key policy: nothing can allow. */
  | 'KmsKeyWithoutKeyPolicy';

/** A statement that took part in a decision. */
export interface DecidingStatement {
  readonly policyName: string;
  readonly policyType: PolicyType;
  /** Position in the policy's Statement list, from 0. */
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
}

export interface ResourceDecision {
  readonly resource: string;
  readonly decision: Decision;
  readonly reason: DecisionReason;
  readonly statements: readonly DecidingStatement[];
}

export interface AuthorizationResult {
  /** ExplicitDeny if any resource is explicitly denied, else ImplicitDeny if any is, else Allow. */
  readonly decision: Decision;
  /** The caller as AWS names it in errors: the session ARN, the role ARN or the service. */
  readonly principal: string;
  readonly action: string;
  readonly resources: readonly ResourceDecision[];
}

const ACTION = /^[A-Za-z0-9-]+:[A-Za-z0-9]+$/;

function deciding(policy: Policy, index: number): DecidingStatement {
  const statement = policy.statements[index]!;
  return {
    policyName: policy.name,
    policyType: policy.type,
    index,
    sid: statement.sid,
    effect: statement.effect,
  };
}

function principalDefaults(caller: Caller): ContextInput {
  if (caller.service !== undefined) return { 'aws:PrincipalServiceName': caller.service };
  return {
    'aws:PrincipalArn': caller.principalArn,
    'aws:PrincipalAccount': caller.account,
    // A role acts only through sessions of it.
    'aws:PrincipalType': 'AssumedRole',
  };
}

interface Matches {
  readonly denies: DecidingStatement[];
  readonly identityAllows: DecidingStatement[];
  /** Resource policy allows that name the caller itself. */
  readonly directAllows: DecidingStatement[];
  /** Resource policy allows that name the caller's account (delegation to IAM policies). */
  readonly accountAllows: DecidingStatement[];
}

function collect(caller: Caller, resource: RequestResource, request: StatementRequest): Matches {
  const matches: Matches = { denies: [], identityAllows: [], directAllows: [], accountAllows: [] };
  for (const policy of caller.identityPolicies) {
    for (const statement of policy.statements) {
      if (!statementApplies(statement, request)) continue;
      (statement.effect === 'Deny' ? matches.denies : matches.identityAllows).push(
        deciding(policy, statement.index),
      );
    }
  }
  const policy = resource.policy;
  for (const statement of policy?.statements ?? []) {
    const covered =
      statement.principal === undefined
        ? 'none'
        : principalMatch(statement.principal, statement.effect, caller);
    if (covered === 'none' || !statementApplies(statement, request)) continue;
    const list =
      statement.effect === 'Deny'
        ? matches.denies
        : covered === 'direct'
          ? matches.directAllows
          : matches.accountAllows;
    list.push(deciding(policy!, statement.index));
  }
  return matches;
}

function decide(resource: RequestResource, matches: Matches): ResourceDecision {
  const result = (
    decision: Decision,
    reason: DecisionReason,
    statements: DecidingStatement[],
  ): ResourceDecision => ({
    resource: resource.arn,
    decision,
    reason,
    statements,
  });
  const { denies, identityAllows, directAllows, accountAllows } = matches;
  if (denies.length > 0) return result('ExplicitDeny', 'ExplicitDeny', denies);
  if (resource.kmsKey && resource.policy === undefined)
    return result('ImplicitDeny', 'KmsKeyWithoutKeyPolicy', []);
  if (directAllows.length > 0)
    return result('Allow', 'AllowedByResourcePolicy', [...directAllows, ...identityAllows]);
  if (identityAllows.length === 0) return result('ImplicitDeny', 'NoAllow', []);
  if (!resource.kmsKey) return result('Allow', 'AllowedByIdentityPolicy', identityAllows);
  // "Unless the key policy explicitly allows it, you cannot use IAM policies to allow access to a KMS key."
  if (accountAllows.length > 0) {
    return result('Allow', 'AllowedByIdentityPolicyEnabledByKeyPolicy', [
      ...accountAllows,
      ...identityAllows,
    ]);
  }
  return result('ImplicitDeny', 'KeyPolicyDoesNotEnableIamPolicies', identityAllows);
}

/** Decides whether the principal may perform the action on every resource. Pure: no I/O. */
export function authorize(request: AuthorizationRequest): AuthorizationResult {
  if (!ACTION.test(request.action)) throw new Error(`Not an action name (service:Action): ${request.action}`);
  if (request.resources.length === 0)
    throw new Error(`No resource for ${request.action}: use "*" for actions without one`);
  const caller = callerOf(request.principal);
  for (const policy of caller.identityPolicies) {
    if (policy.type !== 'identity')
      throw new Error(`Policy ${policy.name} is a ${policy.type} policy, not an identity policy`);
  }
  for (const { policy } of request.resources) {
    if (policy !== undefined && policy.type !== 'resource') {
      throw new Error(`Policy ${policy.name} is an ${policy.type} policy, not a resource policy`);
    }
  }
  const context = RequestContext.from(request.context ?? {}).withDefaults(principalDefaults(caller));
  const resources = request.resources.map((resource) =>
    decide(resource, collect(caller, resource, { action: request.action, resource: resource.arn, context })),
  );
  const decision: Decision = resources.some((r) => r.decision === 'ExplicitDeny')
    ? 'ExplicitDeny'
    : resources.some((r) => r.decision === 'ImplicitDeny')
      ? 'ImplicitDeny'
      : 'Allow';
  return { decision, principal: caller.display, action: request.action, resources };
}
