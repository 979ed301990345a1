/**
 * `caretaker run` as an operator runs it, against a sandbox holding the real Cleanup flow (its
 * ASL file with the real flow-input, cleanup and report handlers): the input is checked with the
 * flow's schema before anything starts, `--follow` shows the states and exits with the outcome.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { snsService } from '../../sandbox/services/sns/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { ROLE_ARN } from '../fixtures/statemachines/harness.ts';
import { withSandbox } from '../support/sandbox.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const module = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const sandbox = withSandbox([s3Service, kmsService, snsService, lambdaService, statesService], {
  settings: {
    lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' } },
  },
});
const BUCKET = 'cli-run-backups';
let dir: string;
let configFile: string;
let machineArn: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'caretaker-cli-run-'));
  configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ environment: { name: 'clirun' } }));
  await new S3Client({}).send(new CreateBucketCommand({ Bucket: BUCKET }));
  const topicArn = (await new SNSClient({}).send(new CreateTopicCommand({ Name: 'cli-run-alerts' })))
    .TopicArn!;
  const lambda = sandbox.sandbox.context.service<LambdaService>('lambda')!;
  lambda.register({ name: 'cli-flow-input', modulePath: module('../../functions/flow-input/handler.ts') });
  lambda.register({
    name: 'cli-cleanup',
    modulePath: module('../../functions/cleanup/handler.ts'),
    environment: { RDS_TARGETS: '[]', BACKUP_SETS: '[]', RETENTION_POLICIES: '{}', BACKUP_BUCKET: BUCKET },
  });
  lambda.register({
    name: 'cli-report',
    modulePath: module('../../functions/report/handler.ts'),
    environment: { BACKUP_BUCKET: BUCKET, ALERT_TOPIC_ARN: topicArn, CARETAKER_ENVIRONMENT: 'clirun' },
  });
  const definition = readFileSync(join(ROOT, 'statemachines/cleanup.asl.json'), 'utf8')
    .replaceAll('${FlowInputFunctionArn}', 'cli-flow-input')
    .replaceAll('${CleanupFunctionArn}', 'cli-cleanup')
    .replaceAll('${ReportFunctionArn}', 'cli-report')
    .replaceAll('${CleanupMaxConcurrency}', '10');
  machineArn = (
    await new SFNClient({}).send(
      new CreateStateMachineCommand({ name: 'Caretaker-clirun-Cleanup', definition, roleArn: ROLE_ARN }),
    )
  ).stateMachineArn!;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function caretaker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/caretaker.js', ...args], {
      cwd: ROOT,
      env: process.env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function inputFile(input: unknown): string {
  const file = join(dir, `input-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(input));
  return file;
}

describe('caretaker run', () => {
  it('starts the flow, shows each state as it is entered and exits 0 when it succeeds', async () => {
    const result = await caretaker([
      'run',
      'Cleanup',
      '--config',
      configFile,
      '--input',
      inputFile({ dryRun: true }),
      '--follow',
    ]);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Started arn:aws:states:.*:execution:Caretaker-clirun-Cleanup:/m);
    expect(result.stdout).toMatch(
      /\[\d\d:\d\d\] ▶ ValidateInput\n.*▶ Tuning\n.*▶ Cleanup\n.*▶ EmptyFolders\n.*▶ FinishCleanup\n.*▶ Report\n/,
    );
    expect(result.stdout).toMatch(/✔ Cleanup SUCCEEDED after [\d.]+ s \(6 states\)/);
  });

  it('refuses a misspelt field with exit 2, naming it, before starting anything', async () => {
    const before = await new SFNClient({}).send(new ListExecutionsCommand({ stateMachineArn: machineArn }));

    const result = await caretaker([
      'run',
      'Cleanup',
      '--config',
      configFile,
      '--input',
      inputFile({ dryrun: true }),
      '--follow',
    ]);
    const after = await new SFNClient({}).send(new ListExecutionsCommand({ stateMachineArn: machineArn }));

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid Cleanup input, nothing was started');
    expect(result.stderr).toContain('dryRun: expected boolean');
    expect(result.stderr).toContain('dryrun: unknown field');
    expect(after.executions).toHaveLength(before.executions!.length);
  });

  it('prints the outcome as one JSON document with --json', async () => {
    const result = await caretaker([
      'run',
      'Cleanup',
      '--config',
      configFile,
      '--input',
      inputFile({ dryRun: true }),
      '--follow',
      '--json',
    ]);
    const document = JSON.parse(result.stdout);

    expect(result.code).toBe(0);
    expect(document).toMatchObject({
      status: 'SUCCEEDED',
      states: ['ValidateInput', 'Tuning', 'Cleanup', 'EmptyFolders', 'FinishCleanup', 'Report'],
      output: { cleanup: { report: { dryRun: true } } },
    });
  });

  it('exits 1 when the flow fails, saying how', async () => {
    // A run that deletes (dryRun false) with no backup set configured is fine; a cleanup of a
    // configured set with no backups is refused: the flow reports it and fails. (With backup sets,
    // cleanup checks seals with the stack key.)
    const { KeyMetadata } = await new KMSClient({}).send(new CreateKeyCommand({}));
    sandbox.sandbox.context.service<LambdaService>('lambda')!.register({
      name: 'cli-cleanup',
      modulePath: module('../../functions/cleanup/handler.ts'),
      environment: {
        RDS_TARGETS: '[]',
        BACKUP_SETS: JSON.stringify([{ name: 'photos', retention: 'standard' }]),
        RETENTION_POLICIES: JSON.stringify({ standard: { keepLast: 3 } }),
        BACKUP_BUCKET: BUCKET,
        BACKUP_KEY_ARN: KeyMetadata!.Arn!,
      },
    });

    const result = await caretaker([
      'run',
      'Cleanup',
      '--config',
      configFile,
      '--input',
      inputFile({ dryRun: false }),
      '--follow',
    ]);

    expect(result.code).toBe(1);
    // The set is refused by the plan; the run fails where the counts are added up, after every
    // other target's folders were emptied.
    expect(result.stdout).toMatch(
      /⚠ FinishCleanup failed \(PreconditionFailedError\): handled by DescribeFinishFailure/,
    );
    expect(result.stdout).toMatch(/✘ Cleanup FAILED after/);
  });

  it('answers --version and refuses an unknown flow with exit 2', async () => {
    const version = await caretaker(['--version']);
    const unknown = await caretaker(['run', 'Nightly', '--config', configFile]);

    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^caretaker \d+\.\d+\.\d+\n$/) });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown flow "Nightly"');
  });
});
