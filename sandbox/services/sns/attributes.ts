/**
 * Topic and subscription attributes: which names SNS accepts, how their values are checked, and
 * the read-only attributes SNS computes.
 */
import { AwsError } from '../../core/types.ts';
import { FilterPolicyError, type FilterPolicyScope, parseFilterPolicy } from './filter-policy.ts';

const TOPIC_ATTRIBUTES = new Set([
  'DeliveryPolicy',
  'DisplayName',
  'Policy',
  'KmsMasterKeyId',
  'TracingConfig',
  'SignatureVersion',
  'FifoTopic',
  'DataProtectionPolicy',
]);
const FEEDBACK_ATTRIBUTE =
  /^(HTTP|Firehose|Lambda|SQS|Application)(SuccessFeedbackRoleArn|SuccessFeedbackSampleRate|FailureFeedbackRoleArn)$/;
const SUBSCRIPTION_ATTRIBUTES = new Set([
  'DeliveryPolicy',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'SubscriptionRoleArn',
]);

function invalid(name: string, reason: string): AwsError {
  return new AwsError('InvalidParameter', `Invalid parameter: ${name} Reason: ${reason}`);
}

function checkJson(name: string, value: string): void {
  try {
    JSON.parse(value);
  } catch {
    throw invalid(name, 'the value is not valid JSON');
  }
}

/** Throws InvalidParameter unless SNS accepts this topic attribute. */
export function checkTopicAttribute(name: string, value: string): void {
  if (!TOPIC_ATTRIBUTES.has(name) && !FEEDBACK_ATTRIBUTE.test(name)) {
    throw new AwsError('InvalidParameter', `Invalid parameter: AttributeName`);
  }
  if (name === 'FifoTopic' && value === 'true') {
    throw invalid('FifoTopic', 'the sandbox does not emulate FIFO topics');
  }
  if (name === 'FifoTopic' && value !== 'false') throw invalid(name, 'must be true or false');
  if (name === 'DisplayName' && value.length > 100) throw invalid(name, 'must be at most 100 characters');
  if (name === 'TracingConfig' && value !== 'Active' && value !== 'PassThrough') {
    throw invalid(name, 'must be Active or PassThrough');
  }
  if (name === 'SignatureVersion' && value !== '1' && value !== '2') throw invalid(name, 'must be 1 or 2');
  if (name === 'Policy' || name === 'DeliveryPolicy' || name === 'DataProtectionPolicy')
    checkJson(name, value);
}

/** Throws InvalidParameter unless SNS accepts this subscription attribute (filter policies are parsed). */
export function checkSubscriptionAttribute(
  name: string,
  value: string,
  /** The FilterPolicyScope the subscription will have (MessageAttributes when unset). */
  scope: string | undefined,
): void {
  if (!SUBSCRIPTION_ATTRIBUTES.has(name))
    throw new AwsError('InvalidParameter', 'Invalid parameter: AttributeName');
  if (name === 'RawMessageDelivery' && value !== 'true' && value !== 'false') {
    throw invalid(name, 'must be true or false');
  }
  if (name === 'FilterPolicyScope' && value !== 'MessageAttributes' && value !== 'MessageBody') {
    throw invalid(name, 'must be MessageAttributes or MessageBody');
  }
  if (name === 'DeliveryPolicy' || name === 'RedrivePolicy') checkJson(name, value);
  if (name === 'FilterPolicy' && value !== '') {
    try {
      parseFilterPolicy(value, (scope as FilterPolicyScope | undefined) ?? 'MessageAttributes');
    } catch (error) {
      if (error instanceof FilterPolicyError) {
        throw new AwsError('InvalidParameter', `Invalid parameter: FilterPolicy: ${error.message}`);
      }
      throw error;
    }
  }
}

/** The policy SNS gives a topic created without one. */
export function defaultTopicPolicy(topicArn: string, accountId: string): string {
  return JSON.stringify({
    Version: '2008-10-17',
    Id: '__default_policy_ID',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'SNS:GetTopicAttributes',
          'SNS:SetTopicAttributes',
          'SNS:AddPermission',
          'SNS:RemovePermission',
          'SNS:DeleteTopic',
          'SNS:Subscribe',
          'SNS:ListSubscriptionsByTopic',
          'SNS:Publish',
        ],
        Resource: topicArn,
        Condition: { StringEquals: { 'AWS:SourceOwner': accountId } },
      },
    ],
  });
}

/** The delivery policy SNS reports when none is set. */
export const DEFAULT_EFFECTIVE_DELIVERY_POLICY = JSON.stringify({
  http: {
    defaultHealthyRetryPolicy: {
      minDelayTarget: 20,
      maxDelayTarget: 20,
      numRetries: 3,
      numMaxDelayRetries: 0,
      numNoDelayRetries: 0,
      numMinDelayRetries: 0,
      backoffFunction: 'linear',
    },
    disableSubscriptionOverrides: false,
    defaultRequestPolicy: { headerContentType: 'text/plain; charset=UTF-8' },
  },
});
