/**
 * statemachines/disaster-recovery.asl.json, path by path, with scripted functions: a drill and a
 * failover end to end, given recovery points, every Retry, every Catch (the rollback after a
 * failed choice, restore, verification, switch-over and re-check, and each item the rollback
 * cannot remove), the polling timeouts, and a bad input stopped at the first state. The plan is
 * made by the real flow-input schema and every report call is checked by the real run-record
 * schema and findings, so the ASL and the report stay in step. The last test checks that every
 * Catch and Retry rule of the file was exercised.
 */
import { describe, expect, it } from 'vitest';
import {
  backupSet,
  disasterRecovery,
  healthChecks,
  rdsTarget,
} from '../../functions/common/config/config-sections.ts';
import type { FlowContext } from '../../functions/common/flows/context.ts';
import type { DisasterRecoveryPlan } from '../../functions/common/flows/disaster-recovery-input.ts';
import { flowInputSchema } from '../../functions/common/flows/inputs.ts';
import { restoredIdentifier } from '../../functions/common/rds/rds-names.ts';
import { parseOrThrow } from '../../functions/common/runtime/validation.ts';
import { withDrillFigures } from '../../functions/report/disaster-recovery.ts';
import { findings } from '../../functions/report/findings.ts';
import { type RunRecord, runRecordSchema } from '../../functions/report/run-record.ts';
import { flowHarness } from './support/flow-harness.ts';
import { type Behaviour, fail } from './support/script-server.ts';

const flow = flowHarness('disaster-recovery.asl.json', {
  FlowInputFunctionArn: 'flow-input',
  RdsRestoreFunctionArn: 'rds-restore',
  // rds-switch-over: scripted under the same name, whose script dispatches on `action` (the two
  // functions' actions do not overlap).
  SwitchOverFunctionArn: 'rds-restore',
  BackupRestoreFunctionArn: 'backup-restore',
  HealthCheckFunctionArn: 'health-check',
  ReportFunctionArn: 'report',
});

const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:orders-ro';
const CONTEXT: FlowContext = {
  environmentName: 'prod',
  backupSets: [
    backupSet.parse({ name: 'uploads', sourceBucket: 'app-uploads', prefix: 'uploads/', retention: 'std' }),
  ],
  rdsTargets: [
    rdsTarget.parse({ name: 'orders', identifier: 'orders-prod', retention: 'std' }),
    rdsTarget.parse({ name: 'billing', identifier: 'billing-prod', retention: 'std' }),
  ],
  lambdaFunctions: [],
  healthChecks: healthChecks.parse({
    queries: [
      {
        name: 'orders-rows',
        rdsTarget: 'orders',
        database: 'orders',
        user: 'reader',
        passwordSecretArn: SECRET,
        query: 'SELECT count(*) FROM orders',
      },
    ],
  }),
  disasterRecovery: disasterRecovery.parse({ restoreBucket: 'dr-restores' }),
};
const FAILOVER = { mode: 'failover', rdsTargets: ['orders'], confirm: 'prod' };
const SNAPSHOT_TIME = '2026-04-01T01:00:00.000Z';
const BACKUP_TIME = '2026-03-31T02:00:00.000Z';

function planOf(input: unknown): DisasterRecoveryPlan {
  return parseOrThrow(flowInputSchema('DisasterRecovery', CONTEXT), input) as DisasterRecoveryPlan;
}

/** A poll schedule that gives up after `cap` short waits. */
const shortPoll = (cap: number) => ({ intervals: Array(cap).fill(1), cap, wait: 1, attempt: 1 });

interface World {
  /** Identifiers `delete` was called for (a status of one of them says it is gone). */
  readonly deleted: Set<string>;
  /** The run records the report got, parsed by the real schema. */
  readonly reports: RunRecord[];
}

const rdsRestore =
  (world: World): Behaviour =>
  (event) => {
    const target = event.target as string;
    const source = CONTEXT.rdsTargets.find((t) => t.name === target)!.identifier;
    switch (event.action) {
      case 'choose':
        return {
          target,
          snapshotIdentifier:
            (event.snapshotIdentifier as string | null) ?? `caretaker-${target}-0123456789ab-snapshot`,
          createdAt: SNAPSHOT_TIME,
          source: event.snapshotIdentifier ? 'given' : 'newest-verified',
          managed: true,
          reason: 'the newest available managed snapshot',
          skipped: [],
          skippedCount: 0,
          restoredIdentifier: restoredIdentifier(source, event.executionId as string),
        };
      case 'restore':
        return {
          identifier: event.identifier,
          region: event.region ?? 'us-east-1',
          status: 'creating',
          settingsSource: 'snapshot',
          notes: [],
        };
      case 'status':
        return world.deleted.has(event.identifier as string)
          ? { status: 'not-found', exists: false, done: false }
          : { status: 'available', exists: true, done: true };
      case 'switch-over':
        return {
          done: true,
          phase: 'promoted',
          sourceIdentifier: source,
          oldIdentifier: `${source}-old-20260401050000`,
          restoredIdentifier: event.restoredIdentifier,
        };
      case 'undo-switch-over':
        return { done: true, phase: 'done' };
      case 'delete':
        world.deleted.add(event.identifier as string);
        return { done: false, status: 'deleting' };
      default:
        return fail('ValidationError', `unexpected action ${String(event.action)}`);
    }
  };

