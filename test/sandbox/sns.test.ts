/**
 * The sandbox's SNS, driven by the AWS SDK v3 configured only by environment, with loopback HTTP
 * subscribers receiving the notifications.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  type MessageAttributeValue,
  PublishCommand,
  paginateListTopics,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../sandbox/core/server.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import {
  matchesAttributes,
  matchesBody,
  parseFilterPolicy,
} from '../../sandbox/services/sns/filter-policy.ts';
import { type SnsService, snsService } from '../../sandbox/services/sns/index.ts';
import { selfSignedCertificate, startTestServer } from '../support/https-server.ts';
import { withSandbox } from '../support/sandbox.ts';

const handle = withSandbox([kmsService, snsService], { settings: { sns: { retryDelaysMs: [10, 10] } } });
let sns: SNSClient;
let topicCounter = 0;

beforeAll(() => {
  sns = new SNSClient({});
});

const service = () => {
  const found = handle.sandbox.context.service<SnsService>('sns');
  if (!found) throw new Error('SNS is not running');
  return found;
};

async function newTopic(attributes?: Record<string, string>): Promise<string> {
  const { TopicArn } = await sns.send(
    new CreateTopicCommand({ Name: `topic-${process.pid}-${++topicCounter}`, Attributes: attributes }),
  );
  return TopicArn ?? '';
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A loopback HTTP subscriber recording what it receives and answering `status`. */
async function subscriber(
  status = 200,
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const stringAttribute = (value: string): MessageAttributeValue => ({
  DataType: 'String',
  StringValue: value,
});

describe('topics', () => {
  it('creates topics idempotently by name', async () => {
    // Act
    const first = await sns.send(new CreateTopicCommand({ Name: 'alerts-idempotent' }));
    const second = await sns.send(new CreateTopicCommand({ Name: 'alerts-idempotent' }));

    // Assess
    expect(first.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:alerts-idempotent');
    expect(second.TopicArn).toBe(first.TopicArn);
  });

  it('refuses to re-create a topic with different attributes', async () => {
    await sns.send(new CreateTopicCommand({ Name: 'alerts-attrs', Attributes: { DisplayName: 'one' } }));
    const error = await failure(
      sns.send(new CreateTopicCommand({ Name: 'alerts-attrs', Attributes: { DisplayName: 'two' } })),
    );
    expect(error.name).toBe('InvalidParameterException');
  });

  it('rejects invalid topic names', async () => {
    const error = await failure(sns.send(new CreateTopicCommand({ Name: 'no spaces allowed' })));
    expect(error.name).toBe('InvalidParameterException');
  });

  it('reports topic attributes including the KMS key', async () => {
    // Prepare
    const topicArn = await newTopic({ KmsMasterKeyId: 'alias/aws/sns', DisplayName: 'Caretaker' });

    // Act
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));

    // Assess
    expect(Attributes).toMatchObject({
      TopicArn: topicArn,
      KmsMasterKeyId: 'alias/aws/sns',
      DisplayName: 'Caretaker',
      Owner: '000000000000',
      SubscriptionsConfirmed: '0',
    });
    expect(JSON.parse(Attributes?.Policy ?? '{}')).toHaveProperty('Statement');
  });

  it('lists every topic across pages of 100', async () => {
    // Prepare
    const created = await Promise.all(
      Array.from({ length: 105 }, (_, i) => sns.send(new CreateTopicCommand({ Name: `paged-${i}` }))),
    );

    // Act
    const listed: string[] = [];
    let pages = 0;
    for await (const page of paginateListTopics({ client: sns }, {})) {
      pages++;
      listed.push(...(page.Topics ?? []).map((t) => t.TopicArn ?? ''));
    }

    // Assess
    expect(pages).toBeGreaterThan(1);
    expect(listed).toEqual(expect.arrayContaining(created.map((c) => c.TopicArn)));
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('deletes a topic, after which it is not found and deleting again succeeds', async () => {
    // Prepare
    const topicArn = await newTopic();

    // Act
    await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
    const error = await failure(sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn })));
    await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
    const { Topics } = await sns.send(new ListTopicsCommand({}));

    // Assess
    expect(error.name).toBe('NotFoundException');
    expect(Topics?.map((t) => t.TopicArn)).not.toContain(topicArn);
  });

  it('rejects a topic ARN of another region with InvalidParameter', async () => {
    const error = await failure(
      sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:000000000000:alerts', Message: 'x' })),
    );
    expect(error.name).toBe('InvalidParameterException');
  });

  it('rejects a topic ARN of another account with AuthorizationError', async () => {
    const error = await failure(
      sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts', Message: 'x' })),
    );
    expect(error.name).toBe('AuthorizationErrorException');
  });
});

