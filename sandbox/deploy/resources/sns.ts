/**
 * AWS::SNS::Topic and AWS::SNS::Subscription through the sandbox's SNS API;
 * AWS::SNS::TopicPolicy into the IAM registry. A subscription the sandbox cannot deliver to (an
 * HTTP(S) endpoint off this machine) is not made and is listed as not modelled.
 */
import {
  CreateTopicCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { loopbackUrl } from '../../services/sns/delivery.ts';
import { type DeployContext, type ResourceHandler, text } from '../context.ts';

const TOPIC_ATTRIBUTES = [
  'DisplayName',
  'KmsMasterKeyId',
  'FifoTopic',
  'ContentBasedDeduplication',
  'SignatureVersion',
  'TracingConfig',
  'DataProtectionPolicy',
  'DeliveryPolicy',
] as const;

const SUBSCRIPTION_ATTRIBUTES = [
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'DeliveryPolicy',
  'SubscriptionRoleArn',
  'ReplayPolicy',
] as const;

/** Why the sandbox cannot hold this subscription, or undefined when it can. */
export function undeliverable(protocol: string, endpoint: string): string | undefined {
  if ((protocol === 'http' || protocol === 'https') && !loopbackUrl(endpoint)) {
    return `the sandbox delivers only to endpoints on 127.0.0.1 or localhost, and ${endpoint} is not one; subscribe a loopback endpoint by hand to receive these alerts`;
  }
  return undefined;
}

async function subscribe(
  client: SNSClient,
  topicArn: string,
  protocol: string,
  endpoint: string,
  attributes: Record<string, string>,
): Promise<string> {
  const { SubscriptionArn } = await client.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: protocol,
      Endpoint: endpoint,
      Attributes: attributes,
      ReturnSubscriptionArn: true,
    }),
  );
  return SubscriptionArn ?? '';
}

/** A client for another region, when a subscription names one. */
function clientFor(context: DeployContext, region: string): SNSClient {
  if (region === context.region) return context.clients.sns;
  return new SNSClient({
    endpoint: context.sandbox.url,
    region,
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  });
}

export const snsTopic: ResourceHandler = {
  applies: ['TopicName', 'Subscription', 'Tags', ...TOPIC_ATTRIBUTES],
  async create(context, resource) {
    const p = resource.properties;
    const name = context.nameFor(resource, p.TopicName, { maxLength: 256 });
    const attributes: Record<string, string> = {};
    for (const attribute of TOPIC_ATTRIBUTES) {
      const value = text(p[attribute]);
      if (value !== undefined) attributes[attribute] = value;
    }
    const tags = ((p.Tags as { Key: string; Value: string }[] | undefined) ?? []).map((tag) => ({
      Key: tag.Key,
      Value: String(tag.Value),
    }));
    let topicArn: string;
    try {
      ({ TopicArn: topicArn = '' } = await context.clients.sns.send(
        new CreateTopicCommand({ Name: name, Attributes: attributes, Tags: tags }),
      ));
    } catch (error) {
      if (!/already exists with different/.test((error as Error).message)) throw error;
      // A redeployment with changed attributes updates the existing topic, as a stack update does.
      topicArn = context.arn('sns', name);
      for (const [AttributeName, AttributeValue] of Object.entries(attributes)) {
        await context.clients.sns.send(
          new SetTopicAttributesCommand({ TopicArn: topicArn, AttributeName, AttributeValue }),
        );
      }
    }
    const notes: string[] = [];
    for (const inline of (p.Subscription as { Endpoint: string; Protocol: string }[] | undefined) ?? []) {
      const reason = undeliverable(inline.Protocol, inline.Endpoint);
      if (reason) notes.push(`Subscription ${inline.Protocol} ${inline.Endpoint} not made: ${reason}`);
      else await subscribe(context.clients.sns, topicArn, inline.Protocol, inline.Endpoint, {});
    }
    return { ref: topicArn, physicalName: name, attributes: { TopicArn: topicArn, TopicName: name }, notes };
  },
};

export const snsTopicPolicy: ResourceHandler = {
  applies: ['Topics', 'PolicyDocument'],
  async create(context, resource) {
    for (const topicArn of (resource.properties.Topics as string[] | undefined) ?? []) {
      context.iam().putResourcePolicy({
        resourceArn: topicArn,
        source: resource.logicalId,
        document: resource.properties.PolicyDocument as Record<string, unknown>,
      });
    }
    return { ref: resource.logicalId, attributes: {}, notes: ['PolicyDocument: stored in the IAM registry'] };
  },
};

export const snsSubscription: ResourceHandler = {
  applies: ['TopicArn', 'Protocol', 'Endpoint', 'Region', ...SUBSCRIPTION_ATTRIBUTES],
  async create(context, resource) {
    const p = resource.properties;
    const protocol = String(p.Protocol);
    const endpoint = String(p.Endpoint ?? '');
    const reason = undeliverable(protocol, endpoint);
    if (reason) return { ref: '', attributes: { Arn: '' }, skipped: reason };
    const attributes: Record<string, string> = {};
    for (const attribute of SUBSCRIPTION_ATTRIBUTES) {
      const value = text(p[attribute]);
      if (value !== undefined) attributes[attribute] = value;
    }
    const region = text(p.Region) ?? context.region;
    const client = clientFor(context, region);
    const arn = await subscribe(client, String(p.TopicArn), protocol, endpoint, attributes);
    if (client !== context.clients.sns) client.destroy();
    return { ref: arn, attributes: { Arn: arn } };
  },
};
