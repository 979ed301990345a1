/**
 * cdk-nag acknowledgements derived from the statements they acknowledge (DESIGN §8).
 *
 * A finding id embeds the resource as cdk-nag renders it, and that rendering changes with the
 * stack's environment (`<AWS::Region>` while the stack is environment-agnostic, a literal region
 * once `env` is set). Ids written by hand therefore break as soon as a config pins an account and
 * region. Here the id is computed from the statement itself, with cdk-nag's own renderer, so the
 * acknowledgement and the finding cannot drift apart.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
// cdk-nag's renderer of resource references in finding ids (IAM5 uses exactly this).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/**
 * Why a wildcard is acceptable: one reason for every wildcard of the statement, or a function that
 * gives the reason for one wildcard (the action or resource as cdk-nag renders it). A wildcard
 * without a reason fails synthesis.
 */
export type WildcardReason = string | ((wildcard: string) => string | undefined);

/** A statement as `Stack.resolve` renders it (the template's JSON). */
interface StatementJson {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The wildcards cdk-nag's IAM5 rule reports for a resolved statement: `Action::…` and `Resource::…`. */
export function wildcardsOf(statement: StatementJson): string[] {
  if (statement.Effect !== 'Allow') return [];
  return [
    ...list(statement.Action)
      .filter((action) => action.includes('*'))
      .map((action) => `Action::${action}`),
    ...list(statement.Resource)
      .map((resource) => flattenCfnReference(resource))
      .filter((resource) => resource.includes('*'))
      .map((resource) => `Resource::${resource}`),
  ];
}

/** The IAM5 finding ids `statement` raises, rendered as in `scope`'s stack. */
export function wildcardFindings(scope: IConstruct, statement: iam.PolicyStatement): string[] {
  const resolved = Stack.of(scope).resolve(statement.toStatementJson()) as StatementJson;
  return wildcardsOf(resolved).map((wildcard) => `AwsSolutions-IAM5[${wildcard}]`);
}

/** The IAM5 finding id of one wildcard resource (an ARN expression), rendered as in `scope`'s stack. */
export function resourceFindingId(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resource))}]`;
}

function acknowledgeFindings(
  scope: IConstruct,
  findings: readonly string[],
  reason: WildcardReason,
  where: string,
): void {
  for (const id of findings) {
    const wildcard = id.slice('AwsSolutions-IAM5['.length, -1);
    const why = typeof reason === 'string' ? reason : reason(wildcard.replace(/^(Action|Resource)::/, ''));
    if (!why) throw new Error(`${where}: no reason given for the wildcard ${wildcard}`);
    Validations.of(scope).acknowledge({ id, reason: why });
  }
}

/** Acknowledges, on `scope`, every wildcard of `statements` with its reason. */
export function acknowledgeStatements(
  scope: IConstruct,
  statements: readonly iam.PolicyStatement[],
  reason: WildcardReason,
): void {
  for (const statement of statements) {
    acknowledgeFindings(scope, wildcardFindings(scope, statement), reason, scope.node.path);
  }
}

/** Adds `statement` to the principal's policy and acknowledges its wildcards, together. */
export function allow(
  principal: iam.IGrantable & IConstruct,
  statement: iam.PolicyStatement,
  reason: WildcardReason,
): void {
  principal.grantPrincipal.addToPrincipalPolicy(statement);
  acknowledgeStatements(principal, [statement], reason);
}

/** Acknowledges the wildcards of the statements a grant added to its principal's policy. */
export function acknowledgeGrant(scope: IConstruct, grant: iam.Grant, reason: WildcardReason): iam.Grant {
  acknowledgeStatements(scope, grant.principalStatements, reason);
  return grant;
}

/**
 * Acknowledges the wildcards of statements that CDK itself added to `role`'s default policy (for
 * example X-Ray tracing, or log delivery of a state machine), picked by `reason`, which returns
 * the reason for a statement it recognises and undefined for the others.
 */
export function acknowledgeGeneratedStatements(
  role: iam.IRole,
  reason: (actions: readonly string[]) => string | undefined,
): void {
  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) return;
  const document = Stack.of(role).resolve(policy.document) as { Statement?: StatementJson[] };
  for (const statement of document.Statement ?? []) {
    const why = reason(list(statement.Action));
    if (!why) continue;
    acknowledgeFindings(
      role,
      wildcardsOf(statement).map((wildcard) => `AwsSolutions-IAM5[${wildcard}]`),
      why,
      role.node.path,
    );
  }
}
