/**
 * Nested executions in the sandbox's Step Functions (`arn:aws:states:::states:startExecution`,
 * `.sync`, `.sync:2`), through the AWS SDK v3 client configured only by environment: what the
 * parent Task returns and records, how a failed, stopped or slow child reaches the parent's Retry
 * and Catch, and that the child is an execution like any other.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DescribeExecutionCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import { type StatesService, statesService } from '../../sandbox/services/states/index.ts';
import { createMachine, historyOf, run, waitForEnd } from '../fixtures/statemachines/harness.ts';
import { withSandbox } from '../support/sandbox.ts';

const sandbox = withSandbox([lambdaService, statesService], {
  settings: {
    states: { timeScale: 0.01 },
    lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } },
  },
});

const counters = mkdtempSync(join(tmpdir(), 'caretaker-states-nested-test-'));
const ABORT_CAUSE = (parentArn: string) =>
  `The Task state in AWS Step Functions execution [${parentArn}] which was managing this resource was aborted`;

let sfn: SFNClient;
let greeter: string;
let failing: string;
let flaky: string;
let sleeper: string;

beforeAll(async () => {
  sandbox.sandbox.context.service<LambdaService>('lambda')?.register({
    name: 'flaky',
    modulePath: fileURLToPath(new URL('../fixtures/statemachines/handlers/flaky.ts', import.meta.url)),
  });
  sfn = new SFNClient({});
  greeter = await createMachine(sfn, 'nested-child.asl.json', 'greeter');
  failing = await createMachine(sfn, 'nested-child-fail.asl.json', 'failing-backup');
  flaky = await createMachine(sfn, 'nested-child-flaky.asl.json', 'flaky-child');
  sleeper = await createMachine(sfn, 'long-wait.asl.json', 'sleeper');
});

/** Polls the parent's history until its Task has started a child; returns the child's ARN. */
async function submittedChild(parentArn: string): Promise<string> {
  for (;;) {
    const submitted = (await historyOf(sfn, parentArn)).find((event) => event.type === 'TaskSubmitted');
    if (submitted) return JSON.parse(submitted.taskSubmittedEventDetails?.output ?? '{}').ExecutionArn;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function ofType(events: HistoryEvent[], type: string): HistoryEvent[] {
  return events.filter((event) => event.type === type);
}

describe('results', () => {
  it('returns the child as DescribeExecution describes it, with input and output parsed, for .sync:2', async () => {
    const parent = await createMachine(sfn, 'nested-sync2.asl.json', 'sync2-parent');

    const result = await run(sfn, parent, { child: greeter, childInput: { who: 'backup', pauseSeconds: 0 } });
    const output = JSON.parse(result.output ?? '{}');

    expect(result.status).toBe('SUCCEEDED');
    expect(output).toMatchObject({
      Input: { who: 'backup', pauseSeconds: 0 },
      InputDetails: { Included: true },
      Output: { who: 'backup', greeting: 'hello backup' },
      OutputDetails: { Included: true },
      RedriveCount: 0,
      RedriveStatus: 'NOT_REDRIVABLE',
      StateMachineArn: greeter,
      Status: 'SUCCEEDED',
    });
    expect(output.ExecutionArn).toMatch(/^arn:aws:states:us-east-1:000000000000:execution:greeter:/);
    expect(output.StopDate).toBeGreaterThanOrEqual(output.StartDate);
  });

  it('returns the child input and output as JSON text for .sync', async () => {
    const parent = await createMachine(sfn, 'nested-sync.asl.json', 'sync-parent');

    const result = await run(sfn, parent, { child: greeter, childInput: { who: 'report', pauseSeconds: 0 } });
    const output = JSON.parse(result.output ?? '{}');

    expect(result.status).toBe('SUCCEEDED');
    expect(typeof output.Output).toBe('string');
    expect(JSON.parse(output.Output)).toEqual({ who: 'report', greeting: 'hello report' });
    expect(JSON.parse(output.Input)).toEqual({ who: 'report', pauseSeconds: 0 });
  });

  it('returns the StartExecution response without waiting for the request-response pattern', async () => {
    const parent = await createMachine(sfn, 'nested-start.asl.json', 'start-parent');

    const result = await run(sfn, parent, { child: sleeper, childInput: {} });
    const output = JSON.parse(result.output ?? '{}');
    const child = await sfn.send(new DescribeExecutionCommand({ executionArn: output.ExecutionArn }));

    expect(result.status).toBe('SUCCEEDED');
    expect(Object.keys(output).sort()).toEqual([
      'ExecutionArn',
      'SdkHttpMetadata',
      'SdkResponseMetadata',
      'StartDate',
    ]);
    expect(output.StartDate).toBe(child.startDate?.getTime());
    expect(output.SdkHttpMetadata.HttpStatusCode).toBe(200);
    expect(child.status).toBe('RUNNING');
    await sfn.send(new StopExecutionCommand({ executionArn: output.ExecutionArn }));
  });

  it('makes the child an execution of its state machine, listed and described with its own history', async () => {
    const parent = await createMachine(sfn, 'nested-sync2.asl.json', 'listing-parent');
    const result = await run(sfn, parent, {
      child: greeter,
      childInput: { who: 'listing', pauseSeconds: 0 },
    });
    const childArn = JSON.parse(result.output ?? '{}').ExecutionArn;

    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: greeter }));
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: childArn }));
    const types = (await historyOf(sfn, childArn)).map((event) => event.type);

    expect(listed.executions?.map((execution) => execution.executionArn)).toContain(childArn);
    expect(described).toMatchObject({
      status: 'SUCCEEDED',
      stateMachineArn: greeter,
      redriveStatus: 'NOT_REDRIVABLE',
    });
    expect(JSON.parse(described.output ?? '{}')).toEqual({ who: 'listing', greeting: 'hello listing' });
    expect(types).toEqual([
      'ExecutionStarted',
      'WaitStateEntered',
      'WaitStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('scales the Wait states of a child by the sandbox time scale', async () => {
    const parent = await createMachine(sfn, 'nested-sync2.asl.json', 'scaled-parent');

    const result = await run(sfn, parent, { child: greeter, childInput: { who: 'slow', pauseSeconds: 100 } });
    const childEvents = await historyOf(sfn, JSON.parse(result.output ?? '{}').ExecutionArn);
    const entered = ofType(childEvents, 'WaitStateEntered')[0]?.timestamp?.getTime() ?? 0;
    const exited = ofType(childEvents, 'WaitStateExited')[0]?.timestamp?.getTime() ?? 0;

    // 100 s at a time scale of 0.01: about one second, where an unscaled wait would time the test out.
    expect(result.status).toBe('SUCCEEDED');
    expect(exited - entered).toBeGreaterThanOrEqual(950);
    expect(exited - entered).toBeLessThan(5000);
  });
});