const RESTORE_RESULT = {
  restoreId: 'restore-20260401T050000Z-11111111',
  rollbackPointId: '20260401T050000Z-11111111',
  verified: 'objects',
  startedAt: '2026-04-01T05:00:01.000Z',
  durationMs: 1000,
};
/** The two ranges the scripted plan splits the backup's three parts into. */
const RANGES = [
  { from: 0, to: 2 },
  { from: 2, to: 3 },
];
const range = (event: Record<string, unknown>) => ({ from: event.from as number, to: event.to as number });

const backupRestore: Behaviour = (event) => {
  switch (event.action) {
    case 'choose':
      return {
        set: event.set,
        backupId: (event.backupId as string | null) ?? '20260331T020000Z-0a0b0c0d',
        createdAt: BACKUP_TIME,
        verifiedAt: '2026-03-31T02:30:00.000Z',
        source: event.backupId ? 'given' : 'newest-verified',
        reason: 'the newest sealed and verified backup',
        skipped: [],
        skippedCount: 0,
      };
    case 'plan':
      return {
        set: event.set,
        backupId: event.backupId,
        targetBucket: event.targetBucket,
        targetPrefix: event.targetPrefix,
        restoreId: RESTORE_RESULT.restoreId,
        rollbackPointId: RESTORE_RESULT.rollbackPointId,
        manifestSha256: 'ab'.repeat(32),
        chainLinks: 0,
        parts: 3,
        plannedAt: RESTORE_RESULT.startedAt,
        items: RANGES,
      };
    case 'verify-range':
      return {
        done: true,
        summary: {
          ...range(event),
          entriesChecked: 1,
          objectsRead: 1,
          bytesRead: 100,
          problemCount: 0,
          problems: [],
        },
      };
    case 'rollback-point':
      return { done: true, rollbackPointId: RESTORE_RESULT.rollbackPointId, objects: 0 };
    case 'restore-range':
      return { done: true, summary: { ...range(event), objects: 1, bytes: 100 } };
    case 'finish':
      return {
        done: true,
        ...RESTORE_RESULT,
        set: event.set,
        backupId: event.backupId,
        target: { bucket: event.targetBucket, prefix: event.targetPrefix },
        objects: (event.results as { objects: number }[]).reduce((n, r) => n + r.objects, 0),
        bytes: 300,
        completedAt: new Date().toISOString(),
      };
    case 'rollback-range':
      return {
        done: true,
        summary: { ...range(event), putBack: 0, deleted: 1, leftAlone: 0, leftAloneKeys: [] },
      };
    case 'rolled-back': {
      // As the real action: always fails, with the restore's failure (or PreconditionFailedError
      // when the rollback failed too).
      const failure = event.failure as { Error: string };
      return event.rollbackFailure
        ? fail('PreconditionFailedError', 'rolling back failed too')
        : fail(failure.Error, `restore failed and was rolled back: ${failure.Error}`);
    }
    case 'teardown':
      return {
        done: true,
        set: event.set,
        restoreId: RESTORE_RESULT.restoreId,
        target: { bucket: event.targetBucket, prefix: event.targetPrefix },
        deleted: 3,
        putBack: 0,
        kept: 0,
      };
    default:
      return fail('ValidationError', `unexpected action ${String(event.action)}`);
  }
};

const healthy: Behaviour = (event) => ({
  status: 'healthy',
  checkedAt: new Date().toISOString(),
  durationMs: 5,
  label: event.label,
  checks: [
    { name: 'orders', kind: 'rds', status: 'pass', summary: 'available', evidence: {}, durationMs: 5 },
  ],
});

/** Scripts every function for a run that succeeds; tests replace what they need. */
function scriptWorld(): World {
  const world: World = { deleted: new Set(), reports: [] };
  flow.script.reset();
  flow.script
    .on('flow-input', (event) => planOf(event.input))
    .on('rds-restore', rdsRestore(world))
    .on('backup-restore', backupRestore)
    .on('health-check', healthy)
    .on('report', (event) => {
      // The real run-record schema and findings: what the report function would do with it.
      const record = withDrillFigures(runRecordSchema.parse(event));
      world.reports.push(record);
      const found = findings(record);
      return { severity: found.severity, failures: found.failures.length, markdownKey: 'reports/x.md' };
    });
  return world;
}

