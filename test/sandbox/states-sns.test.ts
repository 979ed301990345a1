/**
 * Step Functions SNS Publish tasks (optimized and AWS SDK integrations) reaching the sandbox's
 * SNS over its HTTP API.
 */

import { SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SnsService, snsService } from '../../sandbox/services/sns/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { createMachine, historyOf, run } from '../fixtures/statemachines/harness.ts';
import { withSandbox } from '../support/sandbox.ts';

const sandbox = withSandbox([snsService, statesService]);

let sfn: SFNClient;
let topicArn: string;

beforeAll(async () => {
  sfn = new SFNClient({});
  const topic = await new SNSClient({}).send(new CreateTopicCommand({ Name: 'caretaker-alerts' }));
  topicArn = topic.TopicArn ?? '';
});

describe('SNS Publish tasks', () => {
  it('publishes through the optimized integration with subject and attributes', async () => {
    const arn = await createMachine(sfn, 'sns-publish.asl.json', 'sns-optimized');

    const result = await run(sfn, arn, { topicArn, message: 'backup finished' });
    const kept = sandbox.sandbox.context.service<SnsService>('sns')?.messages(topicArn) ?? [];
    const output = JSON.parse(result.output ?? '{}');
    const scheduled = (await historyOf(sfn, result.executionArn ?? '')).find(
      (event) => event.type === 'TaskScheduled',
    );

    expect(result.status).toBe('SUCCEEDED');
    expect(kept.at(-1)).toMatchObject({
      subject: 'Caretaker sandbox',
      message: 'backup finished',
      messageAttributes: { severity: { DataType: 'String', StringValue: 'info' } },
    });
    expect(output.MessageId).toBe(kept.at(-1)?.messageId);
    expect(output.SdkHttpMetadata.HttpStatusCode).toBe(200);
    expect(scheduled?.taskScheduledEventDetails).toMatchObject({ resourceType: 'sns', resource: 'publish' });
  });

  it('publishes through the AWS SDK integration and returns the API response', async () => {
    const arn = await createMachine(sfn, 'sns-sdk-publish.asl.json', 'sns-sdk');

    const result = await run(sfn, arn, { topicArn, body: { backupId: 'b-1' } });
    const kept = sandbox.sandbox.context.service<SnsService>('sns')?.messages(topicArn) ?? [];

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '{}')).toEqual({ MessageId: kept.at(-1)?.messageId });
    expect(JSON.parse(kept.at(-1)?.message ?? '{}')).toEqual({ backupId: 'b-1' });
  });

  it('fails with the SNS error, prefixed by the service, for a topic that does not exist', async () => {
    const arn = await createMachine(sfn, 'sns-sdk-publish.asl.json', 'sns-missing');

    const result = await run(sfn, arn, {
      topicArn: 'arn:aws:sns:us-east-1:000000000000:no-such-topic',
      body: {},
    });

    expect(result.status).toBe('FAILED');
    expect(result.error).toMatch(/^Sns\.NotFound/);
  });
});