describe('history', () => {
  it('records TaskScheduled, TaskStarted, TaskSubmitted and TaskSucceeded as AWS does for .sync:2', async () => {
    const parent = await createMachine(sfn, 'nested-sync2.asl.json', 'history-parent');
    const childInput = { who: 'history', pauseSeconds: 0 };

    const result = await run(sfn, parent, { child: greeter, childInput });
    const events = await historyOf(sfn, result.executionArn ?? '');
    const [, entered, scheduled, started, submitted, succeeded] = events;
    const submittedOutput = JSON.parse(submitted?.taskSubmittedEventDetails?.output ?? '{}');

    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(scheduled).toMatchObject({
      previousEventId: entered?.id,
      taskScheduledEventDetails: {
        resourceType: 'states',
        resource: 'startExecution.sync:2',
        region: 'us-east-1',
      },
    });
    expect(JSON.parse(scheduled?.taskScheduledEventDetails?.parameters ?? '{}')).toEqual({
      StateMachineArn: greeter,
      Input: childInput,
    });
    expect(started).toMatchObject({
      previousEventId: scheduled?.id,
      taskStartedEventDetails: { resourceType: 'states', resource: 'startExecution.sync:2' },
    });
    expect(submitted).toMatchObject({
      previousEventId: started?.id,
      taskSubmittedEventDetails: {
        resourceType: 'states',
        resource: 'startExecution.sync:2',
        outputDetails: { truncated: false },
      },
    });
    expect(Object.keys(submittedOutput).sort()).toEqual([
      'ExecutionArn',
      'SdkHttpMetadata',
      'SdkResponseMetadata',
      'StartDate',
    ]);
    expect(succeeded).toMatchObject({
      previousEventId: submitted?.id,
      taskSucceededEventDetails: { resourceType: 'states', resource: 'startExecution.sync:2' },
    });
    expect(JSON.parse(succeeded?.taskSucceededEventDetails?.output ?? '{}')).toEqual(
      JSON.parse(result.output ?? '{}'),
    );
  });

  it('fails the Task with StepFunctions.StateMachineDoesNotExistException for an unknown state machine', async () => {
    const parent = await createMachine(sfn, 'nested-sync2.asl.json', 'unknown-parent');
    const missing = 'arn:aws:states:us-east-1:000000000000:stateMachine:no-such-flow';

    const result = await run(sfn, parent, { child: missing, childInput: {} });
    const types = (await historyOf(sfn, result.executionArn ?? '')).map((event) => event.type);

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('StepFunctions.StateMachineDoesNotExistException');
    expect(result.cause).toMatch(
      new RegExp(
        `^State Machine Does Not Exist: '${missing}' \\(Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: [0-9a-f-]{36}; Proxy: null\\)$`,
      ),
    );
    expect(types.slice(1, 5)).toEqual(['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed']);
  });
});

