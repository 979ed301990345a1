/**
 * SNS topics and subscriptions, per region, persisted under the data directory.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { readStateFile, writeStateFile } from '../../core/state-file.ts';
import { AwsError } from '../../core/types.ts';

export interface Topic {
  readonly arn: string;
  readonly region: string;
  readonly name: string;
  attributes: Record<string, string>;
  tags: Record<string, string>;
}

export interface Subscription {
  readonly arn: string;
  readonly topicArn: string;
  readonly region: string;
  readonly protocol: string;
  readonly endpoint: string;
  attributes: Record<string, string>;
}

interface StoredState {
  version: 1;
  topics: Topic[];
  subscriptions: Subscription[];
}

const TOPIC_ARN = /^arn:aws[\w-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256})$/;
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;

/** Sorts by ARN so listings and pages are stable. */
function byArn(a: { arn: string }, b: { arn: string }): number {
  return a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0;
}

function sameEntries(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
  );
}

export class TopicStore {
  private readonly topics = new Map<string, Topic>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly accountId: string,
  ) {
    this.file = join(dataDir, 'sns', 'topics.json');
    const stored = readStateFile(this.file) as StoredState | undefined;
    for (const topic of stored?.topics ?? []) this.topics.set(topic.arn, topic);
    for (const subscription of stored?.subscriptions ?? [])
      this.subscriptions.set(subscription.arn, subscription);
  }

  /** Creates a topic, or returns the existing one when name, attributes and tags agree (as SNS does). */
  createTopic(
    region: string,
    name: string,
    attributes: Record<string, string>,
    tags: Record<string, string>,
  ): Topic {
    if (!TOPIC_NAME.test(name)) {
      throw new AwsError('InvalidParameter', 'Invalid parameter: Topic Name');
    }
    const arn = `arn:aws:sns:${region}:${this.accountId}:${name}`;
    const existing = this.topics.get(arn);
    if (existing) {
      const stored = Object.fromEntries(
        Object.entries(existing.attributes).filter(([key]) => key in attributes),
      );
      if (!sameEntries(stored, attributes)) {
        throw new AwsError(
          'InvalidParameter',
          'Invalid parameter: Attributes Reason: Topic already exists with different attributes',
        );
      }
      if (Object.keys(tags).length > 0 && !sameEntries(existing.tags, tags)) {
        throw new AwsError(
          'InvalidParameter',
          'Invalid parameter: Tags Reason: Topic already exists with different tags',
        );
      }
      return existing;
    }
    const topic: Topic = { arn, region, name, attributes, tags };
    this.topics.set(arn, topic);
    this.save();
    return topic;
  }

  /**
   * The topic an ARN names, checked as SNS checks it: a malformed ARN or one from another region
   * is InvalidParameter, another account AuthorizationError, an unknown topic NotFound.
   */
  requireTopic(
    region: string,
    arn: string,
    parameter = 'TopicArn',
    action = 'SNS:GetTopicAttributes',
  ): Topic {
    const match = TOPIC_ARN.exec(arn);
    if (!match || match[1] !== region)
      throw new AwsError('InvalidParameter', `Invalid parameter: ${parameter}`);
    if (match[2] !== this.accountId) {
      throw new AwsError(
        'AuthorizationError',
        `User: arn:aws:iam::${this.accountId}:root is not authorized to perform: ${action} on resource: ${arn}`,
        403,
      );
    }
    const topic = this.topics.get(arn);
    if (!topic) throw new AwsError('NotFound', 'Topic does not exist', 404);
    return topic;
  }

  /** The topic with this ARN, or undefined (no checks: for IAM lookups). */
  findTopic(arn: string): Topic | undefined {
    return this.topics.get(arn);
  }

  /** Deletes a topic and its subscriptions; deleting a topic that does not exist is not an error. */
  deleteTopic(topic: Topic): void {
    this.topics.delete(topic.arn);
    for (const [arn, subscription] of this.subscriptions) {
      if (subscription.topicArn === topic.arn) this.subscriptions.delete(arn);
    }
    this.save();
  }

  listTopics(region: string): Topic[] {
    return [...this.topics.values()].filter((topic) => topic.region === region).sort(byArn);
  }

  /** Subscribes an endpoint; subscribing the same endpoint again returns the existing subscription. */
  subscribe(
    topic: Topic,
    protocol: string,
    endpoint: string,
    attributes: Record<string, string>,
  ): Subscription {
    for (const existing of this.subscriptions.values()) {
      if (existing.topicArn !== topic.arn || existing.protocol !== protocol || existing.endpoint !== endpoint)
        continue;
      const stored = Object.fromEntries(
        Object.entries(existing.attributes).filter(([key]) => key in attributes),
      );
      if (!sameEntries(stored, attributes)) {
        throw new AwsError(
          'InvalidParameter',
          'Invalid parameter: Attributes Reason: Subscription already exists with different attributes',
        );
      }
      return existing;
    }
    const subscription: Subscription = {
      arn: `${topic.arn}:${randomUUID()}`,
      topicArn: topic.arn,
      region: topic.region,
      protocol,
      endpoint,
      attributes,
    };
    this.subscriptions.set(subscription.arn, subscription);
    this.save();
    return subscription;
  }

  requireSubscription(region: string, arn: string): Subscription {
    const subscription = this.subscriptions.get(arn);
    if (!subscription || subscription.region !== region) {
      if (!arn.startsWith('arn:'))
        throw new AwsError('InvalidParameter', 'Invalid parameter: SubscriptionArn');
      throw new AwsError('NotFound', 'Subscription does not exist', 404);
    }
    return subscription;
  }

  unsubscribe(subscription: Subscription): void {
    this.subscriptions.delete(subscription.arn);
    this.save();
  }

  subscriptionsOf(topicArn: string): Subscription[] {
    return [...this.subscriptions.values()].filter((s) => s.topicArn === topicArn).sort(byArn);
  }

  listSubscriptions(region: string): Subscription[] {
    return [...this.subscriptions.values()].filter((s) => s.region === region).sort(byArn);
  }

  /** Persists a change made to a topic's or subscription's attributes or tags. */
  save(): void {
    const state: StoredState = {
      version: 1,
      topics: [...this.topics.values()],
      subscriptions: [...this.subscriptions.values()],
    };
    writeStateFile(this.file, state);
  }
}
