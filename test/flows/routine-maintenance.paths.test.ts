/**
 * statemachines/routine-maintenance.asl.json, path by path, with scripted functions and the real
 * Backup flow (statemachines/backup.asl.json, its functions scripted too) as the nested child: the
 * happy path and its transition count, each Retry, each Catch (a backup child that fails, a
 * snapshot that fails, snapshot polling that times out, a copy that fails, a copy that waits for a
 * slot, health that cannot be checked), and mixed outcomes that are all reported before the
 * execution fails. The report function is scripted with the real findings, so every payload is
 * also checked against the run-record schema. The last test checks every Catch and Retry rule of
 * the file was exercised.
 */

import { readFileSync } from 'node:fs';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { maintenanceWindowSchema, planWindow } from '../../functions/common/time/maintenance-window.ts';
import { findings } from '../../functions/report/findings.ts';
import { runRecordSchema } from '../../functions/report/run-record.ts';
import { ROLE_ARN } from '../fixtures/statemachines/harness.ts';
import { flowHarness } from './support/flow-harness.ts';
import { fail } from './support/script-server.ts';
import { scriptedVerify } from './support/scripted-verify.ts';

const CHILD_NAME = 'backup-child';
const CHILD_ARN = `arn:aws:states:us-east-1:000000000000:stateMachine:${CHILD_NAME}`;
/** The Backup flow's placeholders, filled with the same scripted functions. */
const CHILD_VALUES: Record<string, string> = {
  FlowInputFunctionArn: 'flow-input',
  BackupFunctionArn: 's3-backup',
  VerifyFunctionArn: 'backup-verify',
  ReportFunctionArn: 'report',
  BackupBucket: 'backups',
  BackupMaxConcurrency: '2',
  BackupBatchesPerChild: '2',
  BackupInlineBatchLimit: '4',
};

const flow = flowHarness(
  'routine-maintenance.asl.json',
  {
    FlowInputFunctionArn: 'flow-input',
    HealthCheckFunctionArn: 'health-check',
    SnapshotFunctionArn: 'rds-snapshot',
    ReportFunctionArn: 'report',
    CapacityFunctionArn: 'capacity',
    SecurityMaintenanceFunctionArn: 'security-maintenance',
    DatabaseMaintenanceFunctionArn: 'db-maintenance',
    TaskStatisticsFunctionArn: 'task-statistics',
    // Functions only the nested Backup flow calls.
    BackupFunctionArn: 's3-backup',
    VerifyFunctionArn: 'backup-verify',
  },
  { BackupStateMachineArn: CHILD_ARN },
);

beforeAll(async () => {
  const definition = readFileSync('statemachines/backup.asl.json', 'utf8').replace(
    /\$\{(\w+)\}/g,
    (_whole, name: string) => CHILD_VALUES[name]!,
  );
  await new SFNClient({}).send(
    new CreateStateMachineCommand({ name: CHILD_NAME, definition, roleArn: ROLE_ARN }),
  );
});

const schedule = (intervals: number[]) => ({
  intervals,
  cap: intervals.length,
  wait: intervals[0],
  attempt: 1,
});
const SNAPSHOT_ID = 'caretaker-orders-3f2a9c1e0b7d-snapshot';
const healthy = {
  status: 'healthy',
  checkedAt: '2026-11-21T01:00:05.000Z',
  label: 'routine',
  durationMs: 40,
  checks: [
    { name: 'api', kind: 'http', status: 'pass', summary: 'GET /health: 200', evidence: {}, durationMs: 40 },
  ],
};

/**
 * Plans as flow-input would: `sets` and `targets` (name → DR region or null) for the parent, the
 * databases to maintain, and the maintenance window (none by default: no deadlines).
 */
function plan(
  sets: string[],
  targets: Record<string, string | null>,
  { databaseTargets = [] as string[], window = planWindow(null, Date.now(), { enforce: false }) } = {},
) {
  return {
    backupSets: sets,
    rdsTargets: Object.entries(targets).map(([name, copyRegion]) => ({ name, copyRegion })),
    poll: { snapshot: schedule([30, 60, 120]), snapshotCopy: schedule([60, 120, 240]) },
    databaseTargets,
    window,
  };
}

