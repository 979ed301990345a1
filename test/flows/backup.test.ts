/**
 * statemachines/backup.asl.json executed on the sandbox Step Functions (Distributed Map with
 * its S3 item reader, batcher and result writer), its Tasks invoking the real s3-backup handler
 * in the sandbox Lambda, per path: inline copy, Distributed Map fan-out, loops over many calls,
 * re-run of a finished backup, invalid input and a failing step that is reported once.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  type HistoryEvent,
  ListMapRunsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { backupSet } from '../../functions/common/config/config-sections.ts';
import { type BackupSet, flowContextEnvironment } from '../../functions/common/flows/context.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import type { LambdaService } from '../../sandbox/services/lambda/index.ts';
import { lambdaService } from '../../sandbox/services/lambda/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { type SnsService, snsService } from '../../sandbox/services/sns/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { historyOf, ROLE_ARN, run } from '../fixtures/statemachines/harness.ts';
import { flowContext } from '../support/flow-context.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { withSandbox } from '../support/sandbox.ts';

const ASL = fileURLToPath(new URL('../../statemachines/backup.asl.json', import.meta.url));
const module = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const sandbox = withSandbox([s3Service, kmsService, snsService, lambdaService, statesService], {
  settings: {
    lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' } },
  },
});

let s3: S3Client;
let sfn: SFNClient;
let machineArn: string;
let backupBucket: string;
const SUBSTITUTIONS = {
  FlowInputFunctionArn: 'caretaker-flow-input',
  BackupFunctionArn: 'caretaker-s3-backup',
  VerifyFunctionArn: 'caretaker-backup-verify',
  ReportFunctionArn: 'caretaker-report',
  BackupBucket: 'flow-backups',
  BackupMaxConcurrency: '3',
  BackupBatchesPerChild: '2',
  BackupInlineBatchLimit: '2',
};

/** The ASL with every `${Placeholder}` substituted (and none left over). */
function definition(): string {
  const text = readFileSync(ASL, 'utf8').replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    const value = (SUBSTITUTIONS as Record<string, string>)[name];
    if (value === undefined) throw new Error(`No substitution for ${whole}`);
    return value;
  });
  return text;
}

