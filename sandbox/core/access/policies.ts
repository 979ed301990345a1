/**
 * The parsed policies a decision needs, from the IAM registry: a role's identity policies and a
 * resource's own policy. Documents are parsed once and kept while the registry keeps the same
 * document (a redeployment stores new ones).
 */

import { type Policy, type PolicyType, parsePolicy } from '../../iam/index.ts';
import type { IamRegistry, PolicyDocument } from '../../iam-registry/index.ts';

/** The key policy AWS gives a key created without one: the account may use it through IAM policies. */
export function defaultKeyPolicy(accountId: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}

export class PolicySource {
  readonly #parsed = new WeakMap<object, Policy>();
  readonly #defaultKeyPolicy: PolicyDocument;

  constructor(
    private readonly registry: () => IamRegistry | undefined,
    accountId: string,
  ) {
    this.#defaultKeyPolicy = defaultKeyPolicy(accountId);
  }

  /**
   * A parsed document. A document IAM would refuse cannot be in a deployed template (CloudFormation
   * fails on it, and so does the sandbox's deployer), so parse errors here are thrown, not hidden.
   */
  #parse(document: PolicyDocument, name: string, type: PolicyType): Policy {
    const known = this.#parsed.get(document);
    if (known && known.name === name) return known;
    const policy = parsePolicy(document, { name, type });
    this.#parsed.set(document, policy);
    return policy;
  }

  /** Whether the registry has the role (roles come from a deployed template). */
  knowsRole(roleArn: string): boolean {
    return this.registry()?.role(roleArn) !== undefined;
  }

  /** The RoleId (AROA…), for `aws:userid`. */
  roleId(roleArn: string): string | undefined {
    return this.registry()?.role(roleArn)?.roleId;
  }

  /** The role's inline policies, parsed; none for a role the registry does not have. */
  identityPolicies(roleArn: string): Policy[] {
    const role = this.registry()?.role(roleArn);
    if (!role) return [];
    return Object.values(role.inlinePolicies).map((policy) =>
      this.#parse(policy.document, policy.name, 'identity'),
    );
  }

  /**
   * The resource's policy, parsed. A KMS key the registry has no key policy for (made by hand with
   * CreateKey) has the default key policy, as AWS gives it.
   */
  resourcePolicy(arn: string, kmsKey: boolean): Policy | undefined {
    const record = this.registry()?.resourcePolicy(arn);
    if (record) return this.#parse(record.document, record.source, 'resource');
    if (kmsKey) return this.#parse(this.#defaultKeyPolicy, 'default key policy', 'resource');
    return undefined;
  }
}
