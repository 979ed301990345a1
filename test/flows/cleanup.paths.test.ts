/**
 * statemachines/cleanup.asl.json, path by path, with scripted functions: a dry run (no folders to
 * empty), a real run whose Distributed Map empties each folder call after call, each Retry, each
 * Catch (the plan, the Map, the finish) reported once, and a bad input stopped at the first state.
 * The last test checks that every Catch and Retry rule of the file was exercised.
 */
import { describe, expect, it } from 'vitest';
import { flowHarness } from './support/flow-harness.ts';
import { fail } from './support/script-server.ts';

const flow = flowHarness(
  'cleanup.asl.json',
  { FlowInputFunctionArn: 'flow-input', CleanupFunctionArn: 'cleanup', ReportFunctionArn: 'report' },
  { CleanupMaxConcurrency: '2' },
);

const planReport = { dryRun: true, now: '2026-03-01T03:00:00.000Z', targets: [] };
const FOLDERS = [
  {
    set: 'photos',
    id: '20260101T020000Z-00000001',
    kind: 'backup',
    reasons: ['not kept by any rule'],
    deleted: 2,
  },
  { set: 'photos', id: '20251201T020000Z-00000002', kind: 'remnant', reasons: ['remnant'], deleted: 0 },
];
const finished = (event: any) => ({ finished: true, results: event.results });

/** A folder step that needs two calls: the first stops after `<id>/a`, the second finishes. */
function folderStep(event: any) {
  if (!event.cursor) {
    return {
      done: false,
      cursor: { startAfter: `${event.id}/a`, objectsDeleted: 1, objectsReferenced: 0, objectsUnmanaged: 0 },
    };
  }
  return {
    done: true,
    summary: { set: event.set, id: event.id, objectsDeleted: 2, objectsReferenced: 0, objectsUnmanaged: 0 },
  };
}

function scriptPaths(folders: unknown[] = []): void {
  flow.script.reset();
  flow.script
    .on('flow-input', (event) => event.input)
    .on('cleanup', (event: any) => {
      if (event.step === 'plan') return { report: { ...planReport, dryRun: event.dryRun }, folders };
      if (event.step === 'folder') return folderStep(event);
      return finished(event);
    })
    .on('report', () => ({ severity: 'info', failures: 0 }));
}

const steps = () => flow.script.eventsOf('cleanup').map((event: any) => event.step);