beforeAll(async () => {
  s3 = new S3Client({});
  sfn = new SFNClient({});
  const keyArn = (await new KMSClient({}).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  backupBucket = 'flow-backups';
  await s3.send(new CreateBucketCommand({ Bucket: backupBucket }));
  const environment = {
    BACKUP_BUCKET: backupBucket,
    BACKUP_KEY_ARN: keyArn,
    CARETAKER_STACK: 'caretaker-flow-test',
    BACKUP_BATCH_OBJECTS: '2',
    BACKUP_SAFETY_MARGIN_MS: '1000',
  };
  const lambda = sandbox.sandbox.context.service<LambdaService>('lambda');
  if (!lambda) throw new Error('the sandbox has no Lambda service');
  lambda.register({
    name: 'caretaker-s3-backup',
    modulePath: module('../../functions/s3-backup/handler.ts'),
    environment,
    timeoutMs: 120_000,
    memoryMb: 1024,
  });
  lambda.register({
    name: 'caretaker-backup-verify',
    modulePath: module('../../functions/backup-verify/handler.ts'),
    environment,
    timeoutMs: 120_000,
    memoryMb: 1024,
  });
  const topicArn = (await new SNSClient({}).send(new CreateTopicCommand({ Name: 'flow-alerts' }))).TopicArn!;
  lambda.register({
    name: 'caretaker-report',
    modulePath: module('../../functions/report/handler.ts'),
    environment: {
      BACKUP_BUCKET: backupBucket,
      ALERT_TOPIC_ARN: topicArn,
      CARETAKER_ENVIRONMENT: 'flowtest',
    },
    timeoutMs: 60_000,
  });
  registerFlowInput();
  Object.assign(process.env, environment);
  const created = await sfn.send(
    new CreateStateMachineCommand({ name: 'caretaker-backup', definition: definition(), roleArn: ROLE_ARN }),
  );
  machineArn = created.stateMachineArn!;
});

let sources = 0;
/** The configured backup sets, as flow-input knows them (tests add sets as they go). */
const configured: BackupSet[] = [];

/** (Re-)registers the real flow-input handler with the backup sets configured so far. */
function registerFlowInput(): void {
  sandbox.sandbox.context.service<LambdaService>('lambda')!.register({
    name: 'caretaker-flow-input',
    modulePath: module('../../functions/flow-input/handler.ts'),
    environment: flowContextEnvironment(flowContext({ environmentName: 'flowtest', backupSets: configured })),
  });
}

/** Configures a backup set named `flow-set-<n>` over `bucket` (which may not exist). */
function configure(bucket: string): BackupSet {
  const set = backupSet.parse({
    name: `flow-set-${++sources}`,
    sourceBucket: bucket,
    prefix: 'data/',
    mode: 'incremental',
    fullEvery: 7,
    retention: 'standard',
  });
  configured.push(set);
  registerFlowInput();
  return set;
}

/** A source bucket of `count` objects under data/, configured as a backup set. */
async function source(count: number): Promise<BackupSet> {
  const bucket = `flow-source-${sources + 1}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (let i = 0; i < count; i++) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `data/${i}.txt`, Body: `object ${i}` }));
  }
  return configure(bucket);
}

function statesEntered(history: HistoryEvent[]): string[] {
  return history.flatMap((event) =>
    event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : [],
  );
}

async function verified(set: string, backupId: string) {
  const { handler } = await import('../../functions/backup-verify/handler.ts');
  return handler({ set, backupId }, fakeContext('backup-verify', 120_000));
}

describe('backup.asl.json', () => {
  it('is JSON before substitution and names exactly the placeholders the stack must fill', () => {
    const text = readFileSync(ASL, 'utf8');
    const placeholders = new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]));

    expect(() => JSON.parse(text)).not.toThrow();
    expect([...placeholders].sort()).toEqual(Object.keys(SUBSTITUTIONS).sort());
  });
});

describe('backup flow', () => {
  it('copies a small set inline: Plan, then one function copies and finalizes', async () => {
    const set = await source(3);

    const execution = await run(sfn, machineArn, { set: set.name });
    const output = JSON.parse(execution.output ?? '{}');
    const states = statesEntered(await historyOf(sfn, execution.executionArn!));

    expect(execution.status).toBe('SUCCEEDED');
    expect(output.backup).toMatchObject({ set: set.name, mode: 'full', totals: { objects: 3, parts: 2 } });
    expect(states).toEqual([
      'ValidateInput',
      'Tuning',
      'Plan',
      'Planned?',
      'CopyInline',
      'CopiedInline?',
      'InlineDone',
      'Verify',
      'VerifyParts',
      'VerifyFinish',
      'DescribeVerified',
      'ReportVerified?',
      'Report',
    ]);
    expect(await verified(set.name, output.backup.backupId)).toMatchObject({ ok: true, objectsChecked: 3 });
  });

  it('fans a large set out over a Distributed Map of batch groups, then finalizes', async () => {
    const set = await source(9);

    const execution = await run(sfn, machineArn, { set: set.name });
    const output = JSON.parse(execution.output ?? '{}');
    const states = statesEntered(await historyOf(sfn, execution.executionArn!));
    const mapRuns = await sfn.send(new ListMapRunsCommand({ executionArn: execution.executionArn! }));

    expect(execution.status).toBe('SUCCEEDED');
    expect(output.backup).toMatchObject({ mode: 'full', totals: { objects: 9, copiedObjects: 9, parts: 5 } });
    expect(states).toEqual(expect.arrayContaining(['CopyBatches', 'Finalize', 'Finalized?', 'FanOutDone']));
    expect(states).not.toContain('CopyInline');
    // Two Map Runs: the copy over batch groups, and the verification over ranges of two parts.
    expect(mapRuns.mapRuns).toHaveLength(2);
    expect(output.entry.verification).toMatchObject({ ok: true, objectsChecked: 9 });
    expect(await verified(set.name, output.backup.backupId)).toMatchObject({ ok: true, objectsChecked: 9 });
  });

  it('loops each step over many calls when the time budget is tiny, inline and fanned out', async () => {
    const small = await source(3);
    const large = await source(7);

    const inline = await run(sfn, machineArn, { set: small.name, timeBudgetMs: 1 });
    const fanned = await run(sfn, machineArn, { set: large.name, timeBudgetMs: 1 });
    const inlineStates = statesEntered(await historyOf(sfn, inline.executionArn!));
    const fannedStates = statesEntered(await historyOf(sfn, fanned.executionArn!));

    expect(inline.status).toBe('SUCCEEDED');
    expect(fanned.status).toBe('SUCCEEDED');
    expect(inlineStates.filter((name) => name === 'CopyInline').length).toBeGreaterThan(1);
    expect(fannedStates).toContain('CopyBatches');
    expect(JSON.parse(fanned.output ?? '{}').backup.totals.objects).toBe(7);
  });

  it('returns the existing result when started again for a finished backup id', async () => {
    const set = await source(2);
    const first = JSON.parse((await run(sfn, machineArn, { set: set.name })).output ?? '{}');

    const again = await run(sfn, machineArn, { set: set.name, backupId: first.backup.backupId });
    const states = statesEntered(await historyOf(sfn, again.executionArn!));

    expect(JSON.parse(again.output ?? '{}').backup).toEqual(first.backup);
    expect(states.slice(-7)).toEqual([
      'AlreadyDone',
      'Verify',
      'VerifyParts',
      'VerifyFinish',
      'DescribeVerified',
      'ReportVerified?',
      'Report',
    ]);
  });

  it('writes the report of a verified backup under the execution name', async () => {
    const set = await source(2);

    const execution = await run(sfn, machineArn, { set: set.name, verifySubset: '1/2' });
    const name = execution.executionArn!.split(':').pop()!;
    const report = await s3.send(
      new ListObjectsV2Command({ Bucket: backupBucket, Prefix: `reports/Backup/` }),
    );
    const keys = (report.Contents ?? []).map((o) => o.Key!).filter((key) => key.includes(name));
    const json = JSON.parse(
      await (
        await s3.send(
          new GetObjectCommand({ Bucket: backupBucket, Key: keys.find((k) => k.endsWith('.json'))! }),
        )
      ).Body!.transformToString(),
    );

    expect(keys.sort()).toEqual([expect.stringMatching(/\.json$/), expect.stringMatching(/\.md$/)]);
    expect(json.backups[0]).toMatchObject({
      set: set.name,
      status: 'succeeded',
      objects: 2,
      verification: { ok: true, subset: expect.stringMatching(/^\d\/2$/) },
    });
    expect(json.backups[0].location).toMatch(/^s3:\/\/flow-backups\/backups\/.*manifest\.json$/);
    expect(json.findings.severity).toBe('info');
  });

  it('reports a backup that fails verification as a failure and fails the execution', async () => {
    const set = await source(2);
    const first = JSON.parse((await run(sfn, machineArn, { set: set.name })).output ?? '{}');
    const objects = await s3.send(
      new ListObjectsV2Command({
        Bucket: backupBucket,
        Prefix: `backups/${set.name}/${first.backup.backupId}/`,
      }),
    );
    // Two small objects: stored in a pack; flipping a byte near its end damages the last member.
    const victim = objects.Contents!.map((o) => o.Key!).find((key) => /\/(objects|packs)\//.test(key))!;
    expect(victim).toBeDefined();
    const body = Buffer.from(
      await (
        await s3.send(new GetObjectCommand({ Bucket: backupBucket, Key: victim }))
      ).Body!.transformToByteArray(),
    );
    body[body.length - 20] = body[body.length - 20]! ^ 0xff;
    await s3.send(new PutObjectCommand({ Bucket: backupBucket, Key: victim, Body: body }));

    const again = await run(sfn, machineArn, { set: set.name, backupId: first.backup.backupId });
    const states = statesEntered(await historyOf(sfn, again.executionArn!));
    const alerts = sandbox.sandbox.context.service<SnsService>('sns')!.messages();

    expect(again.status).toBe('FAILED');
    expect(again.error).toBe('IntegrityError');
    expect(states.slice(-5)).toEqual([
      'VerifyFinish',
      'DescribeUnverified',
      'ReportUnverified?',
      'ReportUnverified',
      'VerificationFailed',
    ]);
    expect(
      alerts.some((m) =>
        m.subject?.startsWith(
          `[CRITICAL] Caretaker flowtest Backup: Verification of backup ${first.backup.backupId}`,
        ),
      ),
    ).toBe(true);
  });

  it('fails an input that misspells a field, naming every bad field, before any step runs', async () => {
    const execution = await run(sfn, machineArn, { sett: 'uploads', forceFull: 'yes' });

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ValidationError');
    expect(execution.cause).toMatch(/set: expected string, received nothing/);
    expect(execution.cause).toMatch(/sett: unknown field/);
    expect(execution.cause).toMatch(/forceFull: expected boolean/);
    expect(statesEntered(await historyOf(sfn, execution.executionArn!))).toEqual(['ValidateInput']);
  });

  it('refuses a backup set that is not configured before any step runs', async () => {
    const execution = await run(sfn, machineArn, { set: 'not-configured' });

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ValidationError');
    expect(execution.cause).toMatch(/set: expected a configured backup set \(flow-set-1/);
  });

  it("reports a failed step once, critical, then fails with the step's error name", async () => {
    // A configured set whose source bucket is gone: Plan fails with NotFoundError.
    const set = configure('flow-source-deleted');
    const sns = sandbox.sandbox.context.service<SnsService>('sns')!;
    const before = sns.messages().length;

    const execution = await run(sfn, machineArn, { set: set.name });
    const history = await historyOf(sfn, execution.executionArn!);
    const alerts = sns.messages().slice(before);

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('NotFoundError');
    expect(execution.cause).toMatch(/NoSuchBucket/);
    expect(statesEntered(history).slice(-4)).toEqual([
      'DescribeFailure',
      'ReportFailure?',
      'ReportFailure',
      'BackupFailed',
    ]);
    expect(alerts.map((m) => m.subject)).toEqual([
      expect.stringMatching(
        new RegExp(`^\\[CRITICAL\\] Caretaker flowtest Backup: Backup of ${set.name} failed: NotFoundError`),
      ),
    ]);
  });
});
