import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { fixturePath, ROLE_ARN } from '../fixtures/statemachines/harness.ts';
import { withAwsCli } from '../support/awscli.ts';
import { withSandbox } from '../support/sandbox.ts';

const handle = withSandbox([lambdaService, statesService], {
  settings: { states: { timeScale: 0.01 }, lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } } },
});
const cli = withAwsCli(() => handle.sandbox.url);
const aws = (...args: string[]) => cli.json(...args);

beforeAll(() => {
  handle.sandbox.context.service<LambdaService>('lambda')?.register({
    name: 'flaky',
    modulePath: fileURLToPath(new URL('../fixtures/statemachines/handlers/flaky.ts', import.meta.url)),
  });
});

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
      JSON.stringify({ counterFile: join(cli.home, 'counter'), failures: 1 }),
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