describe.sequential('cleanup flow paths', () => {
  it('plans a dry run, has no folders to empty, finishes and reports', async () => {
    scriptPaths();

    const run = await flow.run({ dryRun: true });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual([
      'ValidateInput',
      'Tuning',
      'Cleanup',
      'EmptyFolders',
      'FinishCleanup',
      'Report',
    ]);
    expect(flow.script.eventsOf('cleanup')).toEqual([
      { step: 'plan', dryRun: true, executionId: run.executionArn },
      {
        step: 'finish',
        report: { ...planReport, dryRun: true },
        folders: [],
        results: [],
        executionId: run.executionArn,
      },
    ]);
    expect(flow.script.eventsOf('report')[0]).toMatchObject({
      flow: 'Cleanup',
      cleanup: { finished: true, results: [] },
    });
  });

  it('empties each planned folder call after call in the Map, then finishes with every result in order', async () => {
    scriptPaths(FOLDERS);

    const run = await flow.run({ dryRun: false });

    expect(run.status).toBe('SUCCEEDED');
    const folderCalls = flow.script.eventsOf('cleanup').filter((event: any) => event.step === 'folder');
    expect(folderCalls).toHaveLength(4);
    expect(folderCalls.filter((event: any) => event.id === FOLDERS[1]!.id)).toEqual([
      {
        step: 'folder',
        set: 'photos',
        id: FOLDERS[1]!.id,
        kind: 'remnant',
        cursor: null,
        executionId: run.executionArn,
      },
      {
        step: 'folder',
        set: 'photos',
        id: FOLDERS[1]!.id,
        kind: 'remnant',
        cursor: {
          startAfter: `${FOLDERS[1]!.id}/a`,
          objectsDeleted: 1,
          objectsReferenced: 0,
          objectsUnmanaged: 0,
        },
        executionId: run.executionArn,
      },
    ]);
    const finish = flow.script.eventsOf('cleanup').find((event: any) => event.step === 'finish');
    expect(finish).toMatchObject({
      folders: FOLDERS,
      results: FOLDERS.map(({ set, id }) => ({ set, id, objectsDeleted: 2 })),
    });
    expect(flow.script.eventsOf('report')).toHaveLength(1);
  });

  it('stops at the first state when the input is invalid, running nothing else', async () => {
    scriptPaths();
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
    scriptPaths();
    flow.script.on('flow-input', (event, call) => (call === 0 ? fail('ThrottledError') : event.input));

    const run = await flow.run({ dryRun: false });

    expect(run.status).toBe('SUCCEEDED');
    expect(flow.script.eventsOf('flow-input')).toHaveLength(2);
  });

  it('retries a plan that finds a resource busy, then goes on', async () => {
    scriptPaths(FOLDERS);
    flow.script.on('cleanup', (event: any, call) => {
      if (event.step === 'plan')
        return call === 0 ? fail('ResourceBusyError') : { report: planReport, folders: FOLDERS };
      if (event.step === 'folder') return folderStep(event);
      return finished(event);
    });

    const run = await flow.run({ dryRun: false });

    expect(run.status).toBe('SUCCEEDED');
    expect(steps().filter((step) => step === 'plan')).toHaveLength(2);
  });

  it('retries a folder call that was throttled, and empties the folder', async () => {
    scriptPaths(FOLDERS.slice(0, 1));
    let throttled = 0;
    flow.script.on('cleanup', (event: any) => {
      if (event.step === 'plan') return { report: planReport, folders: FOLDERS.slice(0, 1) };
      if (event.step === 'folder') return throttled++ === 0 ? fail('ThrottledError') : folderStep(event);
      return finished(event);
    });

    const run = await flow.run({ dryRun: false });

    expect(run.status).toBe('SUCCEEDED');
    expect(steps()).toEqual(['plan', 'folder', 'folder', 'folder', 'finish']);
  });

  it('reports a failed plan with its error, then fails with that error', async () => {
    scriptPaths();
    flow.script.on('cleanup', () => fail('AccessDeniedError', 'KMS refused to open a seal'));

    const run = await flow.run({ dryRun: false });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('AccessDeniedError');
    expect(run.states).toEqual([
      'ValidateInput',
      'Tuning',
      'Cleanup',
      'DescribeFailure',
      'ReportFailure',
      'CleanupFailed',
    ]);
    expect(flow.script.eventsOf('report')).toEqual([
      expect.objectContaining({
        flow: 'Cleanup',
        failures: [expect.objectContaining({ step: 'Cleanup', error: 'AccessDeniedError' })],
      }),
    ]);
  });

  it('reports a folder that could not be emptied (an error after its retries) once, without finishing', async () => {
    scriptPaths(FOLDERS);
    flow.script.on('cleanup', (event: any) => {
      if (event.step === 'plan') return { report: planReport, folders: FOLDERS };
      if (event.step === 'folder' && event.kind === 'remnant')
        return fail('IntegrityError', 'Part manifest-parts/1.json of kept backup photos/x is missing');
      if (event.step === 'folder') return folderStep(event);
      return finished(event);
    });

    const run = await flow.run({ dryRun: false });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('States.ExceedToleratedFailureThreshold');
    expect(run.states).toEqual([
      'ValidateInput',
      'Tuning',
      'Cleanup',
      'EmptyFolders',
      'DescribeEmptyFailure',
      'ReportFailure',
      'CleanupFailed',
    ]);
    expect(steps()).not.toContain('finish');
    expect(flow.script.eventsOf('report')).toEqual([
      expect.objectContaining({ failures: [expect.objectContaining({ step: 'EmptyFolders' })] }),
    ]);
  });

  it('retries a finish that could not reach Lambda, then reports a refused target once and fails with its error', async () => {
    scriptPaths(FOLDERS);
    let finishes = 0;
    flow.script.on('cleanup', (event: any) => {
      if (event.step === 'plan') return { report: planReport, folders: FOLDERS };
      if (event.step === 'folder') return folderStep(event);
      return finishes++ === 0
        ? fail('NetworkError')
        : fail(
            'PreconditionFailedError',
            'Cleanup did not finish 1 target(s): uploads refused: no complete backups',
          );
    });

    const run = await flow.run({ dryRun: false });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('PreconditionFailedError');
    expect(run.states.slice(-4)).toEqual([
      'FinishCleanup',
      'DescribeFinishFailure',
      'ReportFailure',
      'CleanupFailed',
    ]);
    expect(steps().filter((step) => step === 'finish')).toHaveLength(2);
    expect(flow.script.eventsOf('report')).toEqual([
      expect.objectContaining({
        failures: [expect.objectContaining({ step: 'FinishCleanup', error: 'PreconditionFailedError' })],
      }),
    ]);
  });

  it('retries a report that could not be written, on both the success and the failure path', async () => {
    scriptPaths();
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
