/**
 * What a request needs from IAM, as each service's authorization module (services/<name>/
 * authorization.ts) derives it from the Service Authorization Reference: the actions, the resources
 * each acts on, and the condition keys the request supplies. The enforcer (access-control.ts)
 * evaluates them; the modules only describe.
 */
import type { ContextInput } from '../../iam/index.ts';

/** One resource an action is authorized against. */
export interface CheckedResource {
  /** The resource's ARN, or `*` for actions without resource-level permissions. */
  readonly arn: string;
  /**
   * The ARN whose resource policy governs this resource: a bucket's for its objects. The resource's
   * own ARN when omitted; `null` when no resource policy applies.
   */
  readonly policyOf?: string | null;
  /** A KMS key: its key policy must allow the caller itself or enable IAM policies. */
  readonly kmsKey?: boolean;
  /** Condition keys that describe this resource (its tags as `aws:ResourceTag/…`, `rds:db-tag/…`). */
  readonly context?: ContextInput;
}

/** One action the request needs, on every one of its resources. */
export interface AccessCheck {
  /** `service:Action`, as policies name it. */
  readonly action: string;
  readonly resources: readonly CheckedResource[];
  /** Condition keys of the request (`s3:prefix`, `aws:RequestTag/…`, `kms:EncryptionContext:…`). */
  readonly context?: ContextInput;
  /**
   * Set when a service makes this call on the caller's behalf (S3 asking KMS for a data key): the
   * service's principal, which becomes `aws:CalledVia` and makes `aws:ViaAWSService` true.
   */
  readonly calledVia?: string;
}

/** One resource, for actions that act on a single one. */
export function check(
  action: string,
  resource: CheckedResource | string,
  context?: ContextInput,
): AccessCheck {
  return {
    action,
    resources: [typeof resource === 'string' ? { arn: resource } : resource],
    ...(context === undefined ? {} : { context }),
  };
}

/** `prefix/<key>` entries for each tag, the shape of `aws:RequestTag/…` and `aws:ResourceTag/…`. */
export function tagKeys(prefix: string, tags: Iterable<readonly [string, string]>): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const [key, value] of tags) keys[`${prefix}${key}`] = value;
  return keys;
}

/** The condition keys of tags a request sets: `aws:RequestTag/<key>` and the multivalued `aws:TagKeys`. */
export function requestTagContext(tags: Iterable<readonly [string, string]>): ContextInput {
  const list = [...tags];
  return { ...tagKeys('aws:RequestTag/', list), 'aws:TagKeys': list.map(([key]) => key) };
}
