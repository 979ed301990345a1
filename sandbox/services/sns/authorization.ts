/**
 * What each SNS operation the sandbox serves needs from IAM ("Actions, resources, and condition
 * keys for Amazon SNS"): the action on the topic (its topic policy applies; a subscription's
 * operations act on its topic), sns:Protocol and sns:Endpoint for Subscribe, the topic's tags as
 * aws:ResourceTag/<key>, tags a request sets as aws:RequestTag/<key> and aws:TagKeys (CreateTopic
 * with tags also needs sns:TagResource), and, to publish to a topic encrypted with a customer
 * KMS key, the publisher's own kms:GenerateDataKey and kms:Decrypt through sns.<region>.amazonaws.com.
 */
import {
  type AccessCheck,
  type CheckedResource,
  requestTagContext,
  tagKeys,
} from '../../core/access/checks.ts';
import type { ContextInput } from '../../iam/index.ts';
import { type KmsKeyFacts, kmsOnBehalf } from '../kms/authorization.ts';
import type { QueryInput } from './query.ts';

/** Lookups SNS makes for IAM, in the request's region. */
export interface SnsAuthorizationView {
  readonly region: string;
  readonly accountId: string;
  /** The topic's tags, when the topic exists. */
  topicTags(topicArn: string): Readonly<Record<string, string>> | undefined;
  /** The customer KMS key a topic encrypts with (none for alias/aws/sns or an unencrypted topic). */
  topicKey(topicArn: string): KmsKeyFacts | undefined;
}

/** A subscription ARN is its topic's ARN and an id: its operations are authorized on the topic. */
export function topicOfSubscription(subscriptionArn: string): string {
  return subscriptionArn.replace(/:[^:]*$/, '');
}

function topic(arn: string, view: SnsAuthorizationView): CheckedResource {
  const tags = view.topicTags(arn);
  return tags === undefined ? { arn } : { arn, context: tagKeys('aws:ResourceTag/', Object.entries(tags)) };
}

function on(action: string, arn: string | undefined, view: SnsAuthorizationView, context: ContextInput = {}) {
  return { action, resources: [topic(arn ?? '*', view)], context };
}

function publishChecks(input: QueryInput, view: SnsAuthorizationView): AccessCheck[] {
  const arn = input.string('TopicArn') ?? input.string('TargetArn');
  const checks: AccessCheck[] = [on('sns:Publish', arn, view)];
  const key = arn === undefined ? undefined : view.topicKey(arn);
  if (key) {
    const via = { service: 'sns', region: view.region, accountId: view.accountId };
    checks.push(kmsOnBehalf('kms:GenerateDataKey', key, via), kmsOnBehalf('kms:Decrypt', key, via));
  }
  return checks;
}

/** The IAM checks of one SNS action. */
export function snsAccessChecks(
  action: string,
  input: QueryInput,
  view: SnsAuthorizationView,
): AccessCheck[] {
  switch (action) {
    case 'CreateTopic': {
      const arn = `arn:aws:sns:${view.region}:${view.accountId}:${input.string('Name') ?? ''}`;
      const tags = [...input.tags('Tags')];
      const tagging = tags.length > 0 ? requestTagContext(tags) : {};
      return [
        on('sns:CreateTopic', arn, view, tagging),
        ...(tags.length > 0 ? [on('sns:TagResource', arn, view, tagging)] : []),
      ];
    }
    case 'ListTopics':
    case 'ListSubscriptions':
      return [{ action: `sns:${action}`, resources: [{ arn: '*' }] }];
    case 'GetTopicAttributes':
    case 'SetTopicAttributes':
    case 'DeleteTopic':
    case 'ListSubscriptionsByTopic':
      return [on(`sns:${action}`, input.string('TopicArn'), view)];
    case 'Subscribe':
      return [
        on('sns:Subscribe', input.string('TopicArn'), view, {
          'sns:Protocol': input.string('Protocol'),
          'sns:Endpoint': input.string('Endpoint'),
        }),
      ];
    case 'Unsubscribe':
    case 'GetSubscriptionAttributes':
    case 'SetSubscriptionAttributes':
      return [on(`sns:${action}`, topicOfSubscription(input.string('SubscriptionArn') ?? ''), view)];
    case 'ListTagsForResource':
      return [on('sns:ListTagsForResource', input.string('ResourceArn'), view)];
    case 'TagResource':
      return [
        on('sns:TagResource', input.string('ResourceArn'), view, requestTagContext(input.tags('Tags'))),
      ];
    case 'UntagResource':
      return [
        on('sns:UntagResource', input.string('ResourceArn'), view, { 'aws:TagKeys': input.list('TagKeys') }),
      ];
    case 'Publish':
      return publishChecks(input, view);
    default:
      throw new Error(`No IAM mapping for the SNS action ${action}`);
  }
}