describe('subscriptions', () => {
  it('subscribes loopback HTTP endpoints and records other protocols, listing them all', async () => {
    // Prepare
    const topicArn = await newTopic();

    // Act
    const http = await sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: 'http://localhost:9/hook' }),
    );
    const email = await sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'email', Endpoint: 'ops@example.com' }),
    );
    const { Subscriptions } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));

    // Assess
    expect(http.SubscriptionArn).toMatch(new RegExp(`^${topicArn}:[0-9a-f-]{36}$`));
    expect(Subscriptions).toHaveLength(2);
    expect(Subscriptions).toEqual(
      expect.arrayContaining([
        {
          SubscriptionArn: http.SubscriptionArn,
          Owner: '000000000000',
          Protocol: 'http',
          Endpoint: 'http://localhost:9/hook',
          TopicArn: topicArn,
        },
        {
          SubscriptionArn: email.SubscriptionArn,
          Owner: '000000000000',
          Protocol: 'email',
          Endpoint: 'ops@example.com',
          TopicArn: topicArn,
        },
      ]),
    );
  });

  it.each(['http://10.0.0.1/hook', 'http://example.com/hook', 'http://169.254.169.254/latest'])(
    'refuses an HTTP endpoint off this machine (%s)',
    async (endpoint) => {
      const topicArn = await newTopic();
      const error = await failure(
        sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: endpoint })),
      );
      expect(error.name).toBe('InvalidParameterException');
    },
  );

  it('rejects a filter policy that is not valid JSON', async () => {
    const topicArn = await newTopic();
    const error = await failure(
      sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'email',
          Endpoint: 'ops@example.com',
          Attributes: { FilterPolicy: '{"severity": [' },
        }),
      ),
    );
    expect(error.name).toBe('InvalidParameterException');
  });

  it('reports a subscription as confirmed, with its filter policy', async () => {
    // Prepare
    const topicArn = await newTopic();
    const policy = '{"severity":["critical"]}';
    const { SubscriptionArn } = await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'http',
        Endpoint: 'http://127.0.0.1:9/',
        Attributes: { FilterPolicy: policy },
      }),
    );

    // Act
    const { Attributes } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn }));

    // Assess
    expect(Attributes).toMatchObject({
      PendingConfirmation: 'false',
      FilterPolicy: policy,
      TopicArn: topicArn,
    });
  });

  it('unsubscribes', async () => {
    const topicArn = await newTopic();
    const { SubscriptionArn } = await sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sms', Endpoint: '+15555550100' }),
    );
    await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
    const { Subscriptions } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    expect(Subscriptions).toEqual([]);
  });
});

describe('publish', () => {
  it('keeps each published message with its subject and attributes, in process and over HTTP', async () => {
    // Prepare
    const topicArn = await newTopic();

    // Act
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'Backup failed',
        Message: 'The daily backup of set "photos" failed.',
        MessageAttributes: {
          severity: stringAttribute('critical'),
          attempt: { DataType: 'Number', StringValue: '3' },
        },
      }),
    );
    const inProcess = service().messages(topicArn);
    const overHttp = (await (
      await fetch(`${handle.sandbox.url}/_sandbox/sns/messages?topicArn=${encodeURIComponent(topicArn)}`)
    ).json()) as { messages: unknown[] };

    // Assess
    const expected = {
      messageId: MessageId,
      topicArn,
      subject: 'Backup failed',
      message: 'The daily backup of set "photos" failed.',
      messageAttributes: {
        severity: { DataType: 'String', StringValue: 'critical' },
        attempt: { DataType: 'Number', StringValue: '3' },
      },
    };
    expect(inProcess).toEqual([expect.objectContaining(expected)]);
    expect(overHttp.messages).toEqual([expect.objectContaining(expected)]);
  });

  it('accepts a subject of 100 characters and rejects one of 101', async () => {
    // Prepare
    const topicArn = await newTopic();

    // Act
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 's'.repeat(100), Message: 'ok' }));
    const error = await failure(
      sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 's'.repeat(101), Message: 'no' })),
    );

    // Assess
    expect(error.name).toBe('InvalidParameterException');
    expect(
      service()
        .messages(topicArn)
        .map((m) => m.message),
    ).toEqual(['ok']);
  });

  it('rejects a subject with a line break', async () => {
    const topicArn = await newTopic();
    const error = await failure(
      sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 'two\nlines', Message: 'x' })),
    );
    expect(error.name).toBe('InvalidParameterException');
  });

  it('rejects an empty message', async () => {
    const topicArn = await newTopic();
    const error = await failure(sns.send(new PublishCommand({ TopicArn: topicArn, Message: '' })));
    expect(error.name).toBe('InvalidParameterException');
  });

  it('rejects a message attribute without a value', async () => {
    const topicArn = await newTopic();
    const error = await failure(
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: 'x',
          MessageAttributes: { flow: { DataType: 'String' } },
        }),
      ),
    );
    expect(error.name).toBe('InvalidParameterValueException');
  });

  it('rejects publishing to a topic that does not exist with NotFound', async () => {
    const error = await failure(
      sns.send(
        new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:never-created', Message: 'x' }),
      ),
    );
    expect(error.name).toBe('NotFoundException');
  });

  it('fails to publish to a topic whose KMS key is disabled or missing', async () => {
    // Prepare
    const kms = new KMSClient({});
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    await kms.send(new DisableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
    const disabledTopic = await newTopic({ KmsMasterKeyId: KeyMetadata?.Arn ?? '' });
    const missingTopic = await newTopic({ KmsMasterKeyId: 'alias/never-created' });

    // Act
    const disabled = await failure(sns.send(new PublishCommand({ TopicArn: disabledTopic, Message: 'x' })));
    const missing = await failure(sns.send(new PublishCommand({ TopicArn: missingTopic, Message: 'x' })));

    // Assess
    expect(disabled.name).toBe('KMSDisabledException');
    expect(missing.name).toBe('KMSNotFoundException');
  });
});

