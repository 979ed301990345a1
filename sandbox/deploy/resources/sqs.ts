/** AWS::SQS::Queue through the sandbox's SQS API; AWS::SQS::QueuePolicy into the IAM registry. */
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { type DeployContext, type ResourceHandler, text } from '../context.ts';

const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

export const sqsQueue: ResourceHandler = {
  applies: ['QueueName', 'Tags', ...QUEUE_ATTRIBUTES],
  async create(context, resource) {
    const p = resource.properties;
    const name = context.nameFor(resource, p.QueueName, { maxLength: 80 });
    const attributes: Record<string, string> = {};
    for (const attribute of QUEUE_ATTRIBUTES) {
      const value = text(p[attribute]);
      if (value !== undefined) attributes[attribute] = value;
    }
    const tags = Object.fromEntries(
      ((p.Tags as { Key: string; Value: string }[] | undefined) ?? []).map((tag) => [
        tag.Key,
        String(tag.Value),
      ]),
    );
    const { QueueUrl = '' } = await context.clients.sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes, tags }),
    );
    return {
      ref: QueueUrl,
      physicalName: name,
      attributes: { Arn: context.arn('sqs', name), QueueName: name, QueueUrl },
    };
  },
};

/** The ARN of the queue a URL names: one this deployment made, else read from the URL. */
function queueArnOf(context: DeployContext, url: string): string {
  for (const created of context.created.values()) {
    if (created.type === 'AWS::SQS::Queue' && created.ref === url && created.attributes.Arn) {
      return created.attributes.Arn;
    }
  }
  const [account, name] = new URL(url).pathname.split('/').filter(Boolean);
  return `arn:aws:sqs:${context.region}:${account}:${name}`;
}

export const sqsQueuePolicy: ResourceHandler = {
  applies: ['Queues', 'PolicyDocument'],
  async create(context, resource) {
    for (const url of (resource.properties.Queues as string[] | undefined) ?? []) {
      context.iam().putResourcePolicy({
        resourceArn: queueArnOf(context, url),
        source: resource.logicalId,
        document: resource.properties.PolicyDocument as Record<string, unknown>,
      });
    }
    return { ref: resource.logicalId, attributes: {}, notes: ['PolicyDocument: stored in the IAM registry'] };
  },
};
