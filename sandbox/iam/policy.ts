/**
 * A policy document after parsing: validated once, then evaluated for many requests.
 */
import type { OperatorSpec } from './condition-operators.ts';
import type { Pattern } from './pattern.ts';
import type { PolicyString } from './policy-strings.ts';

/** Identity policies (a role's inline and managed policies) or a resource's own policy. */
export type PolicyType = 'identity' | 'resource';

/** The policy language version; variables exist only in 2012-10-17. */
export type PolicyVersion = '2012-10-17' | '2008-10-17';

export type Effect = 'Allow' | 'Deny';

/** Action or NotAction: patterns matched case-insensitively against `service:Action`. */
export interface ActionElement {
  readonly negated: boolean;
  readonly patterns: readonly Pattern[];
}

/** Resource or NotResource: ARN patterns, possibly with policy variables in the resource part. */
export interface ResourceElement {
  readonly negated: boolean;
  readonly patterns: readonly PolicyString[];
}

/** Principal or NotPrincipal of a resource policy. */
export interface PrincipalElement {
  readonly negated: boolean;
  /** `"*"` or `{"AWS": "*"}`: every principal, anonymous and service principals included. */
  readonly everyone: boolean;
  /** AWS entries: account ids, account root ARNs, role, session and user ARNs. */
  readonly aws: readonly string[];
  /** Service principals, lowercased (`events.amazonaws.com`). */
  readonly services: readonly string[];
}

/** One key under one operator; a statement's conditions must all hold. */
export interface Condition {
  /** The operator as written, such as `ForAnyValue:StringLikeIfExists`. */
  readonly operator: string;
  readonly qualifier: 'ForAllValues' | 'ForAnyValue' | undefined;
  readonly spec: OperatorSpec;
  readonly ifExists: boolean;
  /** The condition key as written; looked up case-insensitively. */
  readonly key: string;
  /** The policy values, any of which may match (or, for negated operators, none may). */
  readonly values: readonly PolicyString[];
}

export interface Statement {
  /** Position in the policy's Statement list, counted from 0. */
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
  readonly action: ActionElement;
  readonly resource: ResourceElement;
  /** Present in resource policies only. */
  readonly principal: PrincipalElement | undefined;
  readonly conditions: readonly Condition[];
}

export interface Policy {
  /** How reports name the policy: the template's logical id, or an inline policy's name. */
  readonly name: string;
  readonly type: PolicyType;
  readonly version: PolicyVersion;
  readonly statements: readonly Statement[];
}