describe('delivery to HTTP subscribers', () => {
  let hook: Awaited<ReturnType<typeof subscriber>>;

  beforeAll(async () => {
    hook = await subscriber();
  });

  afterAll(() => hook.close());

  it('posts the notification document with the SNS headers', async () => {
    // Prepare
    const topicArn = await newTopic();
    const { SubscriptionArn } = await sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: hook.url }),
    );
    const before = hook.received.length;

    // Act
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'Hello',
        Message: 'body',
        MessageAttributes: { flow: stringAttribute('backup') },
      }),
    );
    await service().idle();

    // Assess
    const [delivery] = hook.received.slice(before);
    expect(delivery?.headers).toMatchObject({
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': MessageId,
      'x-amz-sns-topic-arn': topicArn,
      'x-amz-sns-subscription-arn': SubscriptionArn,
    });
    expect(JSON.parse(delivery?.body ?? '{}')).toEqual({
      Type: 'Notification',
      MessageId,
      TopicArn: topicArn,
      Subject: 'Hello',
      Message: 'body',
      Timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      MessageAttributes: { flow: { Type: 'String', Value: 'backup' } },
    });
    expect(service().messages(topicArn)[0]?.deliveries).toEqual([
      expect.objectContaining({
        subscriptionArn: SubscriptionArn,
        status: 'delivered',
        attempts: 1,
        statusCode: 200,
      }),
    ]);
  });

  it('delivers only the messages whose attributes match the filter policy', async () => {
    // Prepare
    const topicArn = await newTopic();
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'http',
        Endpoint: hook.url,
        Attributes: { FilterPolicy: JSON.stringify({ severity: ['critical', { prefix: 'high' }] }) },
      }),
    );
    const before = hook.received.length;

    // Act
    for (const severity of ['critical', 'info', 'high-ish']) {
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: severity,
          MessageAttributes: { severity: stringAttribute(severity) },
        }),
      );
    }
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'no attributes' }));
    await service().idle();

    // Assess
    const messages = hook.received.slice(before).map((r) => JSON.parse(r.body).Message as string);
    expect(messages.sort()).toEqual(['critical', 'high-ish']);
    expect(
      service()
        .messages(topicArn)
        .map((m) => m.deliveries[0]?.status),
    ).toEqual(['delivered', 'filtered', 'delivered', 'filtered']);
  });

  it('sends the bare message when raw message delivery is on', async () => {
    const topicArn = await newTopic();
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'http',
        Endpoint: hook.url,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    const before = hook.received.length;
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: '{"raw":true}' }));
    await service().idle();
    expect(hook.received.slice(before).map((r) => r.body)).toEqual(['{"raw":true}']);
  });

  it('delivers to an HTTPS subscriber on localhost with a self-signed certificate', async () => {
    // Prepare
    const server = await startTestServer({ certificate: await selfSignedCertificate(), status: 200 });
    const topicArn = await newTopic();
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'https',
        Endpoint: `https://localhost:${server.port}/sns`,
      }),
    );

    // Act
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'over TLS' }));
    await service().idle();
    await server.close();

    // Assess
    expect(server.requests).toBe(1);
    expect(service().messages(topicArn)[0]?.deliveries[0]).toMatchObject({
      status: 'delivered',
      statusCode: 200,
    });
  });

  it('retries a failing subscriber, then records the delivery as failed', async () => {
    // Prepare
    const failing = await subscriber(503);
    const topicArn = await newTopic();
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: failing.url }));

    // Act
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'will fail' }));
    await service().idle();
    await failing.close();

    // Assess
    expect(failing.received).toHaveLength(3);
    expect(service().messages(topicArn)[0]?.deliveries[0]).toMatchObject({
      status: 'failed',
      attempts: 3,
      statusCode: 503,
    });
  });
});