describe('failures', () => {
  it('catches a failed child as States.TaskFailed, with the child described in the cause', async () => {
    const parent = await createMachine(sfn, 'nested-catch.asl.json', 'catch-parent');

    const result = await run(sfn, parent, { child: failing, childInput: { set: 'photos' } });
    const failure = JSON.parse(result.output ?? '{}').failure;
    const cause = JSON.parse(failure.Cause);

    expect(result.status).toBe('SUCCEEDED');
    expect(failure.Error).toBe('States.TaskFailed');
    expect(cause).toMatchObject({
      Status: 'FAILED',
      Error: 'BackupFailed',
      Cause: 'the copy did not finish',
      StateMachineArn: failing,
      Input: { set: 'photos' },
    });
    expect(Object.keys(cause)).toEqual(Object.keys(cause).sort());
  });

  it('fails the Task as States.TaskFailed when the child is stopped', async () => {
    const parent = await createMachine(sfn, 'nested-catch.asl.json', 'stopped-child-parent');
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: parent,
        input: JSON.stringify({ child: sleeper, childInput: {} }),
      }),
    );
    const childArn = await submittedChild(started.executionArn ?? '');

    await sfn.send(new StopExecutionCommand({ executionArn: childArn, error: 'Operator', cause: 'by hand' }));
    const result = await waitForEnd(sfn, started.executionArn ?? '');
    const failure = JSON.parse(result.output ?? '{}').failure;

    expect(failure.Error).toBe('States.TaskFailed');
    expect(JSON.parse(failure.Cause)).toMatchObject({
      Status: 'ABORTED',
      Error: 'Operator',
      Cause: 'by hand',
    });
  });

  it('retries a failed child on States.TaskFailed with a new child execution', async () => {
    const parent = await createMachine(sfn, 'nested-retry.asl.json', 'retry-parent');
    const childInput = { counterFile: join(counters, 'retry'), failures: 1 };

    const result = await run(sfn, parent, { child: flaky, childInput });
    const events = await historyOf(sfn, result.executionArn ?? '');
    const children = await sfn.send(new ListExecutionsCommand({ stateMachineArn: flaky }));

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '{}')).toEqual({ calls: 2 });
    expect(ofType(events, 'TaskSubmitted')).toHaveLength(2);
    expect(ofType(events, 'TaskFailed').map((event) => event.taskFailedEventDetails?.error)).toEqual([
      'States.TaskFailed',
    ]);
    expect(children.executions?.map((execution) => execution.status)).toEqual(['SUCCEEDED', 'FAILED']);
  });
});

