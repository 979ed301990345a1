/**
 * AWS::IAM::Role and AWS::IAM::Policy into the sandbox's IAM registry: trust policy, inline and
 * attached policies, for the IAM evaluator to decide requests by.
 */
import { randomInt } from 'node:crypto';
import type { PolicyDocument } from '../../iam-registry/index.ts';
import { type DeployContext, type ResourceHandler, text } from '../context.ts';
import { TemplateError } from '../template.ts';

/** A RoleId as IAM makes them: AROA and 17 characters. */
function roleId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let id = 'AROA';
  for (let i = 0; i < 17; i++) id += alphabet[randomInt(alphabet.length)];
  return id;
}

export const iamRole: ResourceHandler = {
  applies: ['RoleName', 'Path', 'AssumeRolePolicyDocument', 'Policies', 'ManagedPolicyArns', 'Description'],
  async create(context, resource) {
    const p = resource.properties;
    const name = context.nameFor(resource, p.RoleName, { maxLength: 64 });
    const path = text(p.Path) ?? '/';
    const arn = `arn:aws:iam::${context.accountId}:role${path}${name}`;
    const earlier = context.previous?.resources[resource.logicalId];
    const id = earlier?.type === resource.type ? (earlier.attributes.RoleId ?? roleId()) : roleId();
    const inline = (p.Policies as { PolicyName: string; PolicyDocument: PolicyDocument }[] | undefined) ?? [];
    context.iam().putRole({
      arn,
      name,
      roleId: id,
      path,
      source: resource.logicalId,
      trustPolicy: (p.AssumeRolePolicyDocument as PolicyDocument | undefined) ?? {},
      inlinePolicies: Object.fromEntries(
        inline.map((policy) => [
          policy.PolicyName,
          { name: policy.PolicyName, source: resource.logicalId, document: policy.PolicyDocument },
        ]),
      ),
      managedPolicyArns: ((p.ManagedPolicyArns as unknown[] | undefined) ?? []).map(String),
      ...(p.Description === undefined ? {} : { description: String(p.Description) }),
    });
    return { ref: name, physicalName: name, attributes: { Arn: arn, RoleId: id } };
  },
};

/** The ARN of the role named `name`: one this deployment made, else one the registry has. */
function roleArnOf(context: DeployContext, name: string): string {
  for (const created of context.created.values()) {
    if (created.type === 'AWS::IAM::Role' && created.ref === name && created.attributes.Arn)
      return created.attributes.Arn;
  }
  const known = context
    .iam()
    .roles()
    .find((role) => role.name === name);
  if (!known) throw new TemplateError(`Roles: ${name} is not a role of this deployment`);
  return known.arn;
}

export const iamPolicy: ResourceHandler = {
  applies: ['PolicyName', 'PolicyDocument', 'Roles'],
  async create(context, resource) {
    const p = resource.properties;
    const name = String(p.PolicyName);
    for (const role of (p.Roles as string[] | undefined) ?? []) {
      context.iam().putRolePolicy(roleArnOf(context, role), {
        name,
        source: resource.logicalId,
        document: p.PolicyDocument as PolicyDocument,
      });
    }
    return { ref: name, physicalName: name, attributes: {} };
  },
};
