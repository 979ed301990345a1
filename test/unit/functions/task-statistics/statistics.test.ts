/**
 * functions/task-statistics: task runs from a history as AWS writes it (retries chained through
 * previousEventId, a caught failure, a run stopped in flight) and their aggregation, pure; then
 * the statistics of real executions on the sandbox's Step Functions (a Map of retried calls and a
 * caught failure), and the window and execution cap.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SFNClient } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  aggregateTallies,
  type HistoryEvent,
  taskTallies,
} from '../../../../functions/task-statistics/aggregate.ts';
import { type LambdaService, lambdaService } from '../../../../sandbox/services/lambda/index.ts';
import { statesService } from '../../../../sandbox/services/states/index.ts';
import { createMachine, run } from '../../../fixtures/statemachines/harness.ts';
import { withSandbox } from '../../../support/sandbox.ts';

const T = Date.parse('2026-11-21T02:00:00Z');
let id = 0;
/** An event `ms` after T, chained to `previous`. */
const ev = (type: string, ms: number, previous: number, name?: string): HistoryEvent => ({
  id: ++id,
  previousEventId: previous,
  timestamp: new Date(T + ms),
  type,
  ...(name ? { stateEnteredEventDetails: { name } } : {}),
});

describe('taskTallies and aggregateTallies (pure)', () => {
  it('counts retries through the previousEventId chain, a caught failure, and a run stopped in flight as neither', () => {
    id = 0;
    const started = ev('ExecutionStarted', 0, 0);
    const entered = ev('TaskStateEntered', 10, started.id, 'CreateSnapshot');
    const s1 = ev('TaskScheduled', 11, entered.id);
    const st1 = ev('TaskStarted', 12, s1.id);
    const f1 = ev('TaskFailed', 100, st1.id);
    const s2 = ev('TaskScheduled', 2100, f1.id);
    const st2 = ev('TaskStarted', 2101, s2.id);
    const ok = ev('TaskSucceeded', 2300, st2.id);
    const exited = ev('TaskStateExited', 2301, ok.id);
    const entered2 = ev('TaskStateEntered', 2400, exited.id, 'Copy');
    const s3 = ev('TaskScheduled', 2401, entered2.id);
    const st3 = ev('TaskStarted', 2402, s3.id);
    const f3 = ev('TaskFailed', 2500, st3.id);
    const caught = ev('PassStateEntered', 2501, f3.id, 'CopyFailed');
    const entered3 = ev('TaskStateEntered', 2600, caught.id, 'Copy');
    const s4 = ev('TaskScheduled', 2601, entered3.id);
    const aborted = ev('ExecutionAborted', 2700, s4.id);

    const tallies = taskTallies([
      started,
      entered,
      s1,
      st1,
      f1,
      s2,
      st2,
      ok,
      exited,
      entered2,
      s3,
      st3,
      f3,
      caught,
      entered3,
      s4,
      aborted,
    ]);

    expect([...tallies.values()]).toEqual([
      { task: 'CreateSnapshot', runs: 1, scheduled: 2, successes: 1, failedAttempts: 1, durations: [2290] },
      { task: 'Copy', runs: 2, scheduled: 2, successes: 0, failedAttempts: 1, durations: [100] },
    ]);
    expect(aggregateTallies([tallies, tallies])).toEqual([
      { task: 'Copy', runs: 4, successes: 0, failures: 2, retries: 0, meanMs: 100, maxMs: 100 },
      { task: 'CreateSnapshot', runs: 2, successes: 2, failures: 0, retries: 2, meanMs: 2290, maxMs: 2290 },
    ]);
  });
});

const handler = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/statemachines/handlers/${name}.ts`, import.meta.url));
const sandbox = withSandbox([lambdaService, statesService], {
  settings: { states: { timeScale: 0.01 }, lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } } },
});
let computeStatistics: typeof import('../../../../functions/task-statistics/handler.ts')['computeStatistics'];
let machine: string;
const counters = mkdtempSync(join(tmpdir(), 'caretaker-statistics-'));

beforeAll(async () => {
  process.env.STATE_MACHINE_ARN_PREFIX = 'arn:aws:states:us-east-1:000000000000:stateMachine:';
  process.env.STATE_MACHINE_NAMES = JSON.stringify({ Backup: 'stats-Backup' });
  ({ computeStatistics } = await import('../../../../functions/task-statistics/handler.ts'));
  const lambda = sandbox.sandbox.context.service<LambdaService>('lambda')!;
  lambda.register({ name: 'flaky', modulePath: handler('flaky') });
  lambda.register({ name: 'fail', modulePath: handler('fail') });
  const sfn = new SFNClient({});
  machine = await createMachine(sfn, 'statistics.asl.json', 'stats-Backup');
  // Two executions: three items, retried 2, 0 and 1 times; then one with a single item.
  const item = (n: number, failures: number) => ({ counterFile: join(counters, `c${n}`), failures });
  expect((await run(sfn, machine, { items: [item(1, 2), item(2, 0), item(3, 1)] })).status).toBe('SUCCEEDED');
  expect((await run(sfn, machine, { items: [item(4, 0)] })).status).toBe('SUCCEEDED');
}, 60_000);

describe('computeStatistics on the sandbox', () => {
  const deps = (now = new Date()) => ({
    sfn: new SFNClient({}),
    now,
    stateMachineArn: (flow: string) => (flow === 'Backup' ? machine : `${machine}-missing-${flow}`),
  });

  it('counts runs, retries and caught failures of each task over the executions of the window', async () => {
    const result = await computeStatistics({ days: 30, maxExecutions: 200 }, deps(), ['Backup']);

    expect(result.flows).toEqual([
      {
        flow: 'Backup',
        executions: 2,
        truncated: false,
        tasks: [
          expect.objectContaining({ task: 'Breaks', runs: 2, successes: 0, failures: 2, retries: 0 }),
          expect.objectContaining({ task: 'CallFlaky', runs: 4, successes: 4, failures: 0, retries: 3 }),
        ],
      },
    ]);
    const flaky = result.flows[0]!.tasks[1]!;
    expect(flaky.maxMs).toBeGreaterThanOrEqual(flaky.meanMs!);
  });

  it('reads only the newest executions up to the cap, and says so', async () => {
    const result = await computeStatistics({ days: 30, maxExecutions: 1 }, deps(), ['Backup']);

    expect(result.flows[0]).toMatchObject({ executions: 1, truncated: true });
    expect(result.flows[0]!.tasks.find((t) => t.task === 'CallFlaky')).toMatchObject({ runs: 1, retries: 0 });
  });

  it('leaves out executions older than the window', async () => {
    const result = await computeStatistics(
      { days: 1, maxExecutions: 200 },
      deps(new Date(Date.now() + 3 * 86_400_000)),
      ['Backup'],
    );

    expect(result.flows[0]).toMatchObject({ executions: 0, tasks: [] });
  });

  it('reports a flow whose executions cannot be listed, with the reason', async () => {
    const result = await computeStatistics({ days: 30, maxExecutions: 200 }, deps(), ['Cleanup']);

    expect(result.flows[0]).toMatchObject({
      flow: 'Cleanup',
      executions: 0,
      error: { name: 'StateMachineDoesNotExist' },
    });
  });
});
