/**
 * Who makes a request, and whether a resource policy's Principal or NotPrincipal names them.
 *
 * A role session is seen as a chain of identities: the session, the role, the account. A Principal
 * naming the session or the role (or `*`) grants to the caller directly. One naming the account
 * (`123456789012` or `arn:aws:iam::123456789012:root`) "delegates authority to the account": it
 * grants nothing by itself, the caller's identity policies must allow, but a Deny naming the
 * account applies to everyone in it (IAM User Guide, "AWS JSON policy elements: Principal").
 */
import type { Policy, PrincipalElement } from './policy.ts';

/** A role (usually as a session of it, as Lambda functions and state machines run). */
export interface RolePrincipal {
  readonly kind: 'role';
  /** The role's ARN, `arn:aws:iam::123456789012:role/path/name`. */
  readonly roleArn: string;
  /** The session's name when the caller is a session of the role (a function's name). */
  readonly sessionName?: string;
  /** The role's identity policies (inline and managed), parsed as `identity` policies. */
  readonly policies: readonly Policy[];
}

/** An AWS service acting as itself (`events.amazonaws.com` sending to a topic). */
export interface ServicePrincipal {
  readonly kind: 'service';
  readonly service: string;
}

export type RequestPrincipal = RolePrincipal | ServicePrincipal;

/** The caller, with the identities a Principal element can name. */
export interface Caller {
  /** How a report names the caller: the session ARN, the role ARN or the service. */
  readonly display: string;
  /** The role ARN for a role, else undefined (the value of `aws:PrincipalArn`). */
  readonly principalArn: string | undefined;
  readonly account: string | undefined;
  /** The session and role ARNs, which a Principal names to grant to the caller directly. */
  readonly arns: readonly string[];
  readonly service: string | undefined;
  readonly identityPolicies: readonly Policy[];
}

/** How a Principal element covers the caller. */
export type PrincipalMatch = 'direct' | 'account' | 'none';

const ROLE_ARN = /^arn:([a-z-]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const ACCOUNT_ROOT = /^arn:[a-z-]+:iam::(\d{12}):root$/;

/** Resolves the caller's identities; throws when a role ARN is not one. */
export function callerOf(principal: RequestPrincipal): Caller {
  if (principal.kind === 'service') {
    const service = principal.service.toLowerCase();
    return {
      display: service,
      principalArn: undefined,
      account: undefined,
      arns: [],
      service,
      identityPolicies: [],
    };
  }
  const match = ROLE_ARN.exec(principal.roleArn);
  if (match === null) throw new Error(`Not an IAM role ARN: ${principal.roleArn}`);
  const [, partition, account, roleName] = match;
  const sessionArn =
    principal.sessionName === undefined
      ? undefined
      : `arn:${partition}:sts::${account}:assumed-role/${roleName}/${principal.sessionName}`;
  return {
    display: sessionArn ?? principal.roleArn,
    principalArn: principal.roleArn,
    account,
    arns: sessionArn === undefined ? [principal.roleArn] : [sessionArn, principal.roleArn],
    service: undefined,
    identityPolicies: principal.policies,
  };
}

function namesAccount(entry: string, account: string | undefined): boolean {
  return account !== undefined && (entry === account || ACCOUNT_ROOT.exec(entry)?.[1] === account);
}

/**
 * Whether a resource policy statement's Principal or NotPrincipal covers the caller.
 *
 * NotPrincipal with Deny spares the caller only when it names every identity in the chain
 * (session, role and account), as the NotPrincipal page warns; with Allow it grants to everyone
 * whose chain it does not name at all.
 */
export function principalMatch(
  element: PrincipalElement,
  effect: 'Allow' | 'Deny',
  caller: Caller,
): PrincipalMatch {
  const namesArn = (arn: string): boolean => element.everyone || element.aws.includes(arn);
  const namesTheAccount =
    element.everyone || element.aws.some((entry) => namesAccount(entry, caller.account));
  const namesTheService =
    caller.service !== undefined && (element.everyone || element.services.includes(caller.service));
  if (!element.negated) {
    if (caller.arns.some(namesArn) || namesTheService) return 'direct';
    return namesTheAccount ? 'account' : 'none';
  }
  const chain = [
    ...caller.arns.map(namesArn),
    ...(caller.service === undefined ? [namesTheAccount] : [namesTheService]),
  ];
  const spared = effect === 'Deny' ? chain.every(Boolean) : chain.some(Boolean);
  return spared ? 'none' : 'direct';
}
