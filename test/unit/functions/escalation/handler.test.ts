/**
 * functions/escalation with report, on the sandbox's S3, SNS and SQS: a failed run's incident is
 * paged to level 2 after level 1's time and to level 3 after level 2's, one message each whatever
 * how often escalation runs; the level subscriptions' filter policies let each level get its own
 * page; the run that resolves the incident tells every paged level, and escalation stops.
 */
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3Service } from '../../../../sandbox/services/s3/index.ts';
import { type SnsService, snsService } from '../../../../sandbox/services/sns/index.ts';
import { fakeContext } from '../../../support/lambda-context.ts';
import { withSandbox } from '../../../support/sandbox.ts';

const sandbox = withSandbox([s3Service, snsService]);
const BUCKET = 'escalation-backups';
const EXECUTION = (name: string) =>
  `arn:aws:states:us-east-1:000000000000:execution:Caretaker-prod-RoutineMaintenance:${name}`;
let escalate: typeof import('../../../../functions/escalation/handler.ts')['escalate'];
let report: typeof import('../../../../functions/report/handler.ts')['handler'];
const subscriptions: Record<string, string> = {};

beforeAll(async () => {
  await new S3Client({}).send(new CreateBucketCommand({ Bucket: BUCKET }));
  const sns = new SNSClient({});
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn!;
  // As the stack subscribes them: level 1 takes every critical alert, levels 2 and 3 their pages.
  const subscribe = async (name: string, filter: Record<string, unknown>) => {
    const out = await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'email',
        Endpoint: `${name}@example.com`,
        Attributes: { FilterPolicy: JSON.stringify(filter) },
        ReturnSubscriptionArn: true,
      }),
    );
    subscriptions[name] = out.SubscriptionArn!;
  };
  await subscribe('level1', { severity: ['critical'] });
  await subscribe('level2', { escalation: ['level-2'] });
  await subscribe('level3', { escalation: ['level-3'] });
  Object.assign(process.env, {
    BACKUP_BUCKET: BUCKET,
    ALERT_TOPIC_ARN: topicArn,
    CARETAKER_ENVIRONMENT: 'prod',
    ESCALATION_LEVELS: JSON.stringify([
      { respondWithinMinutes: 15 },
      { respondWithinMinutes: 30 },
      { respondWithinMinutes: 60 },
    ]),
  });
  ({ escalate } = await import('../../../../functions/escalation/handler.ts'));
  ({ handler: report } = await import('../../../../functions/report/handler.ts'));
});

const messages = () => sandbox.sandbox.context.service<SnsService>('sns')!.messages();
/** Who got each message since `from`: the subject and the subscriptions it reached. */
const since = (from: number) =>
  messages()
    .slice(from)
    .map((m) => ({
      subject: m.subject,
      to: Object.entries(subscriptions)
        .filter(([, arn]) => m.deliveries.some((d) => d.subscriptionArn === arn && d.status !== 'filtered'))
        .map(([name]) => name),
    }));

async function incident() {
  const got = await new S3Client({}).send(
    new GetObjectCommand({ Bucket: BUCKET, Key: 'reports/RoutineMaintenance/incident.json' }),
  );
  return JSON.parse(await got.Body!.transformToString());
}

describe.sequential('escalation of an unresolved incident', () => {
  let reportedAt: number;

  it('opens the incident with the failed run’s report: one critical alert, level 1 told at once', async () => {
    const before = messages().length;

    await report(
      {
        flow: 'RoutineMaintenance',
        executionArn: EXECUTION('night-1'),
        startedAt: '2026-11-21T02:00:00.000Z',
        snapshots: [
          { target: 'orders', status: 'failed', error: { name: 'QuotaExceededError', message: 'full' } },
        ],
      },
      fakeContext('report'),
    );

    const state = await incident();
    reportedAt = Date.parse(state.open.reportedAt);
    expect(since(before)).toEqual([{ subject: expect.stringContaining('[CRITICAL]'), to: ['level1'] }]);
  });

  it('pages nobody before level 1’s 15 minutes are up', async () => {
    const before = messages().length;

    const run = await escalate(new Date(reportedAt + 14 * 60_000));

    expect(run).toEqual({ paged: [], open: ['RoutineMaintenance'] });
    expect(messages()).toHaveLength(before);
  });

  it('pages level 2 once after 15 minutes, however often escalation runs', async () => {
    const before = messages().length;

    await escalate(new Date(reportedAt + 15 * 60_000));
    await escalate(new Date(reportedAt + 20 * 60_000));
    await escalate(new Date(reportedAt + 40 * 60_000));

    expect(since(before)).toEqual([
      {
        subject:
          '[CRITICAL] Caretaker prod RoutineMaintenance: Escalated to level 2: incident unresolved for 15 min',
        to: ['level1', 'level2'],
      },
    ]);
    expect((await incident()).open.escalations).toEqual([
      { level: 2, at: new Date(reportedAt + 15 * 60_000).toISOString(), messageId: expect.any(String) },
    ]);
  });

  it('pages level 3 after level 2’s 30 minutes, once; there is no level 4', async () => {
    const before = messages().length;

    await escalate(new Date(reportedAt + 45 * 60_000));
    await escalate(new Date(reportedAt + 500 * 60_000));

    expect(since(before).map((m) => m.to)).toEqual([['level1', 'level3']]);
  });

  it('tells every paged level when a run resolves the incident, and escalation stops', async () => {
    const before = messages().length;

    await report(
      {
        flow: 'RoutineMaintenance',
        executionArn: EXECUTION('night-2'),
        startedAt: '2026-11-22T02:00:00.000Z',
      },
      fakeContext('report'),
    );
    const after = await escalate(new Date(reportedAt + 10_000 * 60_000));

    expect(since(before)).toEqual([
      { subject: expect.stringContaining('Resolved'), to: ['level1', 'level2', 'level3'] },
    ]);
    expect(after).toEqual({ paged: [], open: [] });
  });
});
