/**
 * The wording of AWS's authorization errors ("User: … is not authorized to perform: … on resource:
 * … because no identity-based policy allows the … action"), as IAM's "Troubleshoot access denied
 * error messages" page describes them and services answer them. AWS never names the deciding
 * statement in an error; the denial record does (explainDenial).
 */
import type { Denial } from './denials.ts';

export interface MessageStyle {
  /** How the service spells the action: SNS writes `SNS:Publish`, SQS `sqs:sendmessage`. */
  readonly action?: (action: string) => string;
  /** S3 puts the resource ARN in double quotes. */
  readonly quoteResource?: boolean;
}

/** Why, in AWS's words: which kind of policy denied, or which kind failed to allow. */
function because(denial: Denial, action: string): string {
  if (denial.decision === 'ExplicitDeny') {
    const kind = denial.statements.some((statement) => statement.policyType === 'identity')
      ? 'an identity-based policy'
      : 'a resource-based policy';
    return `with an explicit deny in ${kind}`;
  }
  // A KMS key whose key policy neither allows nor enables IAM policies: the resource policy failed.
  const kind =
    denial.reason === 'KeyPolicyDoesNotEnableIamPolicies' || denial.reason === 'KmsKeyWithoutKeyPolicy'
      ? 'resource-based'
      : 'identity-based';
  return `because no ${kind} policy allows the ${action} action`;
}

/** The message of the AccessDenied error AWS answers for this denial. */
export function accessDeniedMessage(denial: Denial, style: MessageStyle = {}): string {
  const action = style.action?.(denial.action) ?? denial.action;
  const resource = denial.resources[0] ?? '*';
  const shown = style.quoteResource ? `"${resource}"` : resource;
  return `User: ${denial.principal} is not authorized to perform: ${action} on resource: ${shown} ${because(denial, action)}`;
}

/**
 * How a Java-based AWS service quotes another service's error in its own (Step Functions reporting
 * a Lambda error, SNS reporting KMS's): `… (Service: AWSLambda; Status Code: 403; Error Code: …)`.
 */
export function quotedServiceError(
  message: string,
  service: string,
  status: number,
  code: string,
  requestId: string,
): string {
  return `${message} (Service: ${service}; Status Code: ${status}; Error Code: ${code}; Request ID: ${requestId}; Proxy: null)`;
}