describe('persistence', () => {
  it('finds topics and subscriptions again after a restart with the same data directory', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'caretaker-sns-restart-'));
    try {
      const first = await startSandbox({ port: 0, dataDir, services: [snsService] });
      const before = new SNSClient({ endpoint: first.url });
      const { TopicArn } = await before.send(new CreateTopicCommand({ Name: 'kept' }));
      await before.send(new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'ops@example.com' }));
      await first.stop();

      // Act
      const second = await startSandbox({ port: 0, dataDir, services: [snsService] });
      const { Subscriptions } = await new SNSClient({ endpoint: second.url }).send(
        new ListSubscriptionsByTopicCommand({ TopicArn }),
      );
      await second.stop();

      // Assess
      expect(Subscriptions?.map((s) => s.Endpoint)).toEqual(['ops@example.com']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('wire protocol', () => {
  it('answers an unknown action with an InvalidAction error document', async () => {
    const response = await fetch(handle.sandbox.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: 'Action=LaunchRockets&Version=2010-03-31',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(
      /<ErrorResponse><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code>/,
    );
  });

  it('answers an unknown inspection path with 404', async () => {
    const response = await fetch(`${handle.sandbox.url}/_sandbox/sns/nothing-here`);
    expect(response.status).toBe(404);
  });
});

describe('filter policies', () => {
  const attributes = (values: Record<string, string | number | string[]>) =>
    Object.fromEntries(
      Object.entries(values).map(([name, value]) => [
        name,
        typeof value === 'number'
          ? { DataType: 'Number', StringValue: String(value) }
          : Array.isArray(value)
            ? { DataType: 'String.Array', StringValue: JSON.stringify(value) }
            : { DataType: 'String', StringValue: value },
      ]),
    );
  const policy = (value: unknown) => parseFilterPolicy(JSON.stringify(value), 'MessageAttributes');

  it.each([
    [{ severity: ['critical'] }, { severity: 'critical' }, true],
    [{ severity: ['critical'] }, { severity: 'info' }, false],
    [{ severity: ['critical'] }, {}, false],
    [{ severity: [{ 'anything-but': ['info', 'debug'] }] }, { severity: 'warning' }, true],
    [{ severity: [{ 'anything-but': ['info', 'debug'] }] }, { severity: 'info' }, false],
    [{ flow: [{ 'anything-but': { prefix: 'test-' } }] }, { flow: 'test-backup' }, false],
    [{ flow: [{ prefix: 'back' }] }, { flow: 'backup' }, true],
    [{ flow: [{ suffix: 'up' }] }, { flow: 'backup' }, true],
    [{ flow: [{ 'equals-ignore-case': 'BACKUP' }] }, { flow: 'backup' }, true],
    [{ flow: [{ exists: false }] }, { severity: 'x' }, true],
    [{ flow: [{ exists: true }] }, { severity: 'x' }, false],
    [{ attempt: [{ numeric: ['>', 2, '<=', 5] }] }, { attempt: 3 }, true],
    [{ attempt: [{ numeric: ['>', 2, '<=', 5] }] }, { attempt: 6 }, false],
    [{ sets: ['photos'] }, { sets: ['docs', 'photos'] }, true],
    [{ severity: ['critical'], flow: ['backup'] }, { severity: 'critical', flow: 'restore' }, false],
  ])('policy %j on attributes %j matches: %s', (filter, values, expected) => {
    expect(matchesAttributes(policy(filter), attributes(values))).toBe(expected);
  });

  it('matches nested keys of a JSON body in MessageBody scope', () => {
    const body = parseFilterPolicy('{"alert":{"severity":["critical"]}}', 'MessageBody');
    expect(matchesBody(body, '{"alert":{"severity":"critical"}}')).toBe(true);
    expect(matchesBody(body, '{"alert":{"severity":"info"}}')).toBe(false);
    expect(matchesBody(body, 'not json')).toBe(false);
  });

  it.each([
    ['more than five keys', { a: ['1'], b: ['1'], c: ['1'], d: ['1'], e: ['1'], f: ['1'] }],
    ['a key without an array', { severity: 'critical' }],
    ['an unknown operator', { severity: [{ wildcard: '*' }] }],
    ['a malformed numeric range', { attempt: [{ numeric: ['>'] }] }],
  ])('rejects a policy with %s', (_label, filter) => {
    expect(() => policy(filter)).toThrow();
  });
});