/** The events `rds-restore` got for `action`. */
const rdsCalls = (action: string) => flow.script.eventsOf('rds-restore').filter((e) => e.action === action);
const backupCalls = (action: string) =>
  flow.script.eventsOf('backup-restore').filter((e) => e.action === action);

/** How often each state was entered. */
function counts(states: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const state of states) out[state] = (out[state] ?? 0) + 1;
  return out;
}

/**
 * Fails the first call of each kind of step with a transient error, then behaves as `inner`: every
 * Retry rule of the file sees one error it retries.
 */
function flakyOnce(inner: Behaviour, kindOf: (event: Record<string, unknown>) => string): Behaviour {
  const seen = new Set<string>();
  const errors = ['ThrottledError', 'ResourceBusyError', 'NetworkError', 'Lambda.TooManyRequestsException'];
  return (event, call) => {
    const kind = kindOf(event);
    if (!seen.has(kind)) {
      seen.add(kind);
      return fail(errors[seen.size % errors.length]!, `${kind}: transient (scripted)`);
    }
    return inner(event, call);
  };
}

describe.sequential('disaster-recovery flow paths', () => {
  it('drill: chooses every point, restores and verifies in parallel, tears down only its own copies and reports RTO/RPO', async () => {
    const world = scriptWorld();

    const run = await flow.run({ mode: 'drill' });

    expect(run.status).toBe('SUCCEEDED');
    const entered = counts(run.states);
    expect(entered).toMatchObject({
      ValidateInput: 1,
      ChooseSnapshot: 2,
      ChooseBackup: 1,
      RestoreDatabase: 2,
      VerifyDatabase: 2,
      PlanRestore: 1,
      VerifyRestoreParts: 1,
      TakeRollbackPoint: 1,
      RestoreParts: 1,
      FinishRestore: 1,
      BackupVerified: 1,
      RemoveRestored: 1,
      DeleteDatabase: 2,
      DatabaseRemoved: 2,
      TeardownBackup: 1,
      BackupRemoved: 1,
      Report: 1,
      Done: 1,
    });
    expect(entered).not.toHaveProperty('SwitchOver');
    expect(entered).not.toHaveProperty('UndoSwitchOver');
    expect(entered).not.toHaveProperty('RollbackParts');
    // The backup is verified, then restored, range by range: each range once, in a child of its own.
    expect(
      backupCalls('verify-range')
        .map(range)
        .sort((a, b) => a.from - b.from),
    ).toEqual(RANGES);
    expect(
      backupCalls('restore-range')
        .map(range)
        .sort((a, b) => a.from - b.from),
    ).toEqual(RANGES);
    expect(backupCalls('restore-range')[0]).toMatchObject({
      set: 'uploads',
      backupId: '20260331T020000Z-0a0b0c0d',
      manifestSha256: 'ab'.repeat(32),
      targetBucket: 'dr-restores',
      targetPrefix: 'dr-restore/uploads/',
      executionId: run.executionArn,
      cursor: null,
    });
    expect(backupCalls('finish')[0]!.results).toHaveLength(2);
    expect(world.reports[0]!.disasterRecovery!.restored!.backups[0]).toMatchObject({
      set: 'uploads',
      objects: 2,
    });
    // The restored copies, and only they, were deleted: the identifiers choose derived from this execution.
    const ours = ['orders-prod', 'billing-prod'].map((id) => restoredIdentifier(id, run.executionArn));
    expect(
      rdsCalls('restore')
        .map((e) => e.identifier)
        .sort(),
    ).toEqual([...ours].sort());
    expect(
      rdsCalls('delete')
        .map((e) => e.identifier)
        .sort(),
    ).toEqual([...ours].sort());
    expect(backupCalls('teardown')).toEqual([
      {
        action: 'teardown',
        set: 'uploads',
        targetBucket: 'dr-restores',
        targetPrefix: 'dr-restore/uploads/',
        executionId: run.executionArn,
        startedAt: expect.any(String),
      },
    ]);
    // One start time names the restore and its teardown (taken once: a Map iteration's own clock must not leak in).
    const named = ['plan', 'rollback-point', 'restore-range', 'finish', 'teardown'].flatMap(backupCalls);
    expect(named).toHaveLength(6);
    expect(new Set(named.map((e) => e.startedAt)).size).toBe(1);
    // Verified against the restored copy: its RDS status and the target's query check pointed at it.
    const verify = flow.script
      .eventsOf('health-check')
      .find((e) => JSON.stringify(e).includes('orders-rows'))!;
    expect(verify).toMatchObject({
      failOn: 'unhealthy',
      label: 'dr-restored',
      checks: {
        rds: [{ name: 'orders', type: 'instance', identifier: ours[0], region: null }],
        queries: [
          { name: 'orders-rows', identifier: ours[0], type: 'instance', database: 'orders', minRows: 1 },
        ],
      },
    });
    expect(world.reports).toHaveLength(1);
    expect(world.reports[0]!.disasterRecovery).toMatchObject({
      mode: 'drill',
      failure: null,
      switchOver: null,
    });
    expect(world.reports[0]!.drill).toMatchObject({
      rtoTargetSeconds: 3600,
      rpoTargetSeconds: 86400,
      tornDown: true,
      recoveryPoint:
        'orders: caretaker-orders-0123456789ab-snapshot, billing: caretaker-billing-0123456789ab-snapshot, uploads: 20260331T020000Z-0a0b0c0d',
    });
  });

  it('drill with teardown off: leaves the restored copies in place and says so', async () => {
    const world = scriptWorld();
    flow.script.on('flow-input', (event) => ({ ...planOf(event.input), teardown: false }));

    const run = await flow.run({ mode: 'drill', rdsTargets: ['orders'], backupSets: [] });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).not.toContain('RemoveRestored');
    expect(rdsCalls('delete')).toEqual([]);
    expect(world.reports[0]!.drill).not.toHaveProperty('tornDown');
  });

  it('failover: restores, verifies, switches over until done, re-checks the configured checks and deletes nothing', async () => {
    const world = scriptWorld();
    const restore = rdsRestore(world);
    flow.script.on('rds-restore', (event, call) =>
      event.action === 'switch-over' && rdsCalls('switch-over').length < 3
        ? {
            done: false,
            phase: 'renaming-source',
            sourceIdentifier: 'orders-prod',
            oldIdentifier: 'o',
            restoredIdentifier: 'r',
          }
        : restore(event, call),
    );

    const run = await flow.run(FAILOVER);

    expect(run.status).toBe('SUCCEEDED');
    expect(counts(run.states)).toMatchObject({
      StartSwitchOver: 1,
      SwitchOverDatabase: 3,
      WaitForRename: 2,
      SwitchOverDone: 1,
      RecheckHealth: 1,
      Report: 1,
      Done: 1,
    });
    expect(run.states).not.toContain('RemoveRestored');
    expect(rdsCalls('switch-over')[0]).toEqual({
      action: 'switch-over',
      target: 'orders',
      executionId: run.executionArn,
      restoredIdentifier: restoredIdentifier('orders-prod', run.executionArn),
      startedAt: expect.any(String),
    });
    expect(rdsCalls('delete')).toEqual([]);
    expect(flow.script.eventsOf('health-check').at(-1)).toMatchObject({
      label: 'dr-failover',
      failOn: 'unhealthy',
      checks: { backupFreshness: false, queries: [{ name: 'orders-rows', rdsTarget: 'orders' }] },
    });
    expect(world.reports[0]!.disasterRecovery).toMatchObject({
      mode: 'failover',
      switchOver: [
        {
          target: 'orders',
          sourceIdentifier: 'orders-prod',
          oldIdentifier: 'orders-prod-old-20260401050000',
        },
      ],
      recheck: { status: 'healthy' },
      removal: null,
    });
    expect(world.reports[0]!.drill).toBeUndefined();
  });

  it('uses the recovery points it is given', async () => {
    scriptWorld();

    const run = await flow.run({
      mode: 'drill',
      rdsTargets: ['orders'],
      recoveryPoints: {
        snapshots: { orders: 'before-the-bad-deploy' },
        backups: { uploads: '20260330T020000Z-0f0e0d0c' },
      },
    });

    expect(run.status).toBe('SUCCEEDED');
    expect(rdsCalls('choose')[0]).toMatchObject({
      snapshotIdentifier: 'before-the-bad-deploy',
      region: null,
    });
    expect(rdsCalls('restore')[0]).toMatchObject({ snapshotIdentifier: 'before-the-bad-deploy' });
    expect(backupCalls('choose')[0]).toMatchObject({ backupId: '20260330T020000Z-0f0e0d0c' });
    expect(backupCalls('plan')[0]).toMatchObject({ backupId: '20260330T020000Z-0f0e0d0c' });
  });

  it('loops every long step on its cursor: each range of the verification and the restore, the rollback point and the teardown', async () => {
    scriptWorld();
    flow.script.on('backup-restore', (event, call) => {
      const first = !event.cursor && !event.continuation;
      if ((event.action === 'verify-range' || event.action === 'restore-range') && first)
        return { done: false, cursor: { part: event.from, index: 7 } };
      if (event.action === 'rollback-point' && backupCalls('rollback-point').length === 1)
        return { done: false, rollbackPointId: RESTORE_RESULT.rollbackPointId };
      if (event.action === 'teardown' && first)
        return { done: false, set: event.set, continuation: { startAfter: 'k' } };
      return backupRestore(event, call);
    });

    const run = await flow.run({ mode: 'drill', rdsTargets: [] });

    expect(run.status).toBe('SUCCEEDED');
    expect(counts(run.states)).toMatchObject({
      PlanRestore: 1,
      TakeRollbackPoint: 2,
      FinishRestore: 1,
      TeardownBackup: 1,
      TeardownBackupMore: 1,
    });
    for (const action of ['verify-range', 'restore-range']) {
      const calls = backupCalls(action);
      expect(calls).toHaveLength(4);
      // Each range's second call continues from the cursor its first call returned.
      for (const { from } of RANGES) {
        expect(calls.filter((e) => e.from === from).map((e) => e.cursor)).toEqual([
          null,
          { part: from, index: 7 },
        ]);
      }
    }
    expect(backupCalls('teardown')[1]).toMatchObject({ continuation: { startAfter: 'k' } });
  });

  it('retries every step once on a transient error and still succeeds (drill)', async () => {
    const world = scriptWorld();
    flow.script
      .on(
        'flow-input',
        flakyOnce(
          (event) => planOf(event.input),
          () => 'plan',
        ),
      )
      .on(
        'rds-restore',
        flakyOnce(
          rdsRestore(world),
          (e) => `${e.action}:${world.deleted.has(e.identifier as string) ? 'gone' : ''}`,
        ),
      )
      .on(
        'backup-restore',
        flakyOnce(
          (event, call) => {
            if (event.action === 'teardown' && !event.continuation) return { done: false, continuation: {} };
            return backupRestore(event, call);
          },
          (e) => `${e.action}:${e.continuation ? 'more' : ''}`,
        ),
      )
      .on(
        'health-check',
        flakyOnce(healthy, (e) => String(e.label)),
      )
      .on(
        'report',
        flakyOnce(
          () => ({ severity: 'info', failures: 0, markdownKey: 'reports/x.md' }),
          () => 'report',
        ),
      );

    // One database, so which iteration meets each first failure is not left to chance.
    const run = await flow.run({ mode: 'drill', rdsTargets: ['orders'] });

    expect({ status: run.status, error: run.error }).toEqual({ status: 'SUCCEEDED' });
  });

  it('retries the switch-over, the re-check and the undo (failover rolled back after its re-check)', async () => {
    const world = scriptWorld();
    flow.script
      .on(
        'rds-restore',
        flakyOnce(rdsRestore(world), (e) =>
          ['switch-over', 'undo-switch-over'].includes(e.action as string) ? String(e.action) : 'other',
        ),
      )
      .on(
        'health-check',
        flakyOnce(
          (event, call) =>
            event.label === 'dr-failover' ? fail('UnhealthyError', 'api down') : healthy(event, call),
          (e) => String(e.label),
        ),
      );

    const run = await flow.run(FAILOVER);

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('UnhealthyError');
    expect(rdsCalls('undo-switch-over').length).toBeGreaterThanOrEqual(2);
  });

  it('stops at the first state when the input is invalid, running nothing else', async () => {
    scriptWorld();

    const run = await flow.run({ mode: 'failover', rdsTargets: ['orders'] });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ValidationError');
    expect(run.cause).toContain('confirm it with');
    expect(run.states).toEqual(['ValidateInput']);
    expect(flow.script.eventsOf('rds-restore')).toEqual([]);
  });

  it('no usable recovery point: restores nothing, rolls back nothing, reports critical and fails', async () => {
    const world = scriptWorld();
    flow.script.on('backup-restore', (event, call) =>
      event.action === 'choose'
        ? fail('NotFoundError', 'Backup set uploads has no sealed, verified backup among 4')
        : backupRestore(event, call),
    );

    const run = await flow.run({ mode: 'drill' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('NotFoundError');
    expect(run.states).toContain('DescribeChooseFailure');
    expect(run.states).not.toContain('Restore');
    expect(run.states).not.toContain('RemoveRestored');
    expect(rdsCalls('restore')).toEqual([]);
    expect(rdsCalls('delete')).toEqual([]);
    const found = findings(world.reports[0]!);
    expect(found.severity).toBe('critical');
    expect(found.failures[0]!.what).toContain('failed at ChooseRecoveryPoints: NotFoundError');
    expect(found.failures[0]!.what).toContain('Nothing had been restored, so nothing was rolled back.');
  });

  it('rollback after a failed restore: deletes only this execution’s copies and restored objects, reports and fails', async () => {
    const world = scriptWorld();
    const restore = rdsRestore(world);
    flow.script.on('rds-restore', (event, call) =>
      event.action === 'restore' && event.target === 'billing'
        ? fail('QuotaExceededError', 'Restoring billing would exceed the DB instance quota')
        : restore(event, call),
    );

    const run = await flow.run({ mode: 'drill' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('QuotaExceededError');
    expect(run.states).toContain('DescribeRestoreFailure');
    const ours = ['orders-prod', 'billing-prod'].map((id) => restoredIdentifier(id, run.executionArn));
    expect(rdsCalls('delete').map((e) => [e.identifier, e.executionId])).toEqual(
      expect.arrayContaining(ours.map((id) => [id, run.executionArn])),
    );
    expect(rdsCalls('delete')).toHaveLength(2);
    expect(rdsCalls('undo-switch-over')).toEqual([]);
    expect(backupCalls('teardown')).toHaveLength(1);
    const section = world.reports[0]!.disasterRecovery!;
    expect(section.failure).toMatchObject({ step: 'Restore', error: 'QuotaExceededError' });
    expect(section.removal!.databases.every((db) => db.removed)).toBe(true);
    expect(findings(world.reports[0]!).failures[0]!.what).toContain(
      'Rolled back: deleted the restored copies',
    );
  });

  it('rollback after a failed verification of a restored copy', async () => {
    const world = scriptWorld();
    flow.script.on('health-check', (event, call) =>
      (event.checks as { rds: { name: string }[] }).rds[0]!.name === 'orders'
        ? fail('UnhealthyError', 'Health is unhealthy: FAIL query orders-rows: 0 rows')
        : healthy(event, call),
    );

    const run = await flow.run({ mode: 'drill' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('UnhealthyError');
    expect(rdsCalls('delete')).toHaveLength(2);
    expect(world.reports[0]!.disasterRecovery!.failure).toMatchObject({
      step: 'Restore',
      error: 'UnhealthyError',
    });
    expect(world.reports[0]!.disasterRecovery!.restored).toBeNull();
  });

  it('a backup that fails its verification is refused before anything is written, and the run rolls back', async () => {
    const world = scriptWorld();
    flow.script.on('backup-restore', (event, call) =>
      event.action === 'rollback-point'
        ? fail('IntegrityError', 'Backup uploads/… failed verification with 1 problem(s)')
        : backupRestore(event, call),
    );

    const run = await flow.run({ mode: 'failover', backupSets: ['uploads'], confirm: 'prod' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('IntegrityError');
    expect(run.states).not.toContain('SwitchOver');
    expect(backupCalls('restore-range')).toEqual([]);
    expect(run.states).not.toContain('RollbackParts');
    expect(backupCalls('teardown')).toHaveLength(1);
    expect(world.reports[0]!.disasterRecovery!.removal!.backups).toMatchObject([
      { set: 'uploads', removed: true },
    ]);
  });

  it('a range that fails mid-restore: waits for aborted calls, rolls back every range, fails saying so', async () => {
    const world = scriptWorld();
    flow.script.on('backup-restore', (event, call) =>
      event.action === 'restore-range' && event.from === 2
        ? fail('IntegrityError', 'checksum-mismatch: object "uploads/b" while writing')
        : backupRestore(event, call),
    );

    const run = await flow.run({ mode: 'failover', backupSets: ['uploads'], confirm: 'prod' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('States.ExceedToleratedFailureThreshold');
    const entered = run.states;
    expect(entered.indexOf('WaitForAbortedRanges')).toBeGreaterThan(entered.indexOf('RestoreParts'));
    expect(entered.indexOf('RollbackParts')).toBeGreaterThan(entered.indexOf('WaitForAbortedRanges'));
    expect(entered).not.toContain('FinishRestore');
    // Every range is rolled back, the one that never failed too.
    expect(
      backupCalls('rollback-range')
        .map(range)
        .sort((a, b) => a.from - b.from),
    ).toEqual(RANGES);
    const rolledBack = backupCalls('rolled-back');
    expect(rolledBack).toHaveLength(1);
    expect(rolledBack[0]).toMatchObject({
      failure: { Error: 'States.ExceedToleratedFailureThreshold' },
      parts: 3,
      rollbackFailure: null,
    });
    expect(rolledBack[0]!.results).toHaveLength(2);
    expect(world.reports[0]!.disasterRecovery!.failure).toMatchObject({ step: 'Restore' });
    expect(backupCalls('teardown')).toHaveLength(1);
  });

  it('a finish that finds a part not restored exactly once rolls back at once, with no wait', async () => {
    scriptWorld();
    flow.script.on('backup-restore', (event, call) =>
      event.action === 'finish'
        ? fail('IntegrityError', 'parts not restored exactly once: 2')
        : backupRestore(event, call),
    );

    const run = await flow.run({ mode: 'failover', backupSets: ['uploads'], confirm: 'prod' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('IntegrityError');
    expect(run.states).not.toContain('WaitForAbortedRanges');
    expect(run.states).toContain('RollbackParts');
    expect(backupCalls('rolled-back')[0]).toMatchObject({ failure: { Error: 'IntegrityError' } });
  });

  it('a rollback that fails too ends in PreconditionFailedError, the teardown still running after it', async () => {
    scriptWorld();
    flow.script.on('backup-restore', (event, call) => {
      if (event.action === 'restore-range') return fail('AccessDeniedError', 's3:PutObject denied');
      if (event.action === 'rollback-range') return fail('AccessDeniedError', 's3:DeleteObject denied');
      return backupRestore(event, call);
    });

    const run = await flow.run({ mode: 'failover', backupSets: ['uploads'], confirm: 'prod' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('PreconditionFailedError');
    expect(backupCalls('rolled-back')[0]).toMatchObject({
      results: null,
      rollbackFailure: { Error: 'States.ExceedToleratedFailureThreshold' },
    });
    expect(backupCalls('teardown')).toHaveLength(1);
  });

  it('retries the rollback of a range and the rolled-back step on a transient error', async () => {
    scriptWorld();
    flow.script.on(
      'backup-restore',
      flakyOnce(
        (event, call) =>
          event.action === 'restore-range'
            ? fail('PreconditionFailedError', '"big.bin" cannot be restored within one call')
            : backupRestore(event, call),
        (e) => (e.action === 'rollback-range' || e.action === 'rolled-back' ? String(e.action) : 'other'),
      ),
    );

    const run = await flow.run({ mode: 'failover', backupSets: ['uploads'], confirm: 'prod' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('States.ExceedToleratedFailureThreshold');
    // Both ranges rolled back despite the retried call; rolled-back called twice (once retried).
    expect(new Set(backupCalls('rollback-range').map((e) => e.from))).toEqual(new Set([0, 2]));
    expect(backupCalls('rolled-back')).toHaveLength(2);
  });

  it('rollback after a failed switch-over: undoes it, then deletes the copy', async () => {
    const world = scriptWorld();
    const restore = rdsRestore(world);
    flow.script.on('rds-restore', (event, call) =>
      event.action === 'switch-over'
        ? fail('PreconditionFailedError', 'the parking name O is already taken')
        : restore(event, call),
    );

    const run = await flow.run(FAILOVER);

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('PreconditionFailedError');
    expect(run.states).toContain('DescribeSwitchOverFailure');
    // The undo looks for the original under the parking name the switch-over gave it: same start time.
    expect(rdsCalls('undo-switch-over')[0]!.startedAt).toBe(rdsCalls('switch-over')[0]!.startedAt);
    const undo = run.states.indexOf('UndoSwitchOver');
    expect(undo).toBeGreaterThan(-1);
    expect(run.states.indexOf('DeleteDatabase')).toBeGreaterThan(undo);
    expect(world.reports[0]!.disasterRecovery!.removal!.databases).toMatchObject([
      { target: 'orders', removed: true, switchOverUndone: true },
    ]);
    expect(findings(world.reports[0]!).failures[0]!.what).toContain('undid the switch-over of orders');
  });

  it('rollback after the re-check fails: the switched-over copy is switched back and deleted', async () => {
    const world = scriptWorld();
    flow.script.on('health-check', (event, call) =>
      event.label === 'dr-failover' ? fail('UnhealthyError', 'FAIL http api') : healthy(event, call),
    );

    const run = await flow.run(FAILOVER);

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('UnhealthyError');
    expect(run.states).toContain('DescribeRecheckFailure');
    expect(rdsCalls('undo-switch-over')).toHaveLength(1);
    expect(rdsCalls('delete')).toHaveLength(1);
    expect(world.reports[0]!.disasterRecovery!.failure).toMatchObject({ step: 'RecheckHealth' });
  });

  it('records each item the rollback cannot remove, removes the others, and says what to do by hand', async () => {
    const world = scriptWorld();
    const restore = rdsRestore(world);
    flow.script
      .on('rds-restore', (event, call) => {
        if (event.action === 'switch-over')
          return fail('NotFoundError', 'R is gone while the original is parked');
        if (event.action === 'undo-switch-over' && event.target === 'orders')
          return fail('PreconditionFailedError', 'the name R is taken');
        if (event.action === 'delete' && event.target === 'billing')
          return fail('AccessDeniedError', 'not authorized');
        return restore(event, call);
      })
      .on('backup-restore', (event, call) =>
        event.action === 'teardown'
          ? fail('AccessDeniedError', 's3:DeleteObject denied')
          : backupRestore(event, call),
      );

    const run = await flow.run({
      mode: 'failover',
      rdsTargets: ['orders', 'billing'],
      backupSets: ['uploads'],
      confirm: 'prod',
    });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('NotFoundError');
    const removal = world.reports[0]!.disasterRecovery!.removal!;
    expect(removal.databases.map((db) => [db.target, db.removed, db.error?.name])).toEqual([
      ['orders', false, 'PreconditionFailedError'],
      ['billing', false, 'AccessDeniedError'],
    ]);
    expect(removal.backups).toMatchObject([
      { set: 'uploads', removed: false, error: { name: 'AccessDeniedError' } },
    ]);
    const whats = findings(world.reports[0]!).failures.map((f) => f.what);
    expect(whats).toHaveLength(4);
    expect(whats[1]).toContain('could not be removed: PreconditionFailedError');
  });

  it('a drill whose teardown cannot finish reports it critical and ends failed, its restore having succeeded', async () => {
    const world = scriptWorld();
    const restore = rdsRestore(world);
    flow.script
      .on('rds-restore', (event, call) =>
        event.action === 'status' &&
        world.deleted.has(event.identifier as string) &&
        event.target === 'billing'
          ? fail('ThrottledError', 'Rate exceeded')
          : restore(event, call),
      )
      .on('backup-restore', (event, call) => {
        if (event.action === 'teardown' && !event.continuation) return { done: false, continuation: {} };
        if (event.action === 'teardown') return fail('NetworkError', 'socket hang up');
        return backupRestore(event, call);
      });

    const run = await flow.run({ mode: 'drill' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('DisasterRecoveryIncomplete');
    expect(run.states).toContain('Incomplete');
    const section = world.reports[0]!.disasterRecovery!;
    expect(section.failure).toBeNull();
    expect(section.removal!.databases.find((db) => db.target === 'billing')).toMatchObject({
      removed: false,
      error: { name: 'ThrottledError' },
    });
    expect(section.removal!.backups[0]).toMatchObject({ removed: false, error: { name: 'NetworkError' } });
    expect(world.reports[0]!.drill?.tornDown).toBe(false);
  });

  it('times out a restore that never becomes available, and rolls it back', async () => {
    const world = scriptWorld();
    const restore = rdsRestore(world);
    flow.script
      .on('flow-input', (event) => ({
        ...planOf(event.input),
        poll: { ...planOf(event.input).poll, restore: shortPoll(3) },
      }))
      .on('rds-restore', (event, call) =>
        event.action === 'status' && !world.deleted.has(event.identifier as string)
          ? { status: 'creating', exists: true, done: false }
          : restore(event, call),
      );

    const run = await flow.run({ mode: 'drill', rdsTargets: ['orders'], backupSets: [] });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('TimeoutExceededError');
    expect(counts(run.states)).toMatchObject({
      // A cap of 3: three polls, one after each wait.
      DatabaseStatus: 3,
      DatabaseRestoreTimedOut: 1,
      DeleteDatabase: 1,
    });
  });

  it('times out a switch-over that never settles, and undoes it', async () => {
    const world = scriptWorld();
    const restore = rdsRestore(world);
    flow.script
      .on('flow-input', (event) => ({
        ...planOf(event.input),
        poll: { ...planOf(event.input).poll, rename: shortPoll(2) },
      }))
      .on('rds-restore', (event, call) =>
        event.action === 'switch-over'
          ? {
              done: false,
              phase: 'renaming-source',
              sourceIdentifier: 's',
              oldIdentifier: 'o',
              restoredIdentifier: 'r',
            }
          : restore(event, call),
      );

    const run = await flow.run(FAILOVER);

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('TimeoutExceededError');
    expect(counts(run.states)).toMatchObject({
      SwitchOverDatabase: 2,
      SwitchOverTimedOut: 1,
      UndoSwitchOver: 1,
      DatabaseRemoved: 1,
    });
  });

  it('times out an undo and a deletion that never finish, recording both for the report', async () => {
    const world = scriptWorld();
    const restore = rdsRestore(world);
    flow.script
      .on('flow-input', (event) => {
        const plan = planOf(event.input);
        return { ...plan, poll: { ...plan.poll, rename: shortPoll(2), delete: shortPoll(2) } };
      })
      .on('rds-restore', (event, call) => {
        if (event.action === 'switch-over')
          return fail('PreconditionFailedError', 'R was not restored by this execution');
        if (event.action === 'undo-switch-over' && event.target === 'orders')
          return { done: false, phase: 'renaming-restored-back' };
        if (event.action === 'status' && world.deleted.has(event.identifier as string))
          return { status: 'deleting', exists: true, done: false };
        return restore(event, call);
      });

    const run = await flow.run({ ...FAILOVER, rdsTargets: ['orders', 'billing'] });

    expect(run.status).toBe('FAILED');
    expect(counts(run.states)).toMatchObject({ UndoTimedOut: 1, DeletionTimedOut: 1, DatabaseNotRemoved: 2 });
    const removal = world.reports[0]!.disasterRecovery!.removal!;
    expect(removal.databases.map((db) => [db.target, db.removed, db.error?.name])).toEqual([
      ['orders', false, 'TimeoutExceededError'],
      ['billing', false, 'TimeoutExceededError'],
    ]);
  });

  it('has exercised every Catch and Retry rule of the file', () => {
    expect(flow.untriedCatches()).toEqual([]);
    expect(flow.untriedRetries()).toEqual([]);
  });
});
