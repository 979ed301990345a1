/**
 * A denial in words, for the sandbox's error responses and reports: who, what, on which resource,
 * and which statement denied or that none allowed. The wording follows AWS's AccessDenied messages
 * ("… is not authorized to perform: … on resource: … because no identity-based policy allows …")
 * and adds the deciding statements, which AWS keeps to itself.
 */
import type { AuthorizationResult, DecidingStatement, ResourceDecision } from './authorize.ts';

/** `policy BackupBucketPolicy (resource-based), statement 1 "DenyInsecure"`. */
export function describeStatement(statement: DecidingStatement): string {
  const kind = statement.policyType === 'identity' ? 'identity-based' : 'resource-based';
  const sid = statement.sid === undefined ? '' : ` "${statement.sid}"`;
  return `policy ${statement.policyName} (${kind}), statement ${statement.index}${sid}`;
}

function because(result: AuthorizationResult, decision: ResourceDecision): string {
  const listed = decision.statements.map(describeStatement).join('; ');
  switch (decision.reason) {
    case 'ExplicitDeny':
      return `with an explicit deny in ${listed}`;
    case 'NoAllow':
      return `because no identity-based or resource-based policy allows the ${result.action} action`;
    case 'KeyPolicyDoesNotEnableIamPolicies':
      return (
        `because the KMS key policy neither allows the principal nor enables IAM policies for ${result.action} ` +
        `(${listed} would allow it otherwise)`
      );
    case 'KmsKeyWithoutKeyPolicy':
      return 'because the KMS key has no key policy';
    default:
      return `(allowed by ${listed})`;
  }
}

/** One line per resource the request may not act on; empty when the request is allowed. */
export function explainDenial(result: AuthorizationResult): string[] {
  return result.resources
    .filter((decision) => decision.decision !== 'Allow')
    .map(
      (decision) =>
        `${result.principal} is not authorized to perform: ${result.action} on resource: ${decision.resource} ` +
        because(result, decision),
    );
}
