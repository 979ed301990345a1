/**
 * Builders for the IAM evaluator's tests: a role in one account, policies from plain statement
 * objects, and a one-statement probe that tells whether a Condition block holds for a context.
 */
import {
  type AuthorizationResult,
  authorize,
  type ContextInput,
  type Policy,
  parsePolicy,
  type RequestResource,
  type RolePrincipal,
} from '../../../sandbox/iam/index.ts';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/backup-role`;
export const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/backup-role/backup-fn`;
export const BUCKET_ARN = 'arn:aws:s3:::caretaker-backups';
export const OBJECT_ARN = `${BUCKET_ARN}/backups/2026/part-0001`;
export const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

export type RawStatement = Record<string, unknown>;

/** An identity policy with `statements` (Version 2012-10-17 unless given). */
export function identityPolicy(
  statements: RawStatement[],
  name = 'RolePolicy',
  version = '2012-10-17',
): Policy {
  return parsePolicy({ Version: version, Statement: statements }, { name, type: 'identity' });
}

/** A resource policy (bucket, key or topic policy) with `statements`. */
export function resourcePolicy(
  statements: RawStatement[],
  name = 'ResourcePolicy',
  version = '2012-10-17',
): Policy {
  return parsePolicy({ Version: version, Statement: statements }, { name, type: 'resource' });
}

/** The test role, acting through the session `backup-fn`, with the given identity policies. */
export function role(...policies: Policy[]): RolePrincipal {
  return { kind: 'role', roleArn: ROLE_ARN, sessionName: 'backup-fn', policies };
}

/** Asks whether `principal` may perform `action` on `resources`. */
export function decide(
  principal: RolePrincipal,
  action: string,
  resources: RequestResource[],
  context: ContextInput = {},
): AuthorizationResult {
  return authorize({ principal, action, resources, context });
}

/**
 * Whether a Condition block holds for `context`: the decision on a request that only one Allow
 * statement with that block could allow.
 */
export function conditionHolds(
  condition: Record<string, unknown>,
  context: ContextInput,
  version = '2012-10-17',
): boolean {
  const policy = identityPolicy(
    [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: condition }],
    'Probe',
    version,
  );
  return decide(role(policy), 's3:GetObject', [{ arn: OBJECT_ARN }], context).decision === 'Allow';
}

/** Whether an Allow of `action` on `resource` patterns covers the request's action and resource. */
export function allowCovers(
  statement: { Action?: unknown; NotAction?: unknown; Resource?: unknown; NotResource?: unknown },
  action: string,
  resource: string,
  context: ContextInput = {},
): boolean {
  const policy = identityPolicy([{ Effect: 'Allow', ...statement }]);
  return decide(role(policy), action, [{ arn: resource }], context).decision === 'Allow';
}
