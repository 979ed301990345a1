import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeContext } from '../../../support/lambda-context.ts';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:caretaker-alerts';
const snsMock = mockClient(SNSClient);
let handler: (
  event: unknown,
  context: ReturnType<typeof fakeContext>,
) => Promise<{ messageId: string; subject: string }>;

beforeAll(async () => {
  process.env.ALERT_TOPIC_ARN = TOPIC_ARN;
  process.env.CARETAKER_ENVIRONMENT = 'prod';
  ({ handler } = await import('../../../../functions/notify/handler.ts'));
});

beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
});

const goodAlert = {
  severity: 'warning',
  flow: 'RoutineMaintenance',
  summary: `Backup of uploads took ${'very '.repeat(30)}long`,
  where: 's3://example-app-uploads/uploads/',
  action: 'Check the source prefix size',
};

describe('notify handler', () => {
  it('publishes one message to the topic with severity and flow attributes', async () => {
    const result = await handler(goodAlert, fakeContext('notify'));

    const calls = snsMock.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.TopicArn).toBe(TOPIC_ARN);
    expect(input.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'warning' },
      flow: { DataType: 'String', StringValue: 'RoutineMaintenance' },
      environment: { DataType: 'String', StringValue: 'prod' },
    });
    expect(input.Subject!.length).toBeLessThanOrEqual(100);
    expect(input.Message).toContain('Where: s3://example-app-uploads/uploads/');
    expect(result.messageId).toBe('msg-1');
  });

  it('rejects a bad input with ValidationError naming each field and publishes nothing', async () => {
    const bad = { ...goodAlert, severity: 'urgent', action: '' };

    await expect(handler(bad, fakeContext('notify'))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/severity: expected one of .*action: /),
    });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('surfaces SNS throttling as the transient ThrottledError', async () => {
    snsMock
      .on(PublishCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
      );

    await expect(handler(goodAlert, fakeContext('notify'))).rejects.toMatchObject({ name: 'ThrottledError' });
  });
});