/** What the four insight functions answer when all is well. */
const capacityResult = {
  computedAt: '2026-11-21T01:01:00.000Z',
  lookbackDays: 14,
  warnDays: 30,
  criticalDays: 7,
  targets: [
    {
      target: 'orders',
      type: 'instance',
      identifier: 'orders-prod',
      metric: 'FreeStorageSpace',
      capacityBytes: 100 * 1024 ** 3,
      usedBytes: 40 * 1024 ** 3,
      freeBytes: 60 * 1024 ** 3,
      growthBytesPerDay: 1024 ** 3,
      daysUntilFull: 60,
      points: 14,
      status: 'ok',
      summary: '40.0 GiB of 100.0 GiB used, +1.0 GiB a day over 14 days: full in 60 days',
    },
  ],
  bottleneck: { target: 'orders', daysUntilFull: 60 },
};
const securityResult = {
  checkedAt: '2026-11-21T01:01:00.000Z',
  pendingMaintenance: [{ target: 'orders', type: 'instance', identifier: 'orders-prod', actions: [] }],
  keys: [
    {
      keyArn: 'arn:aws:kms:us-east-1:000000000000:key/k',
      region: 'us-east-1',
      role: 'stack',
      rotationEnabled: true,
    },
  ],
};
const databaseEntry = (target: string) => ({
  target,
  status: 'succeeded',
  identifier: `${target}-prod`,
  database: target,
  analyzed: true,
  vacuumed: false,
  maintenanceMs: 120,
  largestTables: [{ table: 'public.orders', totalBytes: 8192, liveRows: 10, deadRows: 0 }],
  bloatedTables: [],
  invalidIndexes: [],
  longQueries: [],
  notes: [],
});
const statisticsResult = {
  days: 30,
  since: '2026-10-22T01:01:00.000Z',
  until: '2026-11-21T01:01:00.000Z',
  flows: [
    {
      flow: 'RoutineMaintenance',
      executions: 3,
      truncated: false,
      tasks: [
        { task: 'CreateSnapshot', runs: 3, successes: 3, failures: 0, retries: 1, meanMs: 800, maxMs: 1200 },
      ],
    },
  ],
};

function backupResult(set: string) {
  return {
    set,
    backupId: '20261121T010000Z-0a1b2c3d',
    mode: 'incremental',
    totals: { objects: 3, bytes: 30, copiedObjects: 1, copiedBytes: 10 },
    durationMs: 1200,
    manifestKey: `backups/${set}/20261121T010000Z-0a1b2c3d/manifest.json`,
  };
}

/** Every function doing its job: one backup set, one target with a DR copy, each available at the second poll. */
function scriptHappyPath(targets: Record<string, string | null> = { orders: 'eu-west-1' }): void {
  flow.script.reset();
  flow.script
    .on('flow-input', (event) =>
      event.flow === 'RoutineMaintenance'
        ? plan(['uploads'], targets)
        : childPlan(event.input as Record<string, unknown>),
    )
    .on('health-check', () => healthy)
    .on('s3-backup', (event) =>
      event.step === 'plan'
        ? { done: true, batches: 1, backupId: '20261121T010000Z-0a1b2c3d' }
        : { done: true, result: backupResult(setName(event)) },
    )
    .on('backup-verify', scriptedVerify())
    .on('rds-snapshot', (event) => snapshotCall(event, 1))
    .on('capacity', () => capacityResult)
    .on('security-maintenance', () => securityResult)
    .on('db-maintenance', (event) => databaseEntry(String(event.target)))
    .on('task-statistics', () => statisticsResult)
    .on('report', (event) => {
      const found = findings(runRecordSchema.parse(event));
      return { severity: found.severity, failures: found.failures.length, warnings: found.warnings.length };
    });
}

const statusCalls = new Map<string, number>();
/** rds-snapshot as RDS answers: the snapshot (or copy) is available at poll `availableAt` + 1. */
function snapshotCall(event: Record<string, unknown>, availableAt: number) {
  const target = String(event.target);
  const id = `caretaker-${target}-3f2a9c1e0b7d-snapshot`;
  if (event.action === 'create') {
    return {
      target,
      type: 'instance',
      region: 'us-east-1',
      snapshotIdentifier: id,
      status: 'creating',
      quota: { used: 12, limit: 100, warnPercent: 80 },
      notes: [],
    };
  }
  if (event.action === 'copy') {
    return {
      target,
      snapshotIdentifier: id,
      copy: { status: 'pending', region: 'eu-west-1', snapshotIdentifier: id },
    };
  }
  const key = `${target}/${event.region ?? 'home'}`;
  const polls = (statusCalls.get(key) ?? 0) + 1;
  statusCalls.set(key, polls);
  const done = polls > availableAt;
  return {
    target,
    snapshotIdentifier: id,
    region: event.region ?? 'us-east-1',
    status: done ? 'available' : 'creating',
    done,
  };
}

