/**
 * IAM enforced on SNS and SQS for a role session: publishing allowed and refused
 * (AuthorizationError), the TLS-only topic policy, an encrypted topic refusing a publisher without
 * the key (KMSAccessDenied), and SQS's query-compatible AccessDenied.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { iamRegistryService } from '../../sandbox/iam-registry/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { snsService } from '../../sandbox/services/sns/index.ts';
import { sqsService } from '../../sandbox/services/sqs/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import { asAdministrator, asRole, failure, resourcePolicy, role } from './iam-support.ts';

const handle = withSandbox([kmsService, snsService, sqsService, iamRegistryService], {
  settings: { iam: { enforcement: 'enforce' } },
});
const sandbox = () => handle.sandbox;

let topicArn = '';
let sealedTopicArn = '';
let keyArn = '';
let queueUrl = '';
const queueArn = 'arn:aws:sqs:us-east-1:000000000000:dead-letters';

beforeAll(async () => {
  const sns = new SNSClient(asAdministrator(sandbox()));
  keyArn =
    (await new KMSClient(asAdministrator(sandbox())).send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? '';
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn ?? '';
  sealedTopicArn =
    (await sns.send(new CreateTopicCommand({ Name: 'sealed', Attributes: { KmsMasterKeyId: keyArn } })))
      .TopicArn ?? '';
  // Caretaker's alert topic policy: publishing without TLS is denied to everyone.
  resourcePolicy(sandbox(), topicArn, [
    {
      Sid: 'AllowPublishThroughSSLOnly',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ]);
  queueUrl =
    (
      await new SQSClient(asAdministrator(sandbox())).send(
        new CreateQueueCommand({ QueueName: 'dead-letters' }),
      )
    ).QueueUrl ?? '';
});

describe('SNS', () => {
  it('lets an allowed role publish over HTTPS and refuses it over plain HTTP by the topic policy', async () => {
    const notifier = role(sandbox(), 'Notifier', [
      { Effect: 'Allow', Action: 'sns:Publish', Resource: topicArn },
    ]);

    const published = await new SNSClient(asRole(sandbox(), notifier)).send(
      new PublishCommand({ TopicArn: topicArn, Message: 'up' }),
    );
    const overHttp = await failure(
      new SNSClient(asRole(sandbox(), notifier, 'http')).send(
        new PublishCommand({ TopicArn: topicArn, Message: 'up' }),
      ),
    );

    expect(published.MessageId).toBeDefined();
    expect(overHttp.name).toBe('AuthorizationErrorException');
    expect(overHttp.message).toBe(
      `User: ${notifier.principal} is not authorized to perform: SNS:Publish on resource: ${topicArn} with an explicit deny in a resource-based policy`,
    );
    expect(sandbox().denials().at(-1)?.statements[0]?.sid).toBe('AllowPublishThroughSSLOnly');
  });

  it('refuses a role without sns:Publish with AuthorizationError (403)', async () => {
    const mute = role(sandbox(), 'Mute', [
      { Effect: 'Allow', Action: 'sns:GetTopicAttributes', Resource: topicArn },
    ]);

    const refused = await failure(
      new SNSClient(asRole(sandbox(), mute)).send(new PublishCommand({ TopicArn: topicArn, Message: 'x' })),
    );

    expect(refused.name).toBe('AuthorizationErrorException');
    expect(refused.$metadata?.httpStatusCode).toBe(403);
    expect(refused.message).toMatch(/because no identity-based policy allows the SNS:Publish action$/);
  });

  it('refuses publishing to an encrypted topic without the key with KMSAccessDenied, and allows it with the key', async () => {
    const publish = { Effect: 'Allow', Action: 'sns:Publish', Resource: sealedTopicArn };
    const keyless = role(sandbox(), 'Keyless', [publish]);
    const keyed = role(sandbox(), 'Keyed', [
      publish,
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: keyArn },
    ]);

    const refused = await failure(
      new SNSClient(asRole(sandbox(), keyless)).send(
        new PublishCommand({ TopicArn: sealedTopicArn, Message: 'x' }),
      ),
    );
    const published = await new SNSClient(asRole(sandbox(), keyed)).send(
      new PublishCommand({ TopicArn: sealedTopicArn, Message: 'x' }),
    );

    expect(refused.name).toBe('KMSAccessDeniedException');
    expect(refused.message).toContain(`kms:GenerateDataKey on resource: ${keyArn}`);
    expect(published.MessageId).toBeDefined();
  });

  it('refuses an AWS-shaped key it never issued with InvalidClientTokenId', async () => {
    const sns = new SNSClient({
      ...asAdministrator(sandbox()),
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' },
    });

    expect((await failure(sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'x' })))).name).toBe(
      'InvalidClientTokenId',
    );
  });
});

describe('SQS', () => {
  it('lets an allowed role send and refuses another with AccessDenied in the query-compatible shape', async () => {
    const producer = role(sandbox(), 'Producer', [
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn },
    ]);
    const stranger = role(sandbox(), 'Stranger', []);

    const sent = await new SQSClient(asRole(sandbox(), producer)).send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'm' }),
    );
    const refused = await failure(
      new SQSClient(asRole(sandbox(), stranger)).send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'm' }),
      ),
    );

    expect(sent.MessageId).toBeDefined();
    expect(refused.$metadata?.httpStatusCode).toBe(403);
    expect(refused.Code).toBe('AccessDenied');
    expect(refused.message).toBe(
      `User: ${stranger.principal} is not authorized to perform: sqs:sendmessage on resource: ${queueArn} because no identity-based policy allows the sqs:sendmessage action`,
    );
  });
});
