/**
 * The sandbox's Step Functions through the AWS SDK v3 client, configured only by environment:
 * the API, and the real ASL fixtures executed with their Task states calling handlers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidDefinition,
  InvalidExecutionInput,
  InvalidName,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LambdaService } from '../../sandbox/services/lambda/index.ts';
import { lambdaService } from '../../sandbox/services/lambda/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { createMachine, historyOf, ROLE_ARN, run, waitForEnd } from '../fixtures/statemachines/harness.ts';
import { withSandbox } from '../support/sandbox.ts';

const handler = (name: string) =>
  fileURLToPath(new URL(`../fixtures/statemachines/handlers/${name}.ts`, import.meta.url));

const sandbox = withSandbox([lambdaService, statesService], {
  settings: {
    states: { timeScale: 0.01 },
    lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } },
  },
});

let sfn: SFNClient;
const counters = mkdtempSync(join(tmpdir(), 'caretaker-states-test-'));
const PASS_DEFINITION = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });

beforeAll(() => {
  const lambda = sandbox.sandbox.context.service<LambdaService>('lambda');
  lambda?.register({ name: 'flaky', modulePath: handler('flaky') });
  lambda?.register({ name: 'status', modulePath: handler('status') });
  lambda?.register({ name: 'echo', modulePath: handler('echo') });
  sfn = new SFNClient({});
});

describe('state machines', () => {
  it('creates, describes, updates, lists and deletes a state machine', async () => {
    const created = await sfn.send(
      new CreateStateMachineCommand({ name: 'lifecycle', definition: PASS_DEFINITION, roleArn: ROLE_ARN }),
    );
    const described = await sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }),
    );
    const updated = await sfn.send(
      new UpdateStateMachineCommand({
        stateMachineArn: created.stateMachineArn,
        tracingConfiguration: { enabled: true },
      }),
    );
    const listed = await sfn.send(new ListStateMachinesCommand({}));
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
    const gone = sfn.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }));

    expect(created.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:lifecycle');
    expect(created.creationDate).toBeInstanceOf(Date);
    expect(described).toMatchObject({
      name: 'lifecycle',
      status: 'ACTIVE',
      type: 'STANDARD',
      definition: PASS_DEFINITION,
      roleArn: ROLE_ARN,
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    });
    expect(updated.updateDate).toBeInstanceOf(Date);
    expect(listed.stateMachines?.map((machine) => machine.name)).toContain('lifecycle');
    await expect(gone).rejects.toBeInstanceOf(StateMachineDoesNotExist);
  });

  it('returns the existing machine for an identical create and refuses a different one', async () => {
    const first = await sfn.send(
      new CreateStateMachineCommand({ name: 'twice', definition: PASS_DEFINITION, roleArn: ROLE_ARN }),
    );
    const again = await sfn.send(
      new CreateStateMachineCommand({ name: 'twice', definition: PASS_DEFINITION, roleArn: ROLE_ARN }),
    );
    const different = sfn.send(
      new CreateStateMachineCommand({
        name: 'twice',
        definition: JSON.stringify({ StartAt: 'S', States: { S: { Type: 'Succeed' } } }),
        roleArn: ROLE_ARN,
      }),
    );

    expect(again.stateMachineArn).toBe(first.stateMachineArn);
    expect(again.creationDate).toEqual(first.creationDate);
    await expect(different).rejects.toBeInstanceOf(StateMachineAlreadyExists);
  });

  it('rejects a definition with a missing transition target as InvalidDefinition', async () => {
    const definition = JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } });

    const create = sfn.send(new CreateStateMachineCommand({ name: 'broken', definition, roleArn: ROLE_ARN }));

    await expect(create).rejects.toBeInstanceOf(InvalidDefinition);
    await expect(create).rejects.toThrow(/Nowhere/);
  });

  it('rejects a name with forbidden characters as InvalidName', async () => {
    await expect(
      sfn.send(
        new CreateStateMachineCommand({ name: 'has space', definition: PASS_DEFINITION, roleArn: ROLE_ARN }),
      ),
    ).rejects.toBeInstanceOf(InvalidName);
  });
});

describe('executions of the fixture flows', () => {
  it('retries a named transient error until the task succeeds', async () => {
    const arn = await createMachine(sfn, 'retry.asl.json', 'retry');

    const result = await run(sfn, arn, { counterFile: join(counters, 'retry'), failures: 2 });
    const events = await historyOf(sfn, result.executionArn ?? '');

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? 'null')).toEqual({ calls: 3 });
    expect(events.filter((event) => event.type === 'TaskScheduled')).toHaveLength(3);
    expect(
      events
        .filter((event) => event.type === 'TaskFailed')
        .map((event) => event.taskFailedEventDetails?.error),
    ).toEqual(['ThrottledError', 'ThrottledError']);
  });

  it('fails with the error name once the retries are spent', async () => {
    const arn = await createMachine(sfn, 'retry.asl.json', 'retry-exhausted');

    const result = await run(sfn, arn, { counterFile: join(counters, 'exhausted'), failures: 10 });

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ThrottledError');
    expect(JSON.parse(result.cause ?? '{}')).toMatchObject({ errorType: 'ThrottledError' });
  });

  it('catches the real notify handler ValidationError by name', async () => {
    const arn = await createMachine(sfn, 'catch.asl.json', 'catch');

    const result = await run(sfn, arn, { alert: { severity: 'loud', flow: 'Backup' } });
    const output = JSON.parse(result.output ?? '{}');
    const events = await historyOf(sfn, result.executionArn ?? '');

    expect(result.status).toBe('SUCCEEDED');
    expect(output.failure.Error).toBe('ValidationError');
    expect(JSON.parse(output.failure.Cause)).toMatchObject({ errorType: 'ValidationError' });
    expect(events.map((event) => event.type)).toContain('PassStateEntered');
    expect(events.filter((event) => event.type === 'TaskScheduled')).toHaveLength(1);
  });

  it('polls with a Choice and a Wait until the status is available, waiting between checks', async () => {
    const arn = await createMachine(sfn, 'poll.asl.json', 'poll');

    const result = await run(sfn, arn, {
      counterFile: join(counters, 'poll'),
      readyAfter: 3,
      waitSeconds: 5,
      attempts: 0,
    });
    const events = await historyOf(sfn, result.executionArn ?? '');
    const waits = events.filter(
      (event) => event.type === 'WaitStateEntered' || event.type === 'WaitStateExited',
    );

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '{}')).toMatchObject({ attempts: 3, check: { status: 'available' } });
    expect(waits.map((event) => event.type)).toEqual([
      'WaitStateEntered',
      'WaitStateExited',
      'WaitStateEntered',
      'WaitStateExited',
    ]);
    // 5 s scaled by 0.01: each Wait really waits about 50 ms.
    const first = (waits[1]?.timestamp?.getTime() ?? 0) - (waits[0]?.timestamp?.getTime() ?? 0);
    expect(first).toBeGreaterThanOrEqual(45);
  });

  it('gives up polling at the attempt cap with the flow error', async () => {
    const arn = await createMachine(sfn, 'poll.asl.json', 'poll-cap');

    const result = await run(sfn, arn, {
      counterFile: join(counters, 'poll-cap'),
      readyAfter: 100,
      waitSeconds: 1,
      attempts: 0,
    });

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('TimeoutExceededError');
    expect(result.cause).toBe('the status never became available');
  });

  it('runs Parallel branches and records the Parallel events', async () => {
    const arn = await createMachine(sfn, 'parallel.asl.json', 'parallel');

    const result = await run(sfn, arn, {});
    const types = (await historyOf(sfn, result.executionArn ?? '')).map((event) => event.type);

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '[]')).toEqual([{ side: 'left' }, { side: 'right' }]);
    expect(types.slice(0, 3)).toEqual(['ExecutionStarted', 'ParallelStateEntered', 'ParallelStateStarted']);
    expect(types.slice(-3)).toEqual(['ParallelStateSucceeded', 'ParallelStateExited', 'ExecutionSucceeded']);
  });

  it('runs an inline Map with ItemSelector over a Lambda function ARN', async () => {
    const arn = await createMachine(sfn, 'inline-map.asl.json', 'inline-map');

    const result = await run(sfn, arn, { items: ['a', 'b', 'c'] });
    const events = await historyOf(sfn, result.executionArn ?? '');

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '[]')).toEqual([
      { value: 'a', index: 0 },
      { value: 'b', index: 1 },
      { value: 'c', index: 2 },
    ]);
    expect(events.find((event) => event.type === 'MapStateStarted')?.mapStateStartedEventDetails).toEqual({
      length: 3,
    });
    expect(events.filter((event) => event.type === 'MapIterationSucceeded')).toHaveLength(3);
    expect(events.filter((event) => event.type === 'LambdaFunctionSucceeded')).toHaveLength(3);
  });

  it('populates the context object', async () => {
    const arn = await createMachine(sfn, 'context.asl.json', 'context');

    const result = await run(sfn, arn, { hello: 'context' }, 'ctx-run');
    const output = JSON.parse(result.output ?? '{}');

    expect(output).toMatchObject({
      executionId: 'arn:aws:states:us-east-1:000000000000:execution:context:ctx-run',
      executionName: 'ctx-run',
      stateMachineId: arn,
      stateMachineName: 'context',
      input: { hello: 'context' },
    });
    expect(Math.abs(Date.parse(output.startTime) - (result.startDate?.getTime() ?? 0))).toBeLessThanOrEqual(
      1,
    );
  });

  it('times out an execution that runs past TimeoutSeconds', async () => {
    const arn = await createMachine(sfn, 'timeout.asl.json', 'timeout');

    const result = await run(sfn, arn, {});
    const types = (await historyOf(sfn, result.executionArn ?? '')).map((event) => event.type);

    expect(result.status).toBe('TIMED_OUT');
    expect(result.error).toBe('States.Timeout');
    expect(types.at(-1)).toBe('ExecutionTimedOut');
  });

  it('fails a Task whose resource the sandbox does not emulate, naming the resource', async () => {
    const arn = await createMachine(sfn, 'unsupported.asl.json', 'unsupported');

    const result = await run(sfn, arn, {});

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.TaskFailed');
    expect(result.cause).toContain('arn:aws:states:::dynamodb:putItem');
  });
});

describe('execution API', () => {
  it('stops a running execution with the given error and cause', async () => {
    const arn = await createMachine(sfn, 'long-wait.asl.json', 'long-wait');
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));

    const stopped = await sfn.send(
      new StopExecutionCommand({
        executionArn: started.executionArn,
        error: 'Operator',
        cause: 'changed my mind',
      }),
    );
    const result = await waitForEnd(sfn, started.executionArn ?? '');
    const events = await historyOf(sfn, started.executionArn ?? '');

    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect(result).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'changed my mind' });
    expect(events.at(-1)).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Operator', cause: 'changed my mind' },
    });
  });

  it('treats a repeated name with the same input as the same running execution', async () => {
    const arn = await createMachine(sfn, 'long-wait.asl.json', 'idempotent');
    const first = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'nightly', input: '{"a":1}' }),
    );

    const second = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'nightly', input: '{"a":1}' }),
    );
    const otherInput = sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'nightly', input: '{"a":2}' }),
    );

    expect(second.executionArn).toBe(first.executionArn);
    expect(second.startDate).toEqual(first.startDate);
    await expect(otherInput).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
  });

  it('refuses to reuse the name of a closed execution', async () => {
    const arn = await createMachine(sfn, 'context.asl.json', 'closed-name');
    await run(sfn, arn, {}, 'once');

    const again = sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'once', input: '{}' }));

    await expect(again).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('rejects input that is not JSON', async () => {
    const arn = await createMachine(sfn, 'context.asl.json', 'bad-input');

    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{oops' })),
    ).rejects.toBeInstanceOf(InvalidExecutionInput);
  });

  it('answers unknown state machines and executions with their errors', async () => {
    await expect(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:nope',
        }),
      ),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: 'arn:aws:states:us-east-1:000000000000:execution:nope:x',
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('lists executions newest first, filtered by status, page by page', async () => {
    const arn = await createMachine(sfn, 'context.asl.json', 'listing');
    await run(sfn, arn, {}, 'first');
    await run(sfn, arn, {}, 'second');

    const page1 = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'SUCCEEDED', maxResults: 1 }),
    );
    const page2 = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: arn,
        statusFilter: 'SUCCEEDED',
        maxResults: 1,
        nextToken: page1.nextToken,
      }),
    );
    const running = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING' }),
    );

    expect(page1.executions?.map((execution) => execution.name)).toEqual(['second']);
    expect(page2.executions?.map((execution) => execution.name)).toEqual(['first']);
    expect(page2.nextToken).toBeUndefined();
    expect(running.executions).toEqual([]);
  });

  it('returns history in AWS event shapes with ids and previous event ids', async () => {
    const arn = await createMachine(sfn, 'retry.asl.json', 'history');
    const result = await run(sfn, arn, { counterFile: join(counters, 'history'), failures: 1 });

    const events = await historyOf(sfn, result.executionArn ?? '');
    const reversed = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: result.executionArn,
        reverseOrder: true,
        maxResults: 1,
      }),
    );

    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    expect(events[0]).toMatchObject({
      previousEventId: 0,
      executionStartedEventDetails: { roleArn: ROLE_ARN, inputDetails: { truncated: false } },
    });
    expect(events[2]).toMatchObject({
      previousEventId: 2,
      taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke', region: 'us-east-1' },
    });
    expect(JSON.parse(events[2]?.taskScheduledEventDetails?.parameters ?? '{}')).toMatchObject({
      FunctionName: 'flaky',
    });
    expect(events[1]?.stateEnteredEventDetails?.name).toBe('CallFlaky');
    expect(JSON.parse(events.at(-1)?.executionSucceededEventDetails?.output ?? 'null')).toEqual({ calls: 2 });
    expect(reversed.events?.[0]?.type).toBe('ExecutionSucceeded');
  });
});