const reported = () => runRecordSchema.parse(flow.script.eventsOf('report').at(-1));

describe.sequential('routine maintenance flow paths', () => {
  it('checks health, backs up each set as a nested Backup, snapshots and copies each target, reports once', async () => {
    statusCalls.clear();
    scriptHappyPath();

    const run = await flow.run({});

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual(
      expect.arrayContaining([
        'ValidateInput',
        'Health',
        'Maintain',
        'BackUpSet',
        'CreateSnapshot',
        'SnapshotCopied',
      ]),
    );
    expect(run.states.slice(-3)).toEqual(['Report', 'AnythingFailed?', 'Done']);
    // Only the parent reports: the nested Backup does not.
    expect(flow.script.eventsOf('report')).toHaveLength(1);
    const record = reported();
    expect(record).toMatchObject({
      flow: 'RoutineMaintenance',
      executionArn: run.executionArn,
      health: { status: 'healthy', label: 'routine' },
      backups: [
        {
          set: 'uploads',
          status: 'succeeded',
          backupId: '20261121T010000Z-0a1b2c3d',
          verification: { ok: true },
        },
      ],
      snapshots: [
        {
          target: 'orders',
          status: 'succeeded',
          snapshotId: SNAPSHOT_ID,
          copy: { region: 'eu-west-1', status: 'available', snapshotId: SNAPSHOT_ID },
        },
      ],
    });
    expect(flow.script.eventsOf('health-check')).toEqual([
      { label: 'routine', executionId: run.executionArn, logsWindowMinutes: 1440 },
    ]);
    // The maintenance beyond backups: each section in the one report, no deadline without a window.
    expect(record).toMatchObject({
      window: { enforced: false },
      capacity: capacityResult,
      security: securityResult,
      databaseMaintenance: [],
      statistics: statisticsResult,
    });
  });

  it('starts each Backup child with the set and the parent execution, so the child knows it is nested', async () => {
    scriptHappyPath({});

    const run = await flow.run({ backupSets: ['uploads'], rdsTargets: [] });

    const childInputs = flow.script
      .eventsOf('flow-input')
      .filter((event) => event.flow === 'Backup')
      .map((event) => event.input);
    expect(run.status).toBe('SUCCEEDED');
    expect(childInputs).toEqual([
      { set: 'uploads', AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: run.executionArn },
    ]);
    expect(flow.script.eventsOf('flow-input')[0]).toEqual({
      flow: 'RoutineMaintenance',
      input: { backupSets: ['uploads'], rdsTargets: [] },
    });
  });

  it('takes at most 40 state transitions for one backup set and one RDS target', async () => {
    statusCalls.clear();
    scriptHappyPath();

    const run = await flow.run({});

    expect(run.states.length).toBeLessThanOrEqual(40);
  });

  it('snapshots a target without a DR copy and polls with growing waits until it is available', async () => {
    statusCalls.clear();
    scriptHappyPath({ orders: null });
    flow.script.on('rds-snapshot', (event) => snapshotCall(event, 2));

    const run = await flow.run({});
    const waits = run.history
      .filter((event) => event.type === 'WaitStateEntered')
      .map((event) => JSON.parse(event.stateEnteredEventDetails!.input!).poll.wait);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.filter((name) => name === 'SnapshotStatus')).toHaveLength(3);
    expect(waits).toEqual([30, 60, 120]);
    expect(run.states).toContain('SnapshotDone');
    expect(run.states).not.toContain('CopySnapshot');
    expect(reported().snapshots[0]).toEqual({
      target: 'orders',
      status: 'succeeded',
      snapshotId: SNAPSHOT_ID,
      type: 'instance',
      quota: { used: 12, limit: 100, warnPercent: 80 },
      notes: [],
    });
  });

  it('retries a throttled input check, health check, snapshot call, status poll, copy, copy poll and report', async () => {
    statusCalls.clear();
    scriptHappyPath();
    const throttledOnce = (name: string, behaviour: (event: Record<string, unknown>) => unknown) => {
      const seen = new Set<string>();
      flow.script.on(name, (event) => {
        const key = `${event.action ?? ''}/${event.region ?? ''}/${event.flow ?? ''}`;
        if (!seen.has(key)) {
          seen.add(key);
          return fail('ThrottledError');
        }
        return behaviour(event);
      });
    };
    const routinePlan = plan(['uploads'], { orders: 'eu-west-1' });
    throttledOnce('flow-input', (event) =>
      event.flow === 'RoutineMaintenance' ? routinePlan : childPlan(event.input as Record<string, unknown>),
    );
    throttledOnce('health-check', () => healthy);
    throttledOnce('rds-snapshot', (event) => snapshotCall(event, 0));
    throttledOnce('report', (event) => {
      const found = findings(runRecordSchema.parse(event));
      return { severity: found.severity, failures: found.failures.length };
    });

    const run = await flow.run({});

    expect(run.status).toBe('SUCCEEDED');
    expect(flow.script.eventsOf('rds-snapshot').map((event) => event.action)).toEqual([
      'create',
      'create',
      'status',
      'status',
      'copy',
      'copy',
      'status',
      'status',
    ]);
    expect(flow.script.eventsOf('report')).toHaveLength(2);
  });

  it('reports a Backup child that failed as a failed set, with the child execution, and ends failed', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('s3-backup', () => fail('NotFoundError', 'The source bucket app does not exist'));

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('MaintenanceFailed');
    expect(run.states).toEqual(
      expect.arrayContaining(['BackUpSet', 'BackupSetFailed', 'SnapshotCopied', 'Report']),
    );
    expect(run.states.at(-1)).toBe('MaintenanceFailed');
    const record = reported();
    expect(record.backups[0]).toMatchObject({
      set: 'uploads',
      status: 'failed',
      error: { name: 'States.TaskFailed' },
    });
    expect(findings(record).failures.map((f) => f.what)).toEqual([
      'Backup of uploads failed: NotFoundError: The source bucket app does not exist',
    ]);
    expect(findings(record).failures[0]!.where).toMatch(
      /\(execution arn:aws:states:.*:execution:backup-child:/,
    );
    // The child reported nothing: its parent did.
    expect(flow.script.eventsOf('report')).toHaveLength(1);
    expect(record.snapshots[0]).toMatchObject({ status: 'succeeded', copy: { status: 'available' } });
  });

  it('reports a snapshot that could not be made, and still backs up and reports everything else', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('rds-snapshot', (event) =>
      event.action === 'create'
        ? fail('QuotaExceededError', 'us-east-1 holds 100 of 100 manual snapshots')
        : {},
    );

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.states).toEqual(expect.arrayContaining(['CreateSnapshot', 'SnapshotFailed', 'BackUpSet']));
    expect(reported().snapshots).toEqual([
      {
        target: 'orders',
        status: 'failed',
        error: { name: 'QuotaExceededError', message: expect.stringContaining('100 of 100') },
        notes: [],
      },
    ]);
    expect(reported().backups[0]).toMatchObject({ status: 'succeeded' });
  });

  it('reports a snapshot that RDS marked failed while polling', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('rds-snapshot', (event) =>
      event.action === 'status'
        ? fail('PreconditionFailedError', `Snapshot ${SNAPSHOT_ID} in us-east-1 failed`)
        : snapshotCall(event, 0),
    );

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.states).toEqual(expect.arrayContaining(['SnapshotStatus', 'SnapshotFailed']));
    expect(reported().snapshots[0]).toMatchObject({
      status: 'failed',
      error: { name: 'PreconditionFailedError' },
    });
  });

  it('gives up polling a snapshot after the attempt cap and reports it as timed out', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('rds-snapshot', (event) => snapshotCall(event, 100));

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    // A cap of 3: three polls, one after each wait of the schedule.
    expect(run.states.filter((name) => name === 'SnapshotStatus')).toHaveLength(3);
    expect(run.states).toEqual(expect.arrayContaining(['SnapshotTimedOut', 'SnapshotFailed']));
    expect(reported().snapshots[0]).toMatchObject({
      status: 'failed',
      error: {
        name: 'TimeoutExceededError',
        message: `Snapshot ${SNAPSHOT_ID} of RDS target orders was still creating after 3 polls`,
      },
    });
  });

  it('reports a copy that could not be started: the snapshot succeeded, its DR copy failed', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('rds-snapshot', (event) =>
      event.action === 'copy'
        ? fail('AccessDeniedError', 'the DR key policy refuses RDS')
        : snapshotCall(event, 0),
    );

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.states).toEqual(expect.arrayContaining(['CopySnapshot', 'CopyFailed']));
    expect(reported().snapshots[0]).toMatchObject({
      status: 'succeeded',
      snapshotId: SNAPSHOT_ID,
      copy: { region: 'eu-west-1', status: 'failed', error: { name: 'AccessDeniedError' } },
    });
  });

  it('reports a copy that failed in the DR region while polling', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('rds-snapshot', (event) =>
      event.action === 'status' && event.region
        ? fail('PreconditionFailedError', `Snapshot ${SNAPSHOT_ID} in eu-west-1 failed`)
        : snapshotCall(event, 0),
    );

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.states).toEqual(expect.arrayContaining(['CopyStatus', 'CopyFailed']));
    expect(reported().snapshots[0]!.copy).toMatchObject({
      status: 'failed',
      error: { name: 'PreconditionFailedError' },
    });
  });

  it('waits for a copy slot when the DR region is at its concurrent-copy cap, then copies', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('rds-snapshot', (event) => {
      if (event.action !== 'copy') return snapshotCall(event, 0);
      // The first two copy calls find no slot (the current call is already recorded).
      const waiting = flow.script.eventsOf('rds-snapshot').filter((e) => e.action === 'copy').length <= 2;
      return waiting
        ? {
            target: 'orders',
            copy: { status: 'waiting', region: 'eu-west-1', inProgress: 5, maxConcurrent: 5 },
          }
        : snapshotCall(event, 0);
    });

    const run = await flow.run({});

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.filter((name) => name === 'CopySnapshot')).toHaveLength(3);
    expect(run.states.filter((name) => name === 'WaitForCopySlot')).toHaveLength(2);
    expect(reported().snapshots[0]!.copy).toMatchObject({ status: 'available' });
  });

  it('gives up waiting for a copy slot after the copy schedule is spent', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('rds-snapshot', (event) =>
      event.action === 'copy'
        ? {
            target: 'orders',
            copy: { status: 'waiting', region: 'eu-west-1', inProgress: 5, maxConcurrent: 5 },
          }
        : snapshotCall(event, 0),
    );

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.states).toEqual(expect.arrayContaining(['CopyTimedOut', 'CopyFailed']));
    expect(reported().snapshots[0]!.copy).toMatchObject({
      status: 'failed',
      error: { name: 'TimeoutExceededError' },
    });
  });

  it('gives up polling a copy after the copy schedule is spent', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('rds-snapshot', (event) => snapshotCall(event, event.region ? 100 : 0));

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.states.filter((name) => name === 'CopyStatus')).toHaveLength(3);
    expect(reported().snapshots[0]!.copy).toMatchObject({
      error: {
        name: 'TimeoutExceededError',
        message: expect.stringContaining('did not finish within 3 polls'),
      },
    });
  });

  it('reports health that could not be checked as a warning and maintains everything anyway', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('health-check', () => fail('AccessDeniedError', 'not allowed to describe orders-prod'));

    const run = await flow.run({});

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.slice(0, 4)).toEqual([
      'ValidateInput',
      'Health',
      'HealthUnavailable',
      'RecordHealthUnavailable',
    ]);
    const record = reported();
    expect(record.health).toBeUndefined();
    expect(record.unavailable).toEqual([
      { step: 'Health', error: 'AccessDeniedError', cause: expect.stringContaining('not allowed') },
    ]);
    expect(findings(record)).toMatchObject({ failures: [], severity: 'warning' });
  });

  it('does not fail the run on unhealthy checks: they are in the report, the health alarms alert on them', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('health-check', () => ({
      ...healthy,
      status: 'unhealthy',
      checks: [{ ...healthy.checks[0], status: 'fail', summary: 'GET /health: connection refused' }],
    }));

    const run = await flow.run({});

    expect(run.status).toBe('SUCCEEDED');
    expect(reported().health).toMatchObject({ status: 'unhealthy' });
  });

  it('runs every set and target despite mixed failures, reports all of them together, then fails', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script
      .on('flow-input', (event) =>
        event.flow === 'RoutineMaintenance'
          ? plan(['uploads', 'invoices'], { orders: 'eu-west-1', billing: null, ledger: null })
          : childPlan(event.input as Record<string, unknown>),
      )
      .on('s3-backup', (event) => {
        if (setName(event) === 'invoices') return fail('AccessDeniedError', 'cannot read app/data/');
        return event.step === 'plan'
          ? { done: true, batches: 1, backupId: '20261121T010000Z-0a1b2c3d' }
          : { done: true, result: backupResult(setName(event)) };
      })
      .on('rds-snapshot', (event) =>
        event.target === 'billing' && event.action === 'create'
          ? fail('NotFoundError', 'RDS instance billing-prod (target billing) does not exist')
          : snapshotCall(event, 0),
      );

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('MaintenanceFailed');
    expect(flow.script.eventsOf('report')).toHaveLength(1);
    const record = reported();
    expect(record.backups.map((b) => [b.set, b.status])).toEqual([
      ['uploads', 'succeeded'],
      ['invoices', 'failed'],
    ]);
    expect(record.snapshots.map((s) => [s.target, s.status])).toEqual([
      ['orders', 'succeeded'],
      ['billing', 'failed'],
      ['ledger', 'succeeded'],
    ]);
    expect(findings(record).failures).toHaveLength(2);
  });

  it('stops at the first state when the input is invalid, running nothing else', async () => {
    scriptHappyPath();
    flow.script.on('flow-input', () =>
      fail(
        'ValidationError',
        'Invalid RoutineMaintenance input: rdsTargets[0]: expected a configured RDS target',
      ),
    );

    const run = await flow.run({ rdsTargets: ['nope'] });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ValidationError');
    expect(run.states).toEqual(['ValidateInput']);
  });

  it('maintains the configured databases one after the other, each in the report', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('flow-input', (event) =>
      event.flow === 'RoutineMaintenance'
        ? plan(
            ['uploads'],
            { orders: 'eu-west-1', billing: null },
            { databaseTargets: ['orders', 'billing'] },
          )
        : childPlan(event.input as Record<string, unknown>),
    );

    const run = await flow.run({});

    expect(run.status).toBe('SUCCEEDED');
    expect(flow.script.eventsOf('db-maintenance')).toEqual([
      { target: 'orders', executionId: run.executionArn },
      { target: 'billing', executionId: run.executionArn },
    ]);
    expect(reported().databaseMaintenance!.map((d) => [d.target, d.status])).toEqual([
      ['orders', 'succeeded'],
      ['billing', 'succeeded'],
    ]);
  });

  it('keeps a scheduled run to the window: work past its deadline is not started and is reported as skipped, with why', async () => {
    statusCalls.clear();
    scriptHappyPath();
    // The window closes in 45 minutes: a backup (60 min) and a snapshot (50 min) no longer fit,
    // database maintenance (30 min) does.
    const window = maintenanceWindowSchema.parse({
      start: '00:00',
      durationMinutes: 1440,
      expectedMinutes: { snapshot: 50 },
    });
    const now = Date.now();
    const opened = now - (1440 - 45) * 60_000;
    const closing = { ...window, start: new Date(opened).toISOString().slice(11, 16), timeZone: 'UTC' };
    const windowPlan = planWindow(closing, now, { enforce: true });
    flow.script.on('flow-input', (event) =>
      event.flow === 'RoutineMaintenance'
        ? plan(['uploads'], { orders: 'eu-west-1' }, { databaseTargets: ['orders'], window: windowPlan })
        : childPlan(event.input as Record<string, unknown>),
    );

    const run = await flow.run({ scheduled: true });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual(
      expect.arrayContaining(['BackupInWindow?', 'BackupSkipped', 'SnapshotSkipped', 'MaintainDatabase']),
    );
    expect(run.states).not.toContain('BackUpSet');
    expect(run.states).not.toContain('CreateSnapshot');
    const record = reported();
    expect(record.backups).toEqual([
      {
        set: 'uploads',
        status: 'skipped',
        skipped: {
          at: expect.any(String),
          deadline: windowPlan.deadlines.backup,
          reason: windowPlan.reasons.backup,
        },
      },
    ]);
    expect(record.snapshots[0]).toMatchObject({ target: 'orders', status: 'skipped' });
    expect(record.snapshots[0]!.skipped!.reason).toContain('is expected to take 50 min');
    expect(record.databaseMaintenance![0]).toMatchObject({ target: 'orders', status: 'succeeded' });
    expect(findings(record).warnings.map((w) => w.what)).toEqual([
      `Backup of uploads was not started: ${windowPlan.reasons.backup}`,
      `Snapshot of orders was not started: ${windowPlan.reasons.snapshot}`,
    ]);
  });

  it('retries a throttled capacity, security, database maintenance and statistics call', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script.on('flow-input', (event) =>
      event.flow === 'RoutineMaintenance'
        ? plan(['uploads'], { orders: 'eu-west-1' }, { databaseTargets: ['orders'] })
        : childPlan(event.input as Record<string, unknown>),
    );
    for (const [name, answer] of [
      ['capacity', () => capacityResult],
      ['security-maintenance', () => securityResult],
      ['db-maintenance', () => databaseEntry('orders')],
      ['task-statistics', () => statisticsResult],
    ] as const) {
      let calls = 0;
      flow.script.on(name, () => (++calls === 1 ? fail('ThrottledError', 'Rate exceeded') : answer()));
    }

    const run = await flow.run({});

    expect(run.status).toBe('SUCCEEDED');
    for (const name of ['capacity', 'security-maintenance', 'db-maintenance', 'task-statistics']) {
      expect(flow.script.eventsOf(name), name).toHaveLength(2);
    }
    expect(reported()).toMatchObject({ capacity: capacityResult, statistics: statisticsResult });
  });

  it('reports insights that could not be produced as warnings and a failed database maintenance as a failure', async () => {
    statusCalls.clear();
    scriptHappyPath();
    flow.script
      .on('flow-input', (event) =>
        event.flow === 'RoutineMaintenance'
          ? plan(['uploads'], { orders: 'eu-west-1' }, { databaseTargets: ['orders'] })
          : childPlan(event.input as Record<string, unknown>),
      )
      .on('capacity', () => fail('AccessDeniedError', 'not allowed to cloudwatch:GetMetricData'))
      .on('security-maintenance', () => fail('AccessDeniedError', 'not allowed to kms:GetKeyRotationStatus'))
      .on('db-maintenance', () =>
        fail('AccessDeniedError', 'password authentication failed for user "reader"'),
      )
      .on('task-statistics', () => fail('AccessDeniedError', 'not allowed to states:ListExecutions'));

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.states).toEqual(
      expect.arrayContaining([
        'CapacityUnavailable',
        'SecurityMaintenanceUnavailable',
        'DatabaseMaintenanceFailed',
        'TaskStatisticsUnavailable',
      ]),
    );
    const record = reported();
    expect(record.capacity).toEqual({
      unavailable: {
        step: 'Capacity',
        error: 'AccessDeniedError',
        cause: expect.stringContaining('GetMetricData'),
      },
    });
    expect(record.databaseMaintenance).toEqual([
      expect.objectContaining({
        target: 'orders',
        status: 'failed',
        error: expect.objectContaining({ name: 'AccessDeniedError' }),
      }),
    ]);
    const found = findings(record);
    expect(found.failures.map((f) => f.what)).toEqual([
      expect.stringMatching(
        /^Database maintenance of orders failed: AccessDeniedError: password authentication failed/,
      ),
    ]);
    expect(found.warnings.map((w) => w.what)).toEqual([
      expect.stringMatching(/^The capacity forecast could not be produced: AccessDeniedError/),
      expect.stringMatching(/^The security maintenance report could not be produced: AccessDeniedError/),
      expect.stringMatching(/^The task statistics could not be produced: AccessDeniedError/),
    ]);
    // Backups and snapshots went on.
    expect(record.backups[0]).toMatchObject({ status: 'succeeded' });
    expect(record.snapshots[0]).toMatchObject({ status: 'succeeded' });
  });

  it('has exercised every Catch and Retry rule of the file', () => {
    expect(flow.untriedCatches()).toEqual([]);
    expect(flow.untriedRetries()).toEqual([]);
  });
});

/** The Backup plan flow-input makes for a child started with `input`. */
function childPlan(input: Record<string, unknown>) {
  return {
    set: { name: input.set, sourceBucket: 'app', prefix: 'data/', mode: 'incremental', fullEvery: 7 },
    forceFull: false,
    verifySubset: 'all',
    backupId: null,
    timeBudgetMs: null,
    nested: 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID' in input,
    startedBy: input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID ?? null,
  };
}

/** The set an s3-backup call is for (the Backup flow passes the planned set). */
function setName(event: Record<string, unknown>): string {
  return (event.set as { name: string }).name;
}
