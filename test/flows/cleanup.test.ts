/**
 * statemachines/cleanup.asl.json executed on the sandbox Step Functions, its Tasks invoking the
 * real cleanup and report handlers in the sandbox Lambda: the happy path reports the cleanup,
 * a refused cleanup is reported with its error and fails the execution, and a real cleanup of
 * backups made by the real s3-backup handler fans out — the Distributed Map empties several
 * folders, an object a kept backup references and an unmanaged object in a remnant survive, the
 * kept backups still verify, and a second run deletes nothing.
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
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { isBackupId } from '../../functions/common/backup/layout.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import type { LambdaService } from '../../sandbox/services/lambda/index.ts';
import { lambdaService } from '../../sandbox/services/lambda/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { type SnsService, snsService } from '../../sandbox/services/sns/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { historyOf, ROLE_ARN, run } from '../fixtures/statemachines/harness.ts';
import { sharingBackup } from '../sandbox/sharing-backup.ts';
import { fakeContext } from '../support/lambda-context.ts';
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
const POLICIES = JSON.stringify({ standard: { keepLast: 3 }, aggressive: { keepLast: 1 } });

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
      // The default margin (60 s) is this test Lambda's whole timeout.
      CLEANUP_SAFETY_MARGIN_MS: '1000',
    },
    timeoutMs: 60_000,
  });
  const definition = readFileSync(ASL, 'utf8')
    .replaceAll('${FlowInputFunctionArn}', 'caretaker-flow-input')
    .replaceAll('${CleanupFunctionArn}', name)
    .replaceAll('${ReportFunctionArn}', 'caretaker-report')
    .replaceAll('${CleanupMaxConcurrency}', '3');
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
      'CleanupMaxConcurrency',
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
    expect(states).toEqual(['ValidateInput', 'Tuning', 'Cleanup', 'EmptyFolders', 'FinishCleanup', 'Report']);
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
    expect(states).toEqual([
      'ValidateInput',
      'Tuning',
      'Cleanup',
      'EmptyFolders',
      'FinishCleanup',
      'DescribeFinishFailure',
      'ReportFailure',
      'CleanupFailed',
    ]);
    const markdown = (await reportMarkdown()).find((text) => text.includes('Step FinishCleanup failed'));
    expect(markdown).toContain('**Step FinishCleanup failed: PreconditionFailedError');
    const alerts = sandbox.sandbox.context.service<SnsService>('sns')!.messages(topicArn);
    expect(
      alerts.some((m) =>
        m.subject?.startsWith(
          '[CRITICAL] Caretaker flowtest Cleanup: Step FinishCleanup failed: PreconditionFailedError',
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

/** Every key under `prefix` of the backup bucket. */
async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** The backup folders of a set. */
const foldersOf = async (set: string) =>
  [...new Set((await keysUnder(`backups/${set}/`)).map((key) => key.split('/')[2]!))]
    .filter(isBackupId)
    .sort();

/** The child executions of the execution's Map Runs. */
async function mapChildren(executionArn: string): Promise<number> {
  let children = 0;
  for (const mapRun of (await sfn.send(new ListMapRunsCommand({ executionArn }))).mapRuns ?? []) {
    const listed = await sfn.send(new ListExecutionsCommand({ mapRunArn: mapRun.mapRunArn! }));
    children += (listed.executions ?? []).length;
  }
  return children;
}