describe('stopping', () => {
  it('aborts a running .sync child when the parent is stopped', async () => {
    const parent = await createMachine(sfn, 'nested-sync2.asl.json', 'stopped-parent');
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: parent,
        input: JSON.stringify({ child: sleeper, childInput: {} }),
      }),
    );
    const parentArn = started.executionArn ?? '';
    const childArn = await submittedChild(parentArn);

    await sfn.send(new StopExecutionCommand({ executionArn: parentArn }));
    const child = await waitForEnd(sfn, childArn);
    const parentResult = await waitForEnd(sfn, parentArn);

    expect(parentResult.status).toBe('ABORTED');
    expect(child.status).toBe('ABORTED');
    expect(child.cause).toBe(ABORT_CAUSE(parentArn));
    expect(child.error).toBeUndefined();
  });

  it('aborts the child and fails the Task with States.Timeout once TimeoutSeconds pass', async () => {
    const parent = await createMachine(sfn, 'nested-task-timeout.asl.json', 'task-timeout-parent');

    const result = await run(sfn, parent, { child: sleeper, childInput: {} });
    const events = await historyOf(sfn, result.executionArn ?? '');
    const childArn = JSON.parse(
      ofType(events, 'TaskSubmitted')[0]?.taskSubmittedEventDetails?.output ?? '{}',
    ).ExecutionArn;
    const child = await sfn.send(new DescribeExecutionCommand({ executionArn: childArn }));

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '{}').failure.Error).toBe('States.Timeout');
    expect(ofType(events, 'TaskTimedOut')[0]?.taskTimedOutEventDetails).toMatchObject({
      resourceType: 'states',
      resource: 'startExecution.sync:2',
      error: 'States.Timeout',
    });
    expect(child).toMatchObject({ status: 'ABORTED', cause: ABORT_CAUSE(result.executionArn ?? '') });
  });

  it('leaves a Task timeout to States.ALL, not to a States.TaskFailed catcher', async () => {
    const parent = await createMachine(sfn, 'nested-timeout-catchers.asl.json', 'timeout-catchers-parent');

    const result = await run(sfn, parent, { child: sleeper, childInput: {} });
    const output = JSON.parse(result.output ?? '{}');

    expect(result.status).toBe('SUCCEEDED');
    expect(output.caughtBy).toBe('ALL');
    expect(output.failure.Error).toBe('States.Timeout');
  });

  it('aborts the child and fails the Task with States.Timeout once HeartbeatSeconds pass without a heartbeat', async () => {
    const parent = await createMachine(sfn, 'nested-heartbeat.asl.json', 'heartbeat-parent');

    const result = await run(sfn, parent, { child: sleeper, childInput: {} });
    const events = await historyOf(sfn, result.executionArn ?? '');
    const scheduled = ofType(events, 'TaskScheduled')[0]?.taskScheduledEventDetails;
    const childArn = JSON.parse(
      ofType(events, 'TaskSubmitted')[0]?.taskSubmittedEventDetails?.output ?? '{}',
    ).ExecutionArn;
    const child = await sfn.send(new DescribeExecutionCommand({ executionArn: childArn }));

    expect(result).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(scheduled?.heartbeatInSeconds).toBe(1);
    expect(child.status).toBe('ABORTED');
  });

  it('aborts the child when the parent execution times out', async () => {
    const parent = await createMachine(sfn, 'nested-parent-timeout.asl.json', 'budget-parent');

    const result = await run(sfn, parent, { child: sleeper, childInput: {} });
    const children = await sfn.send(new ListExecutionsCommand({ stateMachineArn: sleeper }));
    const childArn = JSON.parse(
      ofType(await historyOf(sfn, result.executionArn ?? ''), 'TaskSubmitted')[0]?.taskSubmittedEventDetails
        ?.output ?? '{}',
    ).ExecutionArn;
    const child = await waitForEnd(sfn, childArn);

    expect(result.status).toBe('TIMED_OUT');
    expect(children.executions?.map((execution) => execution.executionArn)).toContain(childArn);
    expect(child).toMatchObject({ status: 'ABORTED', cause: ABORT_CAUSE(result.executionArn ?? '') });
  });
});

describe('names', () => {
  it('waits on the running child of the same Name and input instead of starting another', async () => {
    const parent = await createMachine(sfn, 'nested-named.asl.json', 'named-parent');
    const input = {
      child: greeter,
      name: 'nightly-photos',
      childInput: { who: 'photos', pauseSeconds: 100 },
    };

    const [first, second] = await Promise.all([run(sfn, parent, input), run(sfn, parent, input)]);
    const children = await sfn.send(new ListExecutionsCommand({ stateMachineArn: greeter }));

    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(JSON.parse(first.output ?? '{}').ExecutionArn).toBe(
      'arn:aws:states:us-east-1:000000000000:execution:greeter:nightly-photos',
    );
    expect(JSON.parse(second.output ?? '{}').ExecutionArn).toBe(
      JSON.parse(first.output ?? '{}').ExecutionArn,
    );
    expect(children.executions?.filter((execution) => execution.name === 'nightly-photos')).toHaveLength(1);
  });

  it('fails the Task with StepFunctions.ExecutionAlreadyExistsException for the Name of a closed child', async () => {
    const parent = await createMachine(sfn, 'nested-named.asl.json', 'closed-name-parent');
    const input = { child: greeter, name: 'weekly-report', childInput: { who: 'report', pauseSeconds: 0 } };
    await run(sfn, parent, input);

    const again = await run(sfn, parent, input);

    expect(again.status).toBe('FAILED');
    expect(again.error).toBe('StepFunctions.ExecutionAlreadyExistsException');
    expect(again.cause).toContain('Error Code: ExecutionAlreadyExists');
  });
});

describe('association with the parent', () => {
  it('passes AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID to the child input and records the parent', async () => {
    const parent = await createMachine(sfn, 'nested-started-by.asl.json', 'started-by-parent');

    const result = await run(sfn, parent, { child: greeter, who: 'parent' });
    const parentArn = result.executionArn ?? '';
    const childArn = JSON.parse(result.output ?? '{}').ExecutionArn;
    const child = await sfn.send(new DescribeExecutionCommand({ executionArn: childArn }));
    const childStarted = (await historyOf(sfn, childArn))[0];
    const record = sandbox.sandbox.context.service<StatesService>('states')?.execution(childArn);

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(child.input ?? '{}')).toEqual({
      who: 'parent',
      pauseSeconds: 0,
      AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: parentArn,
    });
    expect(JSON.parse(childStarted?.executionStartedEventDetails?.input ?? '{}')).toMatchObject({
      AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: parentArn,
    });
    expect(record?.startedBy).toBe(parentArn);
  });
});
