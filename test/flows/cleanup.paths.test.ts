/**
 * statemachines/cleanup.asl.json, path by path, with scripted functions: the happy path, each
 * Retry, the Catch that reports a failed cleanup, and a bad input stopped at the first state.
 * The last test checks that every Catch and Retry rule of the file was exercised.
 */
import { describe, expect, it } from 'vitest';
import { flowHarness } from './support/flow-harness.ts';
import { fail } from './support/script-server.ts';

const flow = flowHarness('cleanup.asl.json', {
  FlowInputFunctionArn: 'flow-input',
  CleanupFunctionArn: 'cleanup',
  ReportFunctionArn: 'report',
});

const cleanupReport = { dryRun: true, targets: [] };

function scriptHappyPath(): void {
  flow.script.reset();
  flow.script
    .on('flow-input', (event) => event.input)
    .on('cleanup', () => cleanupReport)
    .on('report', () => ({ severity: 'info', failures: 0 }));
}

describe.sequential('cleanup flow paths', () => {
  it('validates the input, cleans up and reports', async () => {
    scriptHappyPath();

    const run = await flow.run({ dryRun: true });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual(['ValidateInput', 'Cleanup', 'Report']);
    expect(flow.script.eventsOf('cleanup')).toEqual([{ dryRun: true, executionId: run.executionArn }]);
    expect(flow.script.eventsOf('report')[0]).toMatchObject({ flow: 'Cleanup', cleanup: cleanupReport });
  });

  it('stops at the first state when the input is invalid, running nothing else', async () => {
    scriptHappyPath();
    flow.script.on('flow-input', () =>
      fail('ValidationError', 'Invalid Cleanup input: dryRun: expected boolean'),
    );

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ValidationError');
    expect(run.states).toEqual(['ValidateInput']);
    expect(flow.script.eventsOf('cleanup')).toEqual([]);
  });

  it('retries a throttled input check', async () => {
    scriptHappyPath();
    flow.script.on('flow-input', (event, call) => (call === 0 ? fail('ThrottledError') : event.input));

    const run = await flow.run({ dryRun: false });

    expect(run.status).toBe('SUCCEEDED');
    expect(flow.script.eventsOf('flow-input')).toHaveLength(2);
  });

  it('retries a cleanup that finds a resource busy, then reports', async () => {
    scriptHappyPath();
    flow.script.on('cleanup', (_event, call) => (call === 0 ? fail('ResourceBusyError') : cleanupReport));

    const run = await flow.run({ dryRun: false });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual(['ValidateInput', 'Cleanup', 'Report']);
    expect(flow.script.eventsOf('cleanup')).toHaveLength(2);
  });

  it('reports a failed cleanup with its error, then fails with that error', async () => {
    scriptHappyPath();
    flow.script.on('cleanup', () => fail('PreconditionFailedError', 'the inventory is empty'));

    const run = await flow.run({ dryRun: false });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('PreconditionFailedError');
    expect(run.states).toEqual([
      'ValidateInput',
      'Cleanup',
      'DescribeFailure',
      'ReportFailure',
      'CleanupFailed',
    ]);
    expect(flow.script.eventsOf('report')[0]).toMatchObject({
      flow: 'Cleanup',
      failures: [{ step: 'Cleanup', error: 'PreconditionFailedError' }],
    });
  });

  it('retries a report that could not be written, on both the success and the failure path', async () => {
    scriptHappyPath();
    flow.script.on('report', (_event, call) => (call === 0 ? fail('NetworkError') : { severity: 'info' }));

    const succeeded = await flow.run({ dryRun: true });
    flow.script.on('cleanup', () => fail('AccessDeniedError'));
    flow.script.on('report', (_event, call) =>
      call % 2 === 0 ? fail('ThrottledError') : { severity: 'critical' },
    );
    const failed = await flow.run({ dryRun: true });

    expect(succeeded.status).toBe('SUCCEEDED');
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('AccessDeniedError');
  });

  it('has exercised every Catch and Retry rule of the file', () => {
    expect(flow.untriedCatches()).toEqual([]);
    expect(flow.untriedRetries()).toEqual([]);
  });
});