type Handler = (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
const context = () => fakeContext('cleanup-flow-test', 600_000);

async function untilDone(call: (previous: any) => Promise<any>): Promise<any> {
  let previous: any;
  do previous = await call(previous);
  while (!previous.done);
  return previous;
}

describe('cleanup flow over backups, fanned out', () => {
  const REMNANT = '20251215T020000Z-0000dead';
  const remnantKey = (n: number) => `backups/fan-photos/${REMNANT}/objects/000001/00000${n}`;
  let backup: Handler;
  let verify: Handler;
  let photos: string[];
  let shared: string[];
  let machine: string;

  /** Backups of `set` on consecutive January days, changing one object and adding one each day. */
  async function history(set: string, fullEvery: number, days: number): Promise<string[]> {
    const sourceBucket = `src-${set}`;
    await s3.send(new CreateBucketCommand({ Bucket: sourceBucket }));
    const spec = { name: set, sourceBucket, prefix: 'data/', mode: 'incremental', fullEvery };
    const ids: string[] = [];
    for (let day = 1; day <= days; day++) {
      for (const [key, body] of [
        ['keep.txt', 'never changes'],
        ['change.txt', `day ${day}`],
        [`new-${day}.txt`, `added on day ${day}`],
      ]) {
        await s3.send(new PutObjectCommand({ Bucket: sourceBucket, Key: `data/${key}`, Body: body }));
      }
      const event = {
        set: spec,
        executionId: `${set}-${day}`,
        startedAt: new Date(Date.UTC(2026, 0, day, 2)).toISOString(),
      };
      ids.push((await untilDone(() => backup(event, context()))).backupId);
    }
    return ids;
  }

  beforeAll(async () => {
    // The backup functions run in this process, with the environment they read at load.
    Object.assign(process.env, {
      BACKUP_BUCKET: BUCKET,
      BACKUP_KEY_ARN: keyArn,
      CARETAKER_STACK: 'caretaker-flow-test',
      BACKUP_BATCH_OBJECTS: '2',
      BACKUP_SAFETY_MARGIN_MS: '1000',
    });
    backup = (await import('../../functions/s3-backup/handler.ts')).handler as Handler;
    verify = (await import('../../functions/backup-verify/handler.ts')).handler as Handler;
    // fan-photos: two chains of three (a full backup every 2 incrementals): F1 I2 I3 F4 I5 I6.
    photos = await history('fan-photos', 2, 6);
    // fan-shared: a full backup, then a newer full one made by hand that points at its objects.
    shared = await history('fan-shared', 7, 1);
    shared.push(
      await sharingBackup(
        { s3, bucket: BUCKET, keyArn },
        'fan-shared',
        shared[0]!,
        '20260105T020000Z-0000beef',
      ),
    );
    // A remnant a crashed run left: one object Caretaker's, one not (someone else's upload).
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: remnantKey(0),
        Body: 'x',
        Tagging: 'caretaker:managed=true',
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: remnantKey(1), Body: 'not ours' }));
    machine = await machineWith('caretaker-cleanup-fan-out', [
      { name: 'fan-photos', retention: 'aggressive' },
      { name: 'fan-shared', retention: 'aggressive' },
    ]);
  }, 180_000);

  it('empties the folders of the backups going in the Distributed Map, keeping referenced and unmanaged objects', async () => {
    // Prepare
    const older = shared[0]!;
    const referenced = [
      ...(await keysUnder(`backups/fan-shared/${older}/objects/`)),
      ...(await keysUnder(`backups/fan-shared/${older}/packs/`)),
    ];
    expect(referenced.length).toBeGreaterThan(0);

    // Act
    const execution = await run(sfn, machine, { dryRun: false });

    // Assess
    const output = JSON.parse(execution.output!);
    expect(execution.status).toBe('SUCCEEDED');
    expect(await mapChildren(execution.executionArn!)).toBe(5);
    const [photosReport, sharedReport] = output.cleanup.report.targets;
    expect(photosReport.deletions.map((d: any) => [d.id, d.outcome])).toEqual([
      [photos[2], 'deleted'],
      [photos[1], 'deleted'],
      [photos[0], 'deleted'],
      [REMNANT, 'deleted'],
    ]);
    expect(photosReport.deletions[3]).toMatchObject({
      objectsDeleted: 1,
      detail: '1 object(s) without caretaker:managed=true left alone',
    });
    expect(sharedReport.deletions).toEqual([
      expect.objectContaining({ id: older, outcome: 'deleted', objectsReferenced: referenced.length }),
    ]);
    expect(output.cleanup.report.totals).toMatchObject({
      deleted: 5,
      incompleteTargets: 0,
      failedTargets: 0,
    });
    expect(await foldersOf('fan-photos')).toEqual([REMNANT, ...photos.slice(3)].sort());
    expect(await keysUnder(`backups/fan-photos/${REMNANT}/`)).toEqual([remnantKey(1)]);
    expect(await keysUnder(`backups/fan-shared/${older}/`)).toEqual(referenced.sort());
    expect(output.report.report).toMatchObject({ severity: 'info', failures: 0 });
  });

  it('leaves every kept backup verifiable', async () => {
    for (const [set, id] of [
      ['fan-photos', photos[5]],
      ['fan-shared', shared[1]],
    ]) {
      const verified = await untilDone((previous) =>
        verify({ set, backupId: id, continuation: previous?.continuation }, context()),
      );
      expect(verified).toMatchObject({ ok: true, backupId: id });
    }
  });

  it('deletes nothing on a second run', async () => {
    // Prepare
    const before = await keysUnder('backups/');

    // Act
    const execution = await run(sfn, machine, { dryRun: false });

    // Assess
    const output = JSON.parse(execution.output!);
    expect(execution.status).toBe('SUCCEEDED');
    expect(output.cleanup.report.targets.map((t: any) => [t.name, t.status, t.deletions])).toEqual([
      ['fan-photos', 'done', []],
      ['fan-shared', 'done', []],
    ]);
    expect(await keysUnder('backups/')).toEqual(before);
  });
});
