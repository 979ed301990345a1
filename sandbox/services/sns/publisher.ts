/**
 * Publish: checks the message, keeps it for inspection, and fans it out to the topic's
 * subscriptions (HTTP/HTTPS on loopback delivered, other protocols recorded), honouring filter
 * policies and the topic's KMS key.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../../core/types.ts';
import type { KmsService } from '../kms/index.ts';
import type { SqsService } from '../sqs/index.ts';
import { type DeliveryRecord, HttpDeliverer } from './delivery.ts';
import {
  type FilterPolicyScope,
  matchesAttributes,
  matchesBody,
  parseFilterPolicy,
} from './filter-policy.ts';
import {
  type MessageAttribute,
  messageForProtocol,
  type PublishInput,
  readPublishInput,
} from './publish-input.ts';
import type { QueryInput } from './query.ts';
import type { OperationContext } from './topic-operations.ts';
import type { Subscription, Topic } from './topics.ts';

/** A published message as kept for assertions. */
export interface KeptMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly region: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageStructure?: 'json';
  readonly messageAttributes: Readonly<Record<string, MessageAttribute>>;
  /** ISO 8601 time of publication. */
  readonly timestamp: string;
  /** One entry per subscription the topic had when the message was published. */
  readonly deliveries: readonly DeliveryRecord[];
}

export interface PublisherOptions {
  readonly retryDelaysMs: readonly number[];
  readonly deliveryTimeoutMs: number;
  /** Oldest messages are dropped beyond this many. */
  readonly maxKeptMessages: number;
  /** The KMS service, to check a topic's KmsMasterKeyId; undefined when the sandbox runs without KMS. */
  readonly kms: () => KmsService | undefined;
  /** The SQS service, for `sqs` subscriptions; undefined when the sandbox runs without SQS. */
  readonly sqs?: () => SqsService | undefined;
}

const HTTP_PROTOCOLS = new Set(['http', 'https']);
const AWS_MANAGED_SNS_KEY = /^(arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:)?alias\/aws\/sns$/;

export class Publisher {
  private readonly kept: KeptMessage[] = [];
  private readonly deliverer: HttpDeliverer;

  constructor(private readonly options: PublisherOptions) {
    this.deliverer = new HttpDeliverer({
      retryDelaysMs: options.retryDelaysMs,
      timeoutMs: options.deliveryTimeoutMs,
    });
  }

  /** The Publish action. */
  publish(context: OperationContext, input: QueryInput): { MessageId: string } {
    const arn = input.string('TopicArn') ?? input.string('TargetArn');
    if (arn === undefined) {
      if (input.string('PhoneNumber') !== undefined) {
        throw new AwsError(
          'InvalidParameter',
          'Invalid parameter: PhoneNumber Reason: the sandbox does not send SMS',
        );
      }
      throw new AwsError(
        'InvalidParameter',
        'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
      );
    }
    const topic = context.store.requireTopic(
      context.region,
      arn,
      input.string('TopicArn') ? 'TopicArn' : 'TargetArn',
      'SNS:Publish',
    );
    const published = readPublishInput(input);
    this.checkTopicKey(context.region, topic);
    const subscriptions = context.store.subscriptionsOf(topic.arn);
    const message: KeptMessage = {
      messageId: randomUUID(),
      topicArn: topic.arn,
      region: context.region,
      ...(published.subject === undefined ? {} : { subject: published.subject }),
      message: published.message,
      ...(published.messageStructure ? { messageStructure: published.messageStructure } : {}),
      messageAttributes: published.messageAttributes,
      timestamp: new Date().toISOString(),
      deliveries: subscriptions.map((subscription) => this.fanOut(subscription, published)),
    };
    this.keep(message);
    for (const [index, subscription] of subscriptions.entries()) {
      const record = message.deliveries[index];
      if (record?.status === 'pending') this.send(record, subscription, message, published);
    }
    return { MessageId: message.messageId };
  }

  /** Kept messages, oldest first, optionally of one topic; copies, so callers cannot alter them. */
  messages(topicArn?: string): KeptMessage[] {
    return structuredClone(
      topicArn === undefined ? this.kept : this.kept.filter((m) => m.topicArn === topicArn),
    );
  }

  /** Resolves once every delivery started so far has finished. */
  idle(): Promise<void> {
    return this.deliverer.idle();
  }

  close(): Promise<void> {
    return this.deliverer.close();
  }

