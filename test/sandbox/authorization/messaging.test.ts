/**
 * SNS's and SQS's IAM mappings (sandbox/services/{sns,sqs}/authorization.ts): the topic or queue
 * as the resource (its policy governs), tags on creation, and the publisher's or producer's own
 * KMS permissions for an encrypted topic or queue.
 */
import { describe, expect, it } from 'vitest';
import type { AccessCheck } from '../../../sandbox/core/access/checks.ts';
import { snsAccessChecks, topicOfSubscription } from '../../../sandbox/services/sns/authorization.ts';
import { QueryInput } from '../../../sandbox/services/sns/query.ts';
import { queueArnOfUrl, sqsAccessChecks } from '../../../sandbox/services/sqs/authorization.ts';
import { contractProblems } from './contract.ts';

const KEY = {
  arn: 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555',
  tags: {},
  aliases: [],
};
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:alerts';
const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:dead-letters';

const snsView = {
  region: 'us-east-1',
  accountId: '000000000000',
  topicTags: (arn: string) => (arn === TOPIC ? { 'caretaker:managed': 'true' } : undefined),
  topicKey: (arn: string) => (arn === TOPIC ? KEY : undefined),
};
const sqsView = {
  region: 'us-east-1',
  accountId: '000000000000',
  queueKey: (arn: string) => (arn === QUEUE ? KEY : undefined),
};

const query = (params: Record<string, string>) =>
  new QueryInput(new URL(`http://x/?${new URLSearchParams(params)}`), Buffer.alloc(0));
const pairs = (list: readonly AccessCheck[]) =>
  list.flatMap((c) => c.resources.map((r) => `${c.action} ${r.arn}`));

describe('SNS actions and what they need', () => {
  it("needs sns:Publish on the topic, and the publisher's kms:GenerateDataKey and kms:Decrypt for its key", async () => {
    const checks = snsAccessChecks(
      'Publish',
      query({ Action: 'Publish', TopicArn: TOPIC, Message: 'm' }),
      snsView,
    );

    expect(pairs(checks)).toEqual([
      `sns:Publish ${TOPIC}`,
      `kms:GenerateDataKey ${KEY.arn}`,
      `kms:Decrypt ${KEY.arn}`,
    ]);
    expect(checks[0]?.resources[0]?.context).toEqual({ 'aws:ResourceTag/caretaker:managed': 'true' });
    expect(checks[1]?.context?.['kms:ViaService']).toBe('sns.us-east-1.amazonaws.com');
    expect(await contractProblems(checks)).toEqual([]);
  });

  it("authorizes a subscription's operations on its topic", async () => {
    const arn = `${TOPIC}:5e3c1a8e-2d6f-4c39-9d1b-0c9f2e1b7a44`;
    const checks = snsAccessChecks('Unsubscribe', query({ SubscriptionArn: arn }), snsView);

    expect(topicOfSubscription(arn)).toBe(TOPIC);
    expect(pairs(checks)).toEqual([`sns:Unsubscribe ${TOPIC}`]);
    expect(await contractProblems(checks)).toEqual([]);
  });

  it('gives Subscribe sns:Protocol and sns:Endpoint, and CreateTopic with tags sns:TagResource too', async () => {
    const subscribe = snsAccessChecks(
      'Subscribe',
      query({ TopicArn: TOPIC, Protocol: 'https', Endpoint: 'https://127.0.0.1/h' }),
      snsView,
    );
    const create = snsAccessChecks(
      'CreateTopic',
      query({ Name: 'new', 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'ops' }),
      snsView,
    );

    expect(subscribe[0]?.context).toMatchObject({
      'sns:Protocol': 'https',
      'sns:Endpoint': 'https://127.0.0.1/h',
    });
    expect(create.map((c) => c.action)).toEqual(['sns:CreateTopic', 'sns:TagResource']);
    expect(create[0]?.context).toMatchObject({ 'aws:RequestTag/team': 'ops', 'aws:TagKeys': ['team'] });
    expect(await contractProblems([...subscribe, ...create])).toEqual([]);
  });

  it('maps every other action the sandbox serves to a real one', async () => {
    const actions = [
      'GetTopicAttributes',
      'SetTopicAttributes',
      'DeleteTopic',
      'ListSubscriptionsByTopic',
      'ListTagsForResource',
      'TagResource',
      'UntagResource',
      'ListTopics',
      'ListSubscriptions',
      'GetSubscriptionAttributes',
      'SetSubscriptionAttributes',
    ];
    const checks = actions.flatMap((action) =>
      snsAccessChecks(
        action,
        query({
          TopicArn: TOPIC,
          ResourceArn: TOPIC,
          SubscriptionArn: `${TOPIC}:x`,
          'TagKeys.member.1': 'a',
        }),
        snsView,
      ),
    );

    expect(checks.map((c) => c.action)).toEqual(actions.map((action) => `sns:${action}`));
    expect(await contractProblems(checks)).toEqual([]);
  });
});

describe('SQS operations and what they need', () => {
  it('reads the queue ARN from the sandbox URL and from SQS URL forms', () => {
    expect(queueArnOfUrl('http://127.0.0.1:4566/000000000000/dead-letters', sqsView)).toBe(QUEUE);
    expect(queueArnOfUrl('https://sqs.eu-west-1.amazonaws.com/000000000000/q', sqsView)).toBe(
      'arn:aws:sqs:eu-west-1:000000000000:q',
    );
    expect(queueArnOfUrl('not a url', sqsView)).toBe('*');
  });

  it("needs sqs:SendMessage and, for a queue with a customer key, the producer's kms:GenerateDataKey and kms:Decrypt", async () => {
    const checks = sqsAccessChecks(
      'SendMessage',
      { QueueUrl: 'http://127.0.0.1/000000000000/dead-letters', MessageBody: 'm' },
      sqsView,
    );

    expect(pairs(checks)).toEqual([
      `sqs:SendMessage ${QUEUE}`,
      `kms:GenerateDataKey ${KEY.arn}`,
      `kms:Decrypt ${KEY.arn}`,
    ]);
    expect(checks[1]?.context?.['kms:EncryptionContext:aws:sqs:arn']).toBe(QUEUE);
    expect(await contractProblems(checks)).toEqual([]);
  });

  it('needs sqs:TagQueue too when CreateQueue carries tags', async () => {
    const checks = sqsAccessChecks('CreateQueue', { QueueName: 'q', tags: { team: 'ops' } }, sqsView);

    expect(checks.map((c) => c.action)).toEqual(['sqs:CreateQueue', 'sqs:TagQueue']);
    expect(await contractProblems(checks)).toEqual([]);
  });

  it('maps every other operation to a real action', async () => {
    const operations = [
      'GetQueueUrl',
      'GetQueueAttributes',
      'ReceiveMessage',
      'DeleteMessage',
      'PurgeQueue',
      'ListQueues',
    ];
    const checks = operations.flatMap((operation) =>
      sqsAccessChecks(
        operation,
        { QueueName: 'dead-letters', QueueUrl: 'http://127.0.0.1/000000000000/dead-letters' },
        sqsView,
      ),
    );

    expect(checks.map((c) => c.action)).toContain('sqs:ReceiveMessage');
    expect(checks.map((c) => c.action)).toContain('kms:Decrypt');
    expect(await contractProblems(checks)).toEqual([]);
  });
});
