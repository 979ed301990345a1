/**
 * statemachines/cleanup.asl.json executed on the sandbox Step Functions, its Tasks invoking the
 * real cleanup and report handlers in the sandbox Lambda: the happy path reports the cleanup,
 * a refused cleanup is reported with its error and fails the execution.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import type { LambdaService } from '../../sandbox/services/lambda/index.ts';
import { lambdaService } from '../../sandbox/services/lambda/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { type SnsService, snsService } from '../../sandbox/services/sns/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { historyOf, ROLE_ARN, run } from '../fixtures/statemachines/harness.ts';
import { withSandbox } from '../support/sandbox.ts';

const ASL = fileURLToPath(new URL('../../statemachines/cleanup.asl.json', import.meta.url));
const module = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const quiet = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

const sandbox = withSandbox([s3Service, kmsService, snsService, lambdaService, statesService], {
  settings: { lambda: { environment: quiet } },
});

let s3: S3Client;
let sfn: SFNClient;
let topicArn: string;
let keyArn: string;
const BUCKET = 'cleanup-flow-backups';
const POLICIES = JSON.stringify({ standard: { keepLast: 3 } });

/** Registers the real cleanup handler as `name` with these backup sets, and makes a state machine calling it. */
async function machineWith(name: string, backupSets: unknown[]): Promise<string> {
  const lambda = sandbox.sandbox.context.service<LambdaService>('lambda')!;
  lambda.register({
    name,
    modulePath: module('../../functions/cleanup/handler.ts'),
    environment: {
      RDS_TARGETS: '[]',
      BACKUP_SETS: JSON.stringify(backupSets),
      RETENTION_POLICIES: POLICIES,
      BACKUP_BUCKET: BUCKET,
      // Seals of manifests and verification records are checked with the stack key.
      BACKUP_KEY_ARN: keyArn,
    },
    timeoutMs: 60_000,
  });
  const definition = readFileSync(ASL, 'utf8')
    .replaceAll('${FlowInputFunctionArn}', 'caretaker-flow-input')
    .replaceAll('${CleanupFunctionArn}', name)
    .replaceAll('${ReportFunctionArn}', 'caretaker-report');
  const created = await sfn.send(
    new CreateStateMachineCommand({ name: `cleanup-${name}`, definition, roleArn: ROLE_ARN }),
  );
  return created.stateMachineArn!;
}

const statesEntered = (history: HistoryEvent[]) =>
  history.flatMap((event) =>
    event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : [],
  );

async function reportMarkdown(): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'reports/Cleanup/' }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!).filter((key) => key.endsWith('.md'));
  return Promise.all(
    keys.map(async (Key) =>
      (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body!.transformToString(),
    ),
  );
}

beforeAll(async () => {
  s3 = new S3Client({});
  sfn = new SFNClient({});
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  keyArn = (await new KMSClient({}).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  topicArn = (await new SNSClient({}).send(new CreateTopicCommand({ Name: 'caretaker-alerts' }))).TopicArn!;
  sandbox.sandbox.context.service<LambdaService>('lambda')!.register({
    name: 'caretaker-report',
    modulePath: module('../../functions/report/handler.ts'),
    environment: { BACKUP_BUCKET: BUCKET, ALERT_TOPIC_ARN: topicArn, CARETAKER_ENVIRONMENT: 'flowtest' },
    timeoutMs: 60_000,
  });
  sandbox.sandbox.context.service<LambdaService>('lambda')!.register({
    name: 'caretaker-flow-input',
    modulePath: module('../../functions/flow-input/handler.ts'),
  });
});

describe('cleanup.asl.json', () => {
  it('names exactly the placeholders the stack fills', () => {
    const placeholders = new Set([...readFileSync(ASL, 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));

    expect([...placeholders].sort()).toEqual([
      'CleanupFunctionArn',
      'FlowInputFunctionArn',
      'ReportFunctionArn',
    ]);
  });
});

describe('cleanup flow', () => {
  it('runs a real cleanup and reports it', async () => {
    const machine = await machineWith('caretaker-cleanup-empty-config', []);

    const execution = await run(sfn, machine, { dryRun: false });
    const states = statesEntered(await historyOf(sfn, execution.executionArn!));
    const output = JSON.parse(execution.output!);

    expect(execution.status).toBe('SUCCEEDED');
    expect(states).toEqual(['ValidateInput', 'Cleanup', 'Report']);
    expect(output.cleanup.report).toMatchObject({ dryRun: false, targets: [] });
    expect(output.report.report).toMatchObject({ severity: 'info', failures: 0 });
  });

  it('refuses a misspelt dryRun before the cleanup runs, instead of deleting', async () => {
    const machine = await machineWith('caretaker-cleanup-misspelt', []);

    const execution = await run(sfn, machine, { dryrun: true });
    const states = statesEntered(await historyOf(sfn, execution.executionArn!));

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ValidationError');
    expect(execution.cause).toMatch(/dryRun: expected boolean, received nothing/);
    expect(execution.cause).toMatch(/dryrun: unknown field/);
    expect(states).toEqual(['ValidateInput']);
  });

  it('reports a refused cleanup with its error, alerts critical and fails the execution', async () => {
    // A backup set without any backup: the inventory is empty, so cleanup refuses to act.
    const machine = await machineWith('caretaker-cleanup-no-backups', [
      { name: 'uploads', retention: 'standard' },
    ]);

    const execution = await run(sfn, machine, { dryRun: false });
    const states = statesEntered(await historyOf(sfn, execution.executionArn!));

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('PreconditionFailedError');
    expect(states).toEqual(['ValidateInput', 'Cleanup', 'DescribeFailure', 'ReportFailure', 'CleanupFailed']);
    const markdown = (await reportMarkdown()).find((text) => text.includes('Step Cleanup failed'));
    expect(markdown).toContain('**Step Cleanup failed: PreconditionFailedError');
    const alerts = sandbox.sandbox.context.service<SnsService>('sns')!.messages(topicArn);
    expect(
      alerts.some((m) =>
        m.subject?.startsWith(
          '[CRITICAL] Caretaker flowtest Cleanup: Step Cleanup failed: PreconditionFailedError',
        ),
      ),
    ).toBe(true);
  });

  it('passes a dry run through to the cleanup function', async () => {
    const machine = await machineWith('caretaker-cleanup-dry', []);

    const execution = await run(sfn, machine, { dryRun: true });

    expect(JSON.parse(execution.output!).cleanup.report.dryRun).toBe(true);
  });
});