  /** SNS asks KMS for a data key on every publish to an encrypted topic; a bad key fails the publish. */
  private checkTopicKey(region: string, topic: Topic): void {
    const keyId = topic.attributes.KmsMasterKeyId;
    const kms = this.options.kms();
    if (!keyId || !kms || AWS_MANAGED_SNS_KEY.test(keyId)) return;
    const key = kms.describeKey(region, keyId);
    if (!key)
      throw new AwsError(
        'KMSNotFound',
        `Invalid keyId ${keyId} (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException)`,
      );
    if (key.KeyState === 'Disabled') {
      throw new AwsError(
        'KMSDisabled',
        `${key.Arn} is disabled. (Service: AWSKMS; Status Code: 400; Error Code: DisabledException)`,
      );
    }
    if (key.KeyState !== 'Enabled') {
      throw new AwsError(
        'KMSInvalidState',
        `${key.Arn} is pending deletion. (Service: AWSKMS; Status Code: 400; Error Code: KMSInvalidStateException)`,
      );
    }
  }

  /** The delivery record for one subscription: filtered out, recorded only, or pending HTTP delivery. */
  private fanOut(subscription: Subscription, published: PublishInput): DeliveryRecord {
    const record: DeliveryRecord = {
      subscriptionArn: subscription.arn,
      protocol: subscription.protocol,
      endpoint: subscription.endpoint,
      status: 'pending',
      attempts: 0,
    };
    if (!passesFilter(subscription, published)) record.status = 'filtered';
    else if (subscription.protocol === 'sqs' && this.options.sqs?.()) record.status = 'pending';
    else if (!HTTP_PROTOCOLS.has(subscription.protocol)) record.status = 'recorded';
    return record;
  }

  private send(
    record: DeliveryRecord,
    subscription: Subscription,
    message: KeptMessage,
    published: PublishInput,
  ): void {
    const text = messageForProtocol(published, subscription.protocol);
    const raw = subscription.attributes.RawMessageDelivery === 'true';
    if (subscription.protocol === 'sqs') {
      this.sendToQueue(record, subscription, raw ? text : notificationBody(message, text), raw, message);
      return;
    }
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=UTF-8',
      'user-agent': 'Amazon Simple Notification Service Agent',
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': message.messageId,
      'x-amz-sns-topic-arn': message.topicArn,
      'x-amz-sns-subscription-arn': subscription.arn,
      ...(raw ? { 'x-amz-sns-rawdelivery': 'true' } : {}),
    };
    this.deliverer.deliver(record, raw ? text : notificationBody(message, text), headers);
  }

  /**
   * Delivers to a sandbox queue in process, as SNS does within AWS. With raw delivery the message
   * attributes become SQS message attributes; otherwise they are in the notification document.
   */
  private sendToQueue(
    record: DeliveryRecord,
    subscription: Subscription,
    body: string,
    raw: boolean,
    message: KeptMessage,
  ): void {
    const sqs = this.options.sqs?.();
    record.attempts += 1;
    try {
      if (!sqs) throw new Error("the sandbox's SQS is not running");
      sqs.send(subscription.endpoint, body, raw ? { ...message.messageAttributes } : {}, 'sns.amazonaws.com');
      record.status = 'delivered';
    } catch (error) {
      record.status = 'failed';
      record.error = error instanceof Error ? error.message : String(error);
    }
  }

  private keep(message: KeptMessage): void {
    this.kept.push(message);
    const excess = this.kept.length - this.options.maxKeptMessages;
    if (excess > 0) this.kept.splice(0, excess);
  }
}

function passesFilter(subscription: Subscription, published: PublishInput): boolean {
  const text = subscription.attributes.FilterPolicy;
  if (!text) return true;
  const scope = (subscription.attributes.FilterPolicyScope ?? 'MessageAttributes') as FilterPolicyScope;
  const policy = parseFilterPolicy(text, scope);
  return scope === 'MessageBody'
    ? matchesBody(policy, published.message)
    : matchesAttributes(policy, published.messageAttributes);
}

/** The JSON document SNS posts to HTTP/HTTPS subscribers (signature fields are not sent: see docs). */
export function notificationBody(message: KeptMessage, text: string): string {
  const attributes = Object.entries(message.messageAttributes);
  return JSON.stringify({
    Type: 'Notification',
    MessageId: message.messageId,
    TopicArn: message.topicArn,
    ...(message.subject === undefined ? {} : { Subject: message.subject }),
    Message: text,
    Timestamp: message.timestamp,
    ...(attributes.length === 0
      ? {}
      : {
          MessageAttributes: Object.fromEntries(
            attributes.map(([name, a]) => [
              name,
              { Type: a.DataType, Value: a.StringValue ?? a.BinaryValue },
            ]),
          ),
        }),
  });
}
