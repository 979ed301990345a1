/**
 * SNS topic, subscription and tag operations (everything but Publish).
 */
import type { XmlNode } from '../../core/responses.ts';
import { AwsError } from '../../core/types.ts';
import {
  checkSubscriptionAttribute,
  checkTopicAttribute,
  DEFAULT_EFFECTIVE_DELIVERY_POLICY,
  defaultTopicPolicy,
} from './attributes.ts';
import { loopbackUrl } from './delivery.ts';
import type { QueryInput } from './query.ts';
import type { Subscription, Topic, TopicStore } from './topics.ts';

/** What an operation works on. */
export interface OperationContext {
  readonly store: TopicStore;
  readonly region: string;
  readonly accountId: string;
}

/** Returns the `<Action>Result` element's content, or undefined for actions that have none. */
export type Operation = (
  context: OperationContext,
  input: QueryInput,
) => XmlNode | undefined | Promise<XmlNode | undefined>;

const PAGE_SIZE = 100;
const RECORDED_PROTOCOLS: Readonly<Record<string, RegExp>> = {
  email: /^[^@\s]+@[^@\s]+$/,
  'email-json': /^[^@\s]+@[^@\s]+$/,
  sms: /^\+?[0-9]{7,15}$/,
  sqs: /^arn:aws[\w-]*:sqs:[a-z0-9-]+:\d{12}:[\w.-]+$/,
  lambda: /^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/,
  firehose: /^arn:aws[\w-]*:firehose:[a-z0-9-]+:\d{12}:deliverystream\/[\w.-]+$/,
  application: /^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:endpoint\/.+$/,
};

function entries(map: Readonly<Record<string, string>>): XmlNode {
  return { entry: Object.entries(map).map(([key, value]) => ({ key, value })) };
}

