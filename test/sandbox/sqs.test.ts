/**
 * The sandbox's SQS, driven by the AWS SDK v3's SQSClient (JSON 1.0 protocol, query-compatible
 * errors, MD5 checks of bodies and attributes), and SNS delivering to a queue subscription.
 */
import { CreateKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { snsService } from '../../sandbox/services/sns/index.ts';
import { sqsService } from '../../sandbox/services/sqs/index.ts';
import { md5OfAttributes } from '../../sandbox/services/sqs/md5.ts';
import { withSandbox } from '../support/sandbox.ts';

const handle = withSandbox([kmsService, snsService, sqsService]);
let sqs: SQSClient;
let counter = 0;

beforeAll(() => {
  sqs = new SQSClient({});
});

async function newQueue(attributes?: Record<string, string>): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `queue-${process.pid}-${++counter}`, Attributes: attributes }),
  );
  if (!QueueUrl) throw new Error('CreateQueue returned no QueueUrl');
  return QueueUrl;
}

async function failure(promise: Promise<unknown>): Promise<Error & { Code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { Code?: string };
  }
  throw new Error('expected the call to fail');
}

describe('queues', () => {
  it('creates a queue idempotently and finds it by name, with its ARN and defaults', async () => {
    // Act
    const first = await sqs.send(new CreateQueueCommand({ QueueName: 'dead-letters' }));
    const second = await sqs.send(new CreateQueueCommand({ QueueName: 'dead-letters' }));
    const byName = await sqs.send(new GetQueueUrlCommand({ QueueName: 'dead-letters' }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: first.QueueUrl, AttributeNames: ['All'] }),
    );

    // Assess
    expect(first.QueueUrl).toBe(`${handle.sandbox.url}/000000000000/dead-letters`);
    expect(second.QueueUrl).toBe(first.QueueUrl);
    expect(byName.QueueUrl).toBe(first.QueueUrl);
    expect(Attributes).toMatchObject({
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:dead-letters',
      VisibilityTimeout: '30',
      MessageRetentionPeriod: '345600',
      ApproximateNumberOfMessages: '0',
    });
  });

  it('refuses the same name with different attributes as QueueNameExists', async () => {
    await sqs.send(new CreateQueueCommand({ QueueName: 'twice', Attributes: { DelaySeconds: '1' } }));

    const error = await failure(
      sqs.send(new CreateQueueCommand({ QueueName: 'twice', Attributes: { DelaySeconds: '2' } })),
    );

    expect(error.name).toBe('QueueNameExists');
    expect(error.Code).toBe('QueueAlreadyExists');
  });

  it('answers an unknown queue with QueueDoesNotExist and its Query code', async () => {
    const error = await failure(sqs.send(new GetQueueUrlCommand({ QueueName: 'nowhere' })));

    expect(error.name).toBe('QueueDoesNotExist');
    expect(error.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
  });

  it('refuses an out-of-range attribute and an unknown one', async () => {
    const range = await failure(
      sqs.send(
        new CreateQueueCommand({ QueueName: 'bad-range', Attributes: { VisibilityTimeout: '50000' } }),
      ),
    );
    const unknown = await failure(
      sqs.send(new CreateQueueCommand({ QueueName: 'bad-name', Attributes: { Colour: 'blue' } as never })),
    );

    expect(range.name).toBe('InvalidAttributeValue');
    expect(unknown.name).toBe('InvalidAttributeName');
  });

  it('lists queues by prefix, in pages when MaxResults is given', async () => {
    for (const name of ['list-a', 'list-b', 'list-c'])
      await sqs.send(new CreateQueueCommand({ QueueName: name }));

    const first = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'list-', MaxResults: 2 }));
    const second = await sqs.send(
      new ListQueuesCommand({ QueueNamePrefix: 'list-', MaxResults: 2, NextToken: first.NextToken }),
    );

    expect(first.QueueUrls?.map((url) => url.split('/').pop())).toEqual(['list-a', 'list-b']);
    expect(second.QueueUrls?.map((url) => url.split('/').pop())).toEqual(['list-c']);
    expect(second.NextToken).toBeUndefined();
  });
});

