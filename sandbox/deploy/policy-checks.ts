/**
 * The deployment's policies, checked as IAM checks them: a document IAM refuses as malformed fails
 * the resource that stored it (CloudFormation's MalformedPolicyDocument), and every stored policy
 * is linted once the stack is deployed, its misspelt actions and unknown condition keys reported in
 * the deployment's warnings. IAM accepts those and they match nothing, so the evaluator does the
 * same; the typo is the template's, said once here instead of once per refused request.
 */

import {
  describeStatement,
  lintPolicy,
  type Policy,
  PolicyGrammarError,
  type PolicyType,
  parsePolicy,
} from '../iam/index.ts';
import type { IamRegistry, PolicyDocument } from '../iam-registry/index.ts';
import { TemplateError } from './template.ts';

interface StoredPolicy {
  readonly name: string;
  readonly type: PolicyType;
  readonly document: PolicyDocument;
}

/** The policies a resource of this deployment stored in the registry (by its logical id). */
function storedBy(iam: IamRegistry, logicalIds: ReadonlySet<string>): StoredPolicy[] {
  const identity = iam
    .roles()
    .flatMap((role) => Object.values(role.inlinePolicies))
    .filter((policy) => logicalIds.has(policy.source))
    .map((policy) => ({
      name: `${policy.name} (${policy.source})`,
      type: 'identity' as const,
      document: policy.document,
    }));
  const resource = iam
    .resourcePolicies()
    .filter((policy) => logicalIds.has(policy.source))
    .map((policy) => ({
      name: `${policy.source} on ${policy.resourceArn}`,
      type: 'resource' as const,
      document: policy.document,
    }));
  return [...identity, ...resource];
}

/** Throws a TemplateError when a policy the resource stored is not one IAM would accept. */
export function checkStoredPolicies(iam: IamRegistry, logicalId: string): void {
  for (const policy of storedBy(iam, new Set([logicalId]))) {
    try {
      parsePolicy(policy.document, { name: policy.name, type: policy.type });
    } catch (error) {
      if (error instanceof PolicyGrammarError) {
        throw new TemplateError(`MalformedPolicyDocument: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }
}

/** Warnings for what the deployment's policies say that IAM would silently never match. */
export async function lintStoredPolicies(
  iam: IamRegistry,
  logicalIds: ReadonlySet<string>,
): Promise<string[]> {
  const warnings: string[] = [];
  for (const stored of storedBy(iam, logicalIds)) {
    const policy: Policy = parsePolicy(stored.document, { name: stored.name, type: stored.type });
    for (const finding of await lintPolicy(policy)) {
      const statement = describeStatement({
        policyName: finding.policyName,
        policyType: stored.type,
        index: finding.statementIndex,
        sid: finding.sid,
        effect: policy.statements[finding.statementIndex]?.effect ?? 'Allow',
      });
      warnings.push(`IAM lint (${finding.severity}): ${statement}, ${finding.path}: ${finding.message}`);
    }
  }
  for (const role of iam.roles().filter((r) => logicalIds.has(r.source) && r.managedPolicyArns.length > 0)) {
    warnings.push(
      `IAM: role ${role.name} (${role.source}) attaches managed policies the sandbox has no documents for, so they grant nothing here: ${role.managedPolicyArns.join(', ')}`,
    );
  }
  return warnings;
}