function tagMembers(tags: Readonly<Record<string, string>>): XmlNode {
  return { member: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
}

/** A page of `items` after the NextToken, 100 at a time. */
function pageOf<T extends { arn: string }>(
  items: readonly T[],
  token: string | undefined,
): { items: T[]; next?: string } {
  let start = 0;
  if (token !== undefined) {
    if (!/^[A-Za-z0-9_-]+$/.test(token))
      throw new AwsError('InvalidParameter', 'Invalid parameter: NextToken');
    const after = Buffer.from(token, 'base64url').toString('utf8');
    start = items.findIndex((item) => item.arn > after);
    if (start === -1) start = items.length;
  }
  const slice = items.slice(start, start + PAGE_SIZE);
  const last = slice.at(-1);
  return start + PAGE_SIZE < items.length && last
    ? { items: slice, next: Buffer.from(last.arn, 'utf8').toString('base64url') }
    : { items: slice };
}

function subscriptionMember(subscription: Subscription, accountId: string): XmlNode {
  return {
    SubscriptionArn: subscription.arn,
    Owner: accountId,
    Protocol: subscription.protocol,
    Endpoint: subscription.endpoint,
    TopicArn: subscription.topicArn,
  };
}

function topicAttributes(store: TopicStore, topic: Topic, accountId: string): Record<string, string> {
  const confirmed = store.subscriptionsOf(topic.arn).length;
  return {
    TopicArn: topic.arn,
    Owner: accountId,
    Policy: defaultTopicPolicy(topic.arn, accountId),
    DisplayName: '',
    SubscriptionsConfirmed: String(confirmed),
    SubscriptionsPending: '0',
    SubscriptionsDeleted: '0',
    EffectiveDeliveryPolicy: topic.attributes.DeliveryPolicy ?? DEFAULT_EFFECTIVE_DELIVERY_POLICY,
    ...topic.attributes,
  };
}

const createTopic: Operation = ({ store, region }, input) => {
  const name = input.required('Name');
  const attributes = Object.fromEntries(input.stringMap('Attributes'));
  for (const [key, value] of Object.entries(attributes)) checkTopicAttribute(key, value);
  const dataProtection = input.string('DataProtectionPolicy');
  if (dataProtection !== undefined) {
    checkTopicAttribute('DataProtectionPolicy', dataProtection);
    attributes.DataProtectionPolicy = dataProtection;
  }
  const topic = store.createTopic(region, name, attributes, Object.fromEntries(input.tags('Tags')));
  return { TopicArn: topic.arn };
};

const getTopicAttributes: Operation = ({ store, region, accountId }, input) => {
  const topic = store.requireTopic(region, input.required('TopicArn'));
  return { Attributes: entries(topicAttributes(store, topic, accountId)) };
};

const setTopicAttributes: Operation = ({ store, region }, input) => {
  const topic = store.requireTopic(region, input.required('TopicArn'), 'TopicArn', 'SNS:SetTopicAttributes');
  const name = input.required('AttributeName');
  const value = input.string('AttributeValue') ?? '';
  checkTopicAttribute(name, value);
  if (name === 'FifoTopic') throw new AwsError('InvalidParameter', 'Invalid parameter: AttributeName');
  if (value === '') delete topic.attributes[name];
  else topic.attributes[name] = value;
  store.save();
  return undefined;
};

const deleteTopic: Operation = ({ store, region }, input) => {
  try {
    store.deleteTopic(store.requireTopic(region, input.required('TopicArn'), 'TopicArn', 'SNS:DeleteTopic'));
  } catch (error) {
    // DeleteTopic is idempotent: a topic that does not exist is already deleted.
    if (!(error instanceof AwsError && error.code === 'NotFound')) throw error;
  }
  return undefined;
};

const listTopics: Operation = ({ store, region }, input) => {
  const { items, next } = pageOf(store.listTopics(region), input.string('NextToken'));
  return { Topics: { member: items.map((topic) => ({ TopicArn: topic.arn })) }, NextToken: next };
};

function checkEndpoint(protocol: string, endpoint: string | undefined): string {
  if (protocol === 'http' || protocol === 'https') {
    if (!endpoint?.startsWith(`${protocol}://`))
      throw new AwsError('InvalidParameter', 'Invalid parameter: Endpoint');
    if (!loopbackUrl(endpoint)) {
      throw new AwsError(
        'InvalidParameter',
        'Invalid parameter: Endpoint Reason: the sandbox delivers only to endpoints on 127.0.0.1 or localhost',
      );
    }
    return endpoint;
  }
  const pattern = RECORDED_PROTOCOLS[protocol];
  if (!pattern) {
    throw new AwsError(
      'InvalidParameter',
      `Invalid parameter: Amazon SNS does not support this protocol string: ${protocol}`,
    );
  }
  if (!endpoint || !pattern.test(endpoint))
    throw new AwsError('InvalidParameter', `Invalid parameter: ${protocol} Endpoint`);
  return endpoint;
}

const subscribe: Operation = ({ store, region }, input) => {
  const topic = store.requireTopic(region, input.required('TopicArn'), 'TopicArn', 'SNS:Subscribe');
  const protocol = input.required('Protocol');
  const endpoint = checkEndpoint(protocol, input.string('Endpoint'));
  const attributes = Object.fromEntries(input.stringMap('Attributes'));
  for (const [key, value] of Object.entries(attributes)) {
    checkSubscriptionAttribute(key, value, attributes.FilterPolicyScope);
  }
  input.boolean('ReturnSubscriptionArn');
  // Every subscription is confirmed at once (see docs/sandbox.md), so its ARN is always returned.
  return { SubscriptionArn: store.subscribe(topic, protocol, endpoint, attributes).arn };
};

const unsubscribe: Operation = ({ store, region }, input) => {
  store.unsubscribe(store.requireSubscription(region, input.required('SubscriptionArn')));
  return undefined;
};

const listSubscriptionsByTopic: Operation = ({ store, region, accountId }, input) => {
  const topic = store.requireTopic(
    region,
    input.required('TopicArn'),
    'TopicArn',
    'SNS:ListSubscriptionsByTopic',
  );
  const { items, next } = pageOf(store.subscriptionsOf(topic.arn), input.string('NextToken'));
  return { Subscriptions: { member: items.map((s) => subscriptionMember(s, accountId)) }, NextToken: next };
};

const listSubscriptions: Operation = ({ store, region, accountId }, input) => {
  const { items, next } = pageOf(store.listSubscriptions(region), input.string('NextToken'));
  return { Subscriptions: { member: items.map((s) => subscriptionMember(s, accountId)) }, NextToken: next };
};

const getSubscriptionAttributes: Operation = ({ store, region, accountId }, input) => {
  const subscription = store.requireSubscription(region, input.required('SubscriptionArn'));
  return {
    Attributes: entries({
      SubscriptionArn: subscription.arn,
      TopicArn: subscription.topicArn,
      Owner: accountId,
      Protocol: subscription.protocol,
      Endpoint: subscription.endpoint,
      ConfirmationWasAuthenticated: 'true',
      PendingConfirmation: 'false',
      RawMessageDelivery: 'false',
      SubscriptionPrincipal: `arn:aws:iam::${accountId}:root`,
      ...subscription.attributes,
    }),
  };
};

const setSubscriptionAttributes: Operation = ({ store, region }, input) => {
  const subscription = store.requireSubscription(region, input.required('SubscriptionArn'));
  const name = input.required('AttributeName');
  const value = input.string('AttributeValue') ?? '';
  const scope = name === 'FilterPolicyScope' ? value : subscription.attributes.FilterPolicyScope;
  checkSubscriptionAttribute(name, value, scope);
  if (name === 'FilterPolicyScope' && subscription.attributes.FilterPolicy) {
    checkSubscriptionAttribute('FilterPolicy', subscription.attributes.FilterPolicy, scope);
  }
  if (value === '') delete subscription.attributes[name];
  else subscription.attributes[name] = value;
  store.save();
  return undefined;
};

function taggedTopic(context: OperationContext, input: QueryInput): Topic {
  return context.store.requireTopic(context.region, input.required('ResourceArn'), 'ResourceArn');
}

const listTagsForResource: Operation = (context, input) => ({
  Tags: tagMembers(taggedTopic(context, input).tags),
});

const tagResource: Operation = (context, input) => {
  const topic = taggedTopic(context, input);
  topic.tags = Object.fromEntries([...Object.entries(topic.tags), ...input.tags('Tags')]);
  context.store.save();
  return {};
};

const untagResource: Operation = (context, input) => {
  const topic = taggedTopic(context, input);
  const removed = new Set(input.list('TagKeys'));
  topic.tags = Object.fromEntries(Object.entries(topic.tags).filter(([key]) => !removed.has(key)));
  context.store.save();
  return {};
};

/** Topic, subscription and tag operations by action name. */
export const TOPIC_OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateTopic: createTopic,
  GetTopicAttributes: getTopicAttributes,
  SetTopicAttributes: setTopicAttributes,
  DeleteTopic: deleteTopic,
  ListTopics: listTopics,
  Subscribe: subscribe,
  Unsubscribe: unsubscribe,
  ListSubscriptionsByTopic: listSubscriptionsByTopic,
  ListSubscriptions: listSubscriptions,
  GetSubscriptionAttributes: getSubscriptionAttributes,
  SetSubscriptionAttributes: setSubscriptionAttributes,
  ListTagsForResource: listTagsForResource,
  TagResource: tagResource,
  UntagResource: untagResource,
};