describe('messages', () => {
  it('sends and receives a message with attributes, the SDK checking both MD5 digests', async () => {
    // Prepare
    const QueueUrl = await newQueue();

    // Act
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: '{"event":"ünïcode"}',
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: 'critical' },
          count: { DataType: 'Number', StringValue: '3' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2]) },
        },
      }),
    );
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );

    // Assess
    expect(sent.MD5OfMessageAttributes).toBeDefined();
    expect(Messages).toHaveLength(1);
    expect(Messages?.[0]).toMatchObject({
      MessageId: sent.MessageId,
      Body: '{"event":"ünïcode"}',
      Attributes: { ApproximateReceiveCount: '1' },
      MessageAttributes: { severity: { DataType: 'String', StringValue: 'critical' } },
    });
  });

  it('computes the attribute digests other SQS implementations publish as test vectors', () => {
    // The SDK checks only MD5OfBody, so the attribute digest is checked against published values:
    // AWS's sample attribute, and a Number plus a String one (sorted by name before hashing).
    expect(md5OfAttributes({ SellerName: { DataType: 'String', StringValue: 'Example Store' } })).toBe(
      'cd28f3b68aeee4b2eac9c66f2f694b58',
    );
    expect(
      md5OfAttributes({
        ordinal: { DataType: 'Number', StringValue: '1' },
        category: { DataType: 'String', StringValue: 'test' },
      }),
    ).toBe('d21ae90c49061e927f57df5f5d72be1f');
  });

  it('hides a received message for its visibility timeout and deletes it by receipt handle', async () => {
    const QueueUrl = await newQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'once' }));

    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 1 }));
    const hidden = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: again.Messages?.[0]?.ReceiptHandle }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );

    expect(first.Messages?.[0]?.Body).toBe('once');
    expect(hidden.Messages).toBeUndefined();
    expect(again.Messages?.[0]?.MessageId).toBe(first.Messages?.[0]?.MessageId);
    expect(Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('refuses a receipt handle that is not one', async () => {
    const QueueUrl = await newQueue();

    const error = await failure(sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'nope' })));

    expect(error.name).toBe('ReceiptHandleIsInvalid');
  });

  it('waits for a message with long polling', async () => {
    const QueueUrl = await newQueue();
    const started = Date.now();

    const receiving = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5 }));
    setTimeout(() => void sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'late' })), 300);
    const { Messages } = await receiving;

    expect(Messages?.[0]?.Body).toBe('late');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('purges a queue, once a minute', async () => {
    const QueueUrl = await newQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'gone' }));

    await sqs.send(new PurgeQueueCommand({ QueueUrl }));
    const second = await failure(sqs.send(new PurgeQueueCommand({ QueueUrl })));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));

    expect(Messages).toBeUndefined();
    expect(second.name).toBe('PurgeQueueInProgress');
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue', async () => {
    const deadLetters = await newQueue();
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: deadLetters, AttributeNames: ['QueueArn'] }),
    );
    const QueueUrl = await newQueue({
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 1 }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));

    await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));
    const source = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    const moved = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetters }));

    expect(source.Messages).toBeUndefined();
    expect(moved.Messages?.[0]?.Body).toBe('poison');
  });

  it('refuses a message for a queue whose KMS key is disabled', async () => {
    const kms = new KMSClient({});
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    const QueueUrl = await newQueue({ KmsMasterKeyId: KeyMetadata?.Arn ?? '' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'sealed' }));
    await kms.send(new DisableKeyCommand({ KeyId: KeyMetadata?.KeyId }));

    const error = await failure(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'refused' })));

    expect(error.name).toBe('KmsDisabled');
  });
});

describe('SNS subscriptions', () => {
  it('delivers a published message to a subscribed queue as the notification document', async () => {
    // Prepare
    const sns = new SNSClient({});
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'to-queue' }));
    const QueueUrl = await newQueue();
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));

    // Act
    await sns.send(
      new PublishCommand({
        TopicArn,
        Message: 'backup failed',
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'critical' } },
      }),
    );
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2 }));

    // Assess
    const notification = JSON.parse(Messages?.[0]?.Body ?? '{}') as Record<string, unknown>;
    expect(notification).toMatchObject({
      Type: 'Notification',
      TopicArn,
      Message: 'backup failed',
      MessageAttributes: { severity: { Type: 'String', Value: 'critical' } },
    });
  });

  it('delivers the bare message with SQS message attributes when RawMessageDelivery is on', async () => {
    const sns = new SNSClient({});
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'to-queue-raw' }));
    const QueueUrl = await newQueue();
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );

    await sns.send(
      new PublishCommand({
        TopicArn,
        Message: 'raw',
        MessageAttributes: { flow: { DataType: 'String', StringValue: 'Backup' } },
      }),
    );
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2, MessageAttributeNames: ['All'] }),
    );

    expect(Messages?.[0]?.Body).toBe('raw');
    expect(Messages?.[0]?.MessageAttributes).toEqual({ flow: { DataType: 'String', StringValue: 'Backup' } });
  });
});
