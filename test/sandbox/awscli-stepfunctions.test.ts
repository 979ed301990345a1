/**
 * A client no one here wrote: awscli v2 (Debian's, at /usr/bin/aws) creates a state machine from
 * a fixture file, starts an execution whose Task retries a Lambda handler, and describes it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { fixturePath, ROLE_ARN } from '../fixtures/statemachines/harness.ts';
import { withSandbox } from '../support/sandbox.ts';

const AWS = '/usr/bin/aws';
const exec = promisify(execFile);
const handle = withSandbox([lambdaService, statesService], {
  settings: { states: { timeScale: 0.01 }, lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } } },
});
let home: string;

beforeAll(() => {
  if (!existsSync(AWS)) {
    throw new Error(
      `${AWS} (awscli v2 from Debian) is required by this test; CI installs it with apt-get install awscli`,
    );
  }
  home = mkdtempSync(join(tmpdir(), 'caretaker-awscli-sfn-'));
  handle.sandbox.context.service<LambdaService>('lambda')?.register({
    name: 'flaky',
    modulePath: fileURLToPath(new URL('../fixtures/statemachines/handlers/flaky.ts', import.meta.url)),
  });
});

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Runs awscli against the sandbox with dummy credentials in the child's environment only. */
async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await exec(AWS, [...args, '--endpoint-url', handle.sandbox.url, '--output', 'json'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_ACCESS_KEY_ID: 'sandbox',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    },
    timeout: 60_000,
  });
  return stdout.trim().length === 0 ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

describe('awscli v2 stepfunctions', () => {
  it('starts an execution of a fixture state machine and describes it to its end', async () => {
    const created = await aws(
      'stepfunctions',
      'create-state-machine',
      '--name',
      'awscli-retry',
      '--definition',
      `file://${fixturePath('retry.asl.json')}`,
      '--role-arn',
      ROLE_ARN,
    );
    const started = await aws(
      'stepfunctions',
      'start-execution',
      '--state-machine-arn',
      String(created.stateMachineArn),
      '--name',
      'from-awscli',
      '--input',
      JSON.stringify({ counterFile: join(home, 'counter'), failures: 1 }),
    );
    let described: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 100; attempt++) {
      described = await aws(
        'stepfunctions',
        'describe-execution',
        '--execution-arn',
        String(started.executionArn),
      );
      if (described.status !== 'RUNNING') break;
    }

    expect(created.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:awscli-retry');
    expect(started.executionArn).toBe(
      'arn:aws:states:us-east-1:000000000000:execution:awscli-retry:from-awscli',
    );
    expect(typeof started.startDate).toBe('string');
    expect(described).toMatchObject({
      executionArn: started.executionArn,
      stateMachineArn: created.stateMachineArn,
      name: 'from-awscli',
      status: 'SUCCEEDED',
    });
    expect(JSON.parse(String(described.output))).toEqual({ calls: 2 });
    expect(Date.parse(String(described.stopDate))).toBeGreaterThanOrEqual(
      Date.parse(String(described.startDate)),
    );
  });

  it('reports ExecutionDoesNotExist for an unknown execution', async () => {
    const failure = aws(
      'stepfunctions',
      'describe-execution',
      '--execution-arn',
      'arn:aws:states:us-east-1:000000000000:execution:awscli-retry:missing',
    );

    await expect(failure).rejects.toMatchObject({ stderr: expect.stringContaining('ExecutionDoesNotExist') });
  });
});
