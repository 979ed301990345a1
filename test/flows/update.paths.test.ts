/**
 * statemachines/update.asl.json, path by path, with scripted functions: the happy paths (an RDS
 * change rolled back in place if it fails, an engine upgrade rolled back by restore, a Lambda
 * canary), the abort on unhealthy health, every Retry and every Catch, each rollback (in place, by
 * restore and switch-over, of a canary at its second step), polling timeouts, and a rollback
 * refused because someone else changed the target. The plans are the real flow-input schema's;
 * each report event is checked against the real run-record schema and judged by the real
 * findings. The last test checks that every Catch and Retry rule of the file was exercised.
 */
import { describe, expect, it } from 'vitest';
import { healthChecks } from '#common/config/config-sections';
import type { FlowContext } from '#common/flows/context';
import { flowInputSchema } from '#common/flows/inputs';
import { parseOrThrow } from '#common/runtime/validation';
import { findings } from '../../functions/report/findings.ts';
import { type RunRecord, runRecordSchema } from '../../functions/report/run-record.ts';
import { flowContext } from '../support/flow-context.ts';
import { type FlowRun, flowHarness } from './support/flow-harness.ts';
import { fail } from './support/script-server.ts';

const flow = flowHarness('update.asl.json', {
  FlowInputFunctionArn: 'flow-input',
  HealthCheckFunctionArn: 'health-check',
  UpdateFunctionArn: 'update',
  SnapshotFunctionArn: 'rds-snapshot',
  RestoreFunctionArn: 'rds-restore',
  // rds-switch-over: scripted under the same name, whose script dispatches on `action` (the two
  // functions' actions do not overlap).
  SwitchOverFunctionArn: 'rds-restore',
  ReportFunctionArn: 'report',
});

const CHECKOUT = 'arn:aws:lambda:eu-central-1:111122223333:function:checkout';
const CONTEXT: FlowContext = flowContext({
  backupSets: [],
  rdsTargets: [
    { name: 'orders', type: 'instance', identifier: 'orders-prod', retention: 'standard', rpo: 'PT26H' },
  ],
  lambdaFunctions: [CHECKOUT],
  healthChecks: healthChecks.parse({ http: [{ name: 'api', url: 'https://api.example.com/health' }] }),
});

const CLASS_CHANGE = {
  rds: { target: 'orders', change: { instanceClass: 'db.r6g.xlarge' } },
  stabilizationMinutes: 2,
};
const ENGINE_CHANGE = {
  rds: { target: 'orders', change: { engineVersion: '17.2', allowMajorVersionUpgrade: true } },
  stabilizationMinutes: 1,
};
const CANARY = {
  lambda: {
    functionName: 'checkout',
    alias: 'live',
    targetVersion: '8',
    steps: [10, 50, 100],
    bakeMinutes: 1,
  },
};
const SNAPSHOT = 'caretaker-orders-0a1b2c3d4e5f-rollback-point';
const CAPTURED = {
  target: 'orders',
  type: 'instance',
  identifier: 'orders-prod',
  engineVersion: '16.4',
  parameterGroup: 'orders-v1',
  members: [{ identifier: 'orders-prod', instanceClass: 'db.r6g.large' }],
  capturedAt: '2026-03-10T12:00:00.000Z',
};
const COMPLETED_AT = '2026-03-10T12:40:00.000Z';

type Behaviour = (event: Record<string, any>, call: number) => unknown;
type Health = 'healthy' | 'degraded' | 'unhealthy';

/** A health-check result with one check in the given state. */
function healthOf(status: Health, label: string) {
  const check = { healthy: 'pass', degraded: 'warn', unhealthy: 'fail' }[status];
  return {
    status,
    checkedAt: new Date().toISOString(),
    durationMs: 3,
    label,
    checks: [{ name: 'api', kind: 'http', status: check, summary: `api is ${status}`, evidence: {} }],
  };
}

/**
 * How the scripted functions behave in one run: per function action (or health label), with a
 * counter of the calls that action got. `flaky` makes every first attempt of every call fail with a
 * transient error, so each state's Retry is taken once.
 */
interface Scenario {
  readonly plan?: (plan: Record<string, any>) => Record<string, any>;
  readonly health?: Partial<
    Record<'pre-update' | 'post-update' | 'canary-step' | 'after-rollback', Behaviour>
  >;
  readonly update?: Partial<Record<string, Behaviour>>;
  readonly snapshot?: Partial<Record<string, Behaviour>>;
  readonly restore?: Partial<Record<string, Behaviour>>;
  readonly flaky?: boolean;
}

const TRANSIENT = ['ThrottledError', 'ResourceBusyError', 'NetworkError', 'Lambda.ServiceException'];

/** The functions as a healthy run of the plan sees them. */
const DEFAULTS = {
  health: { 'pre-update': () => healthOf('healthy', 'pre-update') } as Record<string, Behaviour>,
  update: {
    'rds-capture': () => CAPTURED,
    'rds-apply': () => ({ target: 'orders', done: false, sent: ['instanceClass'], waitingFor: [] }),
    'rds-progress': (_e: unknown, n: number) => ({
      done: n >= 1,
      status: n >= 1 ? 'available' : 'modifying',
      waitingFor: n >= 1 ? [] : ['orders-prod is modifying'],
    }),
    'rds-rollback-check': (event: Record<string, any>) => ({
      method: event.method,
      decision: 'revert',
      changed: ['instance class of orders-prod: db.r6g.large → db.r6g.xlarge'],
      conflicts: [],
      waitingFor: [],
      notes: [],
      manualCommands: [
        'aws rds modify-db-instance --db-instance-identifier orders-prod --db-instance-class db.r6g.large --apply-immediately',
      ],
    }),
    'rds-revert': (_e: unknown, n: number) => ({
      done: n >= 1,
      sent: n === 0 ? ['instanceClass:db.r6g.large'] : [],
      waitingFor: n >= 1 ? [] : ['the settings just sent'],
    }),
    'alias-capture': () => ({
      functionName: CHECKOUT,
      alias: 'live',
      originalVersion: '7',
      found: { functionVersion: '7', weights: {} },
      description: 'version 7',
      capturedAt: '2026-03-10T12:00:00.000Z',
    }),
    'alias-shift': (event: Record<string, any>) => {
      const next = event.step + 1 < event.steps.length ? event.step + 1 : null;
      return {
        step: event.step,
        weight: event.steps[event.step],
        nextStep: next,
        done: next === null,
        originalVersion: '7',
      };
    },
    'alias-rollback-check': () => ({
      method: 'alias',
      decision: 'revert',
      changed: [`alias live of ${CHECKOUT}: version 7 → version 7, 50 % to version 8`],
      conflicts: [],
      manualCommands: [
        `aws lambda update-alias --function-name ${CHECKOUT} --name live --function-version 7`,
      ],
    }),
    'alias-rollback': () => ({ changed: true, originalVersion: '7' }),
  } as Record<string, Behaviour>,
  snapshot: {
    create: () => ({ snapshotIdentifier: SNAPSHOT, status: 'creating' }),
    status: () => ({ snapshotIdentifier: SNAPSHOT, status: 'available', done: true }),
  } as Record<string, Behaviour>,
  restore: {
    restore: () => ({ identifier: 'orders-prod-r1a2b3c4d', status: 'creating' }),
    status: (_e: unknown, n: number) => ({ done: n >= 1, status: n >= 1 ? 'available' : 'creating' }),
    'switch-over': (_e: unknown, n: number) => ({
      done: n >= 2,
      phase: ['renaming-source', 'renaming-restored', 'promoted'][Math.min(n, 2)],
      sourceIdentifier: 'orders-prod',
      oldIdentifier: 'orders-prod-old-20260310120000',
      restoredIdentifier: 'orders-prod-r1a2b3c4d',
      ...(n >= 2 ? { completedAt: COMPLETED_AT } : {}),
    }),
  } as Record<string, Behaviour>,
};

/** The parsed report events of the current run (each also judged by the real findings). */
let reports: RunRecord[] = [];

function script(scenario: Scenario = {}): void {
  flow.script.reset();
  reports = [];
  const counters = new Map<string, number>();
  const dispatch = (
    fn: string,
    table: Record<string, Behaviour>,
    key: string,
    event: Record<string, any>,
  ) => {
    const behaviour = table[key];
    if (!behaviour) return fail('ScriptMissing', `no behaviour for ${fn} ${key}`);
    const n = counters.get(`${fn}:${key}`) ?? 0;
    counters.set(`${fn}:${key}`, n + 1);
    return behaviour(event, n);
  };
  const flaky =
    (fn: string, run: (event: Record<string, any>) => unknown) =>
    (event: Record<string, any>, call: number) => {
      if (scenario.flaky && call % 2 === 0)
        return fail(TRANSIENT[(call / 2) % TRANSIENT.length]!, `${fn}: transient (scripted)`);
      return run(event);
    };
  flow.script
    .on(
      'flow-input',
      flaky('flow-input', (event) => {
        const planned = parseOrThrow(flowInputSchema('Update', CONTEXT), event.input) as Record<string, any>;
        return scenario.plan ? scenario.plan(planned) : planned;
      }),
    )
    .on(
      'health-check',
      flaky('health-check', (event) =>
        dispatch(
          'health-check',
          { ...DEFAULTS.health, ...scenario.health } as Record<string, Behaviour>,
          event.label,
          event,
        ),
      ),
    )
    .on(
      'update',
      flaky('update', (event) =>
        dispatch(
          'update',
          { ...DEFAULTS.update, ...scenario.update } as Record<string, Behaviour>,
          event.action,
          event,
        ),
      ),
    )
    .on(
      'rds-snapshot',
      flaky('rds-snapshot', (event) =>
        dispatch(
          'rds-snapshot',
          { ...DEFAULTS.snapshot, ...scenario.snapshot } as Record<string, Behaviour>,
          event.action,
          event,
        ),
      ),
    )
    .on(
      'rds-restore',
      flaky('rds-restore', (event) =>
        dispatch(
          'rds-restore',
          { ...DEFAULTS.restore, ...scenario.restore } as Record<string, Behaviour>,
          event.action,
          event,
        ),
      ),
    )
    .on(
      'report',
      flaky('report', (event) => {
        const record = runRecordSchema.parse(event);
        reports.push(record);
        return { severity: findings(record).severity, markdownKey: 'reports/Update/run.md' };
      }),
    );
}

const actions = (fn: string) => flow.script.eventsOf(fn).map((event) => event.action);
const healthLabels = () => flow.script.eventsOf('health-check').map((event) => event.label);
const onlyReport = () => {
  expect(reports).toHaveLength(1);
  return reports[0]!.update!;
};
/** The states entered, each once, in order of first entry (loops collapse). */
const distinct = (run: FlowRun) => [...new Set(run.states)];

const RDS_HAPPY = [
  'ValidateInput',
  'Begin',
  'PreUpdateHealth',
  'HealthyEnough?',
  'CaptureSettings',
  'CreateRollbackSnapshot',
  'RollbackSnapshotAvailable?',
  'StartSnapshotPoll',
  'WaitForRollbackSnapshot',
  'RollbackSnapshotStatus',
  'RollbackSnapshotPolled?',
  'RollbackPointTaken',
  'ApplyRdsChange',
  'StartChangePoll',
  'WaitForChange',
  'ChangeProgress',
  'ChangeApplied?',
  'NextChangePoll',
];

describe.sequential('update flow paths', () => {
  describe('happy paths', () => {
    it('applies an instance class change after a rollback point, holds health over the window and reports', async () => {
      script({ health: { 'post-update': () => healthOf('healthy', 'post-update') } });

      const run = await flow.run(CLASS_CHANGE);

      expect(run.status).toBe('SUCCEEDED');
      expect(distinct(run)).toEqual([
        ...RDS_HAPPY,
        'PostUpdateHealth',
        'CountStabilizationCheck',
        'Stable?',
        'WaitToStabilize',
        'DescribeSucceeded',
        'Report',
        'Succeeded?',
        'UpdateSucceeded',
      ]);
      // Two minutes of window: a check right away, then one a minute.
      expect(healthLabels()).toEqual(['pre-update', 'post-update', 'post-update', 'post-update']);
      expect(flow.script.eventsOf('health-check')[0]).toMatchObject({
        checks: { http: [{ name: 'api' }], tls: [], rds: [], queries: [], backupFreshness: false },
        executionId: run.executionArn,
      });
      expect(actions('update')).toEqual(['rds-capture', 'rds-apply', 'rds-progress', 'rds-progress']);
      expect(flow.script.eventsOf('rds-snapshot')[0]).toEqual({
        action: 'create',
        target: 'orders',
        executionId: run.executionArn,
        kind: 'rollback-point',
      });
      expect(flow.script.eventsOf('update')[1]).toMatchObject({
        action: 'rds-apply',
        change: { instanceClass: 'db.r6g.xlarge', allowMajorVersionUpgrade: false },
      });
      expect(onlyReport()).toMatchObject({
        outcome: 'succeeded',
        applied: true,
        rollbackPoint: { snapshotIdentifier: SNAPSHOT, takenAt: CAPTURED.capturedAt },
        health: { before: { status: 'healthy' }, after: { status: 'healthy' }, afterRollback: null },
        rollback: null,
      });
      expect(actions('rds-restore')).toEqual([]);
    });

    it('upgrades the engine version with the same rollback point, restoring nothing when it holds', async () => {
      script({ health: { 'post-update': () => healthOf('healthy', 'post-update') } });

      const run = await flow.run(ENGINE_CHANGE);

      expect(run.status).toBe('SUCCEEDED');
      expect(flow.script.eventsOf('update')[1]).toMatchObject({
        action: 'rds-apply',
        change: { engineVersion: '17.2', allowMajorVersionUpgrade: true },
      });
      expect(run.states.filter((s) => s === 'PostUpdateHealth')).toHaveLength(2);
      expect(actions('rds-restore')).toEqual([]);
      expect(onlyReport()).toMatchObject({
        outcome: 'succeeded',
        request: { change: { engineVersion: '17.2' } },
      });
    });

    it('shifts a canary step by step, baking and checking health after every step', async () => {
      script({ health: { 'canary-step': () => healthOf('healthy', 'canary-step') } });

      const run = await flow.run(CANARY);

      expect(run.status).toBe('SUCCEEDED');
      expect(run.states).toEqual([
        'ValidateInput',
        'Begin',
        'PreUpdateHealth',
        'HealthyEnough?',
        'CaptureAlias',
        'AliasRollbackPointTaken',
        ...['ShiftAlias', 'BakeStep', 'CanaryHealth', 'CanaryHeld?', 'NextCanaryStep'],
        ...['ShiftAlias', 'BakeStep', 'CanaryHealth', 'CanaryHeld?', 'NextCanaryStep'],
        ...['ShiftAlias', 'BakeStep', 'CanaryHealth', 'CanaryHeld?'],
        'DescribeSucceeded',
        'Report',
        'Succeeded?',
        'UpdateSucceeded',
      ]);
      expect(
        flow.script
          .eventsOf('update')
          .filter((e) => e.action === 'alias-shift')
          .map((e) => [e.step, e.originalVersion, e.functionName, e.steps]),
      ).toEqual([
        [0, '7', CHECKOUT, [10, 50, 100]],
        [1, '7', CHECKOUT, [10, 50, 100]],
        [2, '7', CHECKOUT, [10, 50, 100]],
      ]);
      expect(onlyReport()).toMatchObject({
        kind: 'lambda',
        outcome: 'succeeded',
        rollbackPoint: { originalVersion: '7', alias: 'version 7' },
        lastChange: { weight: 100 },
      });
    });
  });

  describe('abort before any change', () => {
    it('does not start when health is already unhealthy: no rollback point, no change, one critical report', async () => {
      script({ health: { 'pre-update': () => healthOf('unhealthy', 'pre-update') } });

      const run = await flow.run(CLASS_CHANGE);

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('UnhealthyError');
      expect(run.cause).toBe(
        'PreUpdateHealth failed (UnhealthyError: Health before the update is unhealthy): the update did not start and nothing was changed',
      );
      expect(run.states).toEqual([
        'ValidateInput',
        'Begin',
        'PreUpdateHealth',
        'HealthyEnough?',
        'AlreadyUnhealthy',
        'DescribeAborted',
        'Report',
        'Succeeded?',
        'UpdateFailed',
      ]);
      expect(flow.script.eventsOf('update')).toEqual([]);
      expect(flow.script.eventsOf('rds-snapshot')).toEqual([]);
      expect(onlyReport()).toMatchObject({ outcome: 'aborted', applied: false, rollbackPoint: null });
      expect(findings(reports[0]!).severity).toBe('critical');
    });

    it('proceeds from a degraded start, and a degraded result then counts as holding', async () => {
      script({
        health: {
          'pre-update': () => healthOf('degraded', 'pre-update'),
          'post-update': () => healthOf('degraded', 'post-update'),
        },
      });

      const run = await flow.run(CLASS_CHANGE);

      expect(run.status).toBe('SUCCEEDED');
      expect(findings(reports[0]!).severity).toBe('warning');
    });

    it('stops at the first state when the input is invalid, running nothing else', async () => {
      script();

      const run = await flow.run({ rds: { target: 'billing', change: {} } });

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('ValidationError');
      expect(run.cause).toMatch(/rds\.target: expected a configured RDS target \(orders\)/);
      expect(run.states).toEqual(['ValidateInput']);
      expect(reports).toEqual([]);
    });

    it('gives up waiting for the rollback snapshot at the attempt cap, changing nothing', async () => {
      script({
        plan: (plan) => ({
          ...plan,
          polls: { ...plan.polls, snapshot: { intervals: [1, 2], cap: 2, wait: 1, attempt: 1 } },
        }),
        snapshot: { status: () => ({ snapshotIdentifier: SNAPSHOT, status: 'creating', done: false }) },
      });

      const run = await flow.run(CLASS_CHANGE);

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('TimeoutExceededError');
      expect(run.cause).toMatch(
        /^WaitForRollbackSnapshot failed \(TimeoutExceededError: Rollback snapshot .* was still creating after 2 polls\)/,
      );
      expect(run.states.filter((s) => s === 'RollbackSnapshotStatus')).toHaveLength(2);
      expect(actions('update')).toEqual(['rds-capture']);
      expect(onlyReport()).toMatchObject({ outcome: 'aborted', applied: false });
    });
  });

  describe('rollbacks', () => {
    it('reverts a class change in place when health fails after it, checks health again and fails naming what it undid', async () => {
      script({
        health: {
          'post-update': (_e, n) => healthOf(n === 0 ? 'healthy' : 'unhealthy', 'post-update'),
          'after-rollback': () => healthOf('healthy', 'after-rollback'),
        },
      });

      const run = await flow.run(CLASS_CHANGE);

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('UnhealthyError');
      expect(run.cause).toBe(
        'PostUpdateHealth failed (UnhealthyError: Health after the update is unhealthy (before: healthy), at check 2 of 3 of the stabilisation window); rolled back (in-place): undid ["instance class of orders-prod: db.r6g.large → db.r6g.xlarge"]',
      );
      expect(distinct(run).slice(distinct(run).indexOf('PostUpdateUnhealthy'))).toEqual([
        'PostUpdateUnhealthy',
        'StartRollback',
        'StartRollbackCheckPoll',
        'CheckRdsRollback',
        'RdsRollbackDecision?',
        'StartRevertPoll',
        'RevertInPlace',
        'Reverted?',
        'NextRevertPoll',
        'WaitForRevert',
        'DescribeRolledBack',
        'HealthAfterRollback',
        'Report',
        'Succeeded?',
        'UpdateFailed',
      ]);
      const check = flow.script.eventsOf('update').find((e) => e.action === 'rds-rollback-check')!;
      expect(check).toMatchObject({ method: 'in-place', captured: CAPTURED, snapshotIdentifier: SNAPSHOT });
      expect(flow.script.eventsOf('update').filter((e) => e.action === 'rds-revert')[0]).toEqual({
        action: 'rds-revert',
        target: 'orders',
        change: { instanceClass: 'db.r6g.xlarge', allowMajorVersionUpgrade: false },
        captured: CAPTURED,
      });
      expect(actions('rds-restore')).toEqual([]);
      expect(onlyReport()).toMatchObject({
        outcome: 'rolled-back',
        failure: { step: 'PostUpdateHealth', error: 'UnhealthyError' },
        health: {
          before: { status: 'healthy' },
          after: { status: 'unhealthy' },
          afterRollback: { status: 'healthy' },
        },
        rollback: {
          method: 'in-place',
          status: 'done',
          changed: ['instance class of orders-prod: db.r6g.large → db.r6g.xlarge'],
        },
      });
      expect(findings(reports[0]!).failures[0]?.what).toMatch(
        /and was rolled back in place \(undid: instance class/,
      );
    });

    it('rolls an engine upgrade back by restoring the rollback snapshot and switching over, stating the writes it could not keep', async () => {
      script({
        health: {
          'post-update': () => healthOf('unhealthy', 'post-update'),
          'after-rollback': () => healthOf('healthy', 'after-rollback'),
        },
        update: {
          'rds-rollback-check': (event) => ({
            method: event.method,
            decision: 'revert',
            changed: ['engine version of orders-prod: 16.4 → 17.2'],
            conflicts: [],
            waitingFor: [],
            manualCommands: [],
          }),
        },
      });

      const run = await flow.run(ENGINE_CHANGE);

      expect(run.status).toBe('FAILED');
      expect(run.cause).toBe(
        `PostUpdateHealth failed (UnhealthyError: Health after the update is unhealthy (before: healthy), at check 1 of 2 of the stabilisation window); rolled back by restoring rollback snapshot ${SNAPSHOT} and switching over: orders-prod serves the rollback point again, the failed update is parked as orders-prod-old-20260310120000; writes between ${CAPTURED.capturedAt} and ${COMPLETED_AT} are only in orders-prod-old-20260310120000`,
      );
      expect(distinct(run).slice(distinct(run).indexOf('RdsRollbackDecision?'))).toEqual([
        'RdsRollbackDecision?',
        'RestoreRollbackPoint',
        'StartRestorePoll',
        'WaitForRestore',
        'RestoredStatus',
        'Restored?',
        'NextRestorePoll',
        'StartSwitchOverPoll',
        'SwitchOver',
        'SwitchedOver?',
        'NextSwitchOverPoll',
        'WaitForSwitchOver',
        'DescribeRestored',
        'HealthAfterRollback',
        'Report',
        'Succeeded?',
        'UpdateFailed',
      ]);
      expect(flow.script.eventsOf('rds-restore')[0]).toEqual({
        action: 'restore',
        target: 'orders',
        executionId: run.executionArn,
        snapshotIdentifier: SNAPSHOT,
        kind: 'rollback-point',
      });
      const switches = flow.script.eventsOf('rds-restore').filter((e) => e.action === 'switch-over');
      expect(switches).toHaveLength(3);
      expect(switches[0]).toMatchObject({
        restoredIdentifier: 'orders-prod-r1a2b3c4d',
        startedAt: expect.any(String),
      });
      expect(actions('update')).not.toContain('rds-revert');
      expect(onlyReport().rollback).toEqual({
        method: 'restore',
        status: 'done',
        changed: ['engine version of orders-prod: 16.4 → 17.2'],
        conflicts: [],
        manualCommands: [],
        snapshotIdentifier: SNAPSHOT,
        restoredIdentifier: 'orders-prod-r1a2b3c4d',
        parkedIdentifier: 'orders-prod-old-20260310120000',
        writeLossWindow: { from: CAPTURED.capturedAt, to: COMPLETED_AT },
      });
    });

    it('rolls a canary back to the original version when health fails at its second step', async () => {
      script({
        health: {
          'canary-step': (_e, n) => healthOf(n === 0 ? 'healthy' : 'degraded', 'canary-step'),
          'after-rollback': () => healthOf('healthy', 'after-rollback'),
        },
      });

      const run = await flow.run(CANARY);

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('UnhealthyError');
      expect(run.cause).toMatch(
        /^CanaryHealth failed \(UnhealthyError: Health with 50 % on version 8 is degraded \(before: healthy\)\); rolled back \(alias\)/,
      );
      expect(run.states.slice(run.states.indexOf('CanaryUnhealthy'))).toEqual([
        'CanaryUnhealthy',
        'StartRollback',
        'CheckAliasRollback',
        'AliasRollbackDecision?',
        'RollBackAlias',
        'DescribeRolledBack',
        'HealthAfterRollback',
        'Report',
        'Succeeded?',
        'UpdateFailed',
      ]);
      expect(actions('update')).toEqual([
        'alias-capture',
        'alias-shift',
        'alias-shift',
        'alias-rollback-check',
        'alias-rollback',
      ]);
      expect(flow.script.eventsOf('update').at(-1)).toEqual({
        action: 'alias-rollback',
        functionName: CHECKOUT,
        alias: 'live',
        originalVersion: '7',
        targetVersion: '8',
      });
      expect(onlyReport()).toMatchObject({
        outcome: 'rolled-back',
        lastChange: { weight: 50, step: 1 },
        rollback: { method: 'alias', status: 'done' },
      });
    });

    it('rolls back when the change is not applied within the attempt cap, waiting for the target to settle first', async () => {
      script({
        plan: (plan) => ({
          ...plan,
          polls: { ...plan.polls, modify: { intervals: [1, 2], cap: 2, wait: 1, attempt: 1 } },
        }),
        update: {
          'rds-progress': () => ({
            done: false,
            status: 'modifying',
            waitingFor: ['orders-prod is modifying'],
          }),
          'rds-rollback-check': (event, n) => ({
            ...(DEFAULTS.update['rds-rollback-check']!(event, n) as object),
            decision: n === 0 ? 'busy' : 'revert',
            waitingFor: n === 0 ? ['orders-prod is modifying'] : [],
          }),
        },
        health: { 'after-rollback': () => healthOf('healthy', 'after-rollback') },
      });

      const run = await flow.run(CLASS_CHANGE);

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('TimeoutExceededError');
      expect(run.cause).toMatch(
        /^WaitForChange failed \(TimeoutExceededError: The change was not applied after 2 polls; still waiting for \["orders-prod is modifying"\]\); rolled back \(in-place\)/,
      );
      expect(run.states.filter((s) => s === 'ChangeProgress')).toHaveLength(2);
      expect(run.states).toContain('WaitBeforeRollbackCheck');
      expect(actions('update').filter((a) => a === 'rds-rollback-check')).toHaveLength(2);
      expect(onlyReport()).toMatchObject({ outcome: 'rolled-back', health: { after: null } });
    });

    it('does not revert what someone else changed meanwhile: reports what it found and the exact commands', async () => {
      script({
        health: { 'post-update': () => healthOf('unhealthy', 'post-update') },
        update: {
          'rds-rollback-check': (event) => ({
            method: event.method,
            decision: 'conflict',
            changed: [],
            conflicts: [
              'instance class of orders-prod is db.r7g.2xlarge: neither db.r6g.large (the rollback point) nor db.r6g.xlarge (this update)',
            ],
            waitingFor: [],
            manualCommands: [
              'aws rds modify-db-instance --db-instance-identifier orders-prod --db-instance-class db.r6g.large --apply-immediately',
            ],
          }),
        },
      });

      const run = await flow.run(CLASS_CHANGE);

      expect(run.status).toBe('FAILED');
      expect(run.cause).toMatch(
        /and was NOT rolled back: someone else changed it meanwhile: \["instance class of orders-prod is db\.r7g\.2xlarge/,
      );
      expect(run.states.slice(run.states.indexOf('RdsRollbackDecision?'))).toEqual([
        'RdsRollbackDecision?',
        'DescribeRollbackRefused',
        'Report',
        'Succeeded?',
        'UpdateFailed',
      ]);
      expect(actions('update')).not.toContain('rds-revert');
      const update = onlyReport();
      expect(update).toMatchObject({ outcome: 'rollback-refused', rollback: { status: 'refused' } });
      expect(findings(reports[0]!).failures[0]?.action).toContain(
        '`aws rds modify-db-instance --db-instance-identifier orders-prod --db-instance-class db.r6g.large --apply-immediately`',
      );
    });

    it('does not roll back a canary alias someone else moved', async () => {
      script({
        health: { 'canary-step': () => healthOf('unhealthy', 'canary-step') },
        update: {
          'alias-rollback-check': () => ({
            method: 'alias',
            decision: 'conflict',
            changed: [],
            conflicts: [
              `alias live of ${CHECKOUT} points at version 9, which this update (version 7 → 8) did not set`,
            ],
            manualCommands: [],
          }),
        },
      });

      const run = await flow.run(CANARY);

      expect(run.states.slice(run.states.indexOf('AliasRollbackDecision?'))).toEqual([
        'AliasRollbackDecision?',
        'DescribeRollbackRefused',
        'Report',
        'Succeeded?',
        'UpdateFailed',
      ]);
      expect(actions('update')).not.toContain('alias-rollback');
      expect(onlyReport()).toMatchObject({ outcome: 'rollback-refused', rollback: { method: 'alias' } });
    });

    it('rolls back nothing when none of the change took effect', async () => {
      script({
        update: {
          'rds-apply': () =>
            fail(
              'PreconditionFailedError',
              'RDS refused the change to instance orders-prod: AllowMajorVersionUpgrade',
            ),
          'rds-rollback-check': (event) => ({
            method: event.method,
            decision: 'unchanged',
            changed: [],
            conflicts: [],
            waitingFor: [],
            manualCommands: [],
          }),
        },
      });

      const run = await flow.run(ENGINE_CHANGE);

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('PreconditionFailedError');
      expect(run.cause).toMatch(/none of the update had taken effect, so nothing was rolled back$/);
      expect(run.states.slice(run.states.indexOf('ApplyRdsChange'))).toEqual([
        'ApplyRdsChange',
        'ApplyRdsChangeFailed',
        'StartRollback',
        'StartRollbackCheckPoll',
        'CheckRdsRollback',
        'RdsRollbackDecision?',
        'DescribeNothingToRollBack',
        'Report',
        'Succeeded?',
        'UpdateFailed',
      ]);
      expect(actions('rds-restore')).toEqual([]);
      expect(onlyReport()).toMatchObject({ outcome: 'nothing-to-roll-back', applied: false });
    });

    it('says the rollback failed, and reports once, when the target never settles for it', async () => {
      script({
        plan: (plan) => ({
          ...plan,
          polls: { ...plan.polls, modify: { intervals: [1], cap: 1, wait: 1, attempt: 1 } },
        }),
        health: { 'post-update': () => healthOf('unhealthy', 'post-update') },
        update: {
          'rds-rollback-check': (event) => ({
            method: event.method,
            decision: 'busy',
            changed: [],
            conflicts: [],
            waitingFor: ['orders-prod is storage-optimization'],
            manualCommands: [],
          }),
        },
      });

      const run = await flow.run(CLASS_CHANGE);

      expect(run.cause).toMatch(
        /and the rollback \(in-place\) failed at CheckRdsRollback \(TimeoutExceededError: The target did not settle after 1 polls; still waiting for \["orders-prod is storage-optimization"\]\)/,
      );
      expect(run.states).toContain('RollbackCheckTimedOut');
      expect(onlyReport()).toMatchObject({
        outcome: 'rollback-failed',
        rollback: { status: 'failed', error: { step: 'CheckRdsRollback' } },
      });
    });

    it.each([
      [
        'the revert',
        'RevertTimedOut',
        {
          update: {
            'rds-revert': () => ({ done: false, sent: [], waitingFor: ['orders-prod is modifying'] }),
          },
        },
        CLASS_CHANGE,
      ],
      [
        'the restored copy',
        'RestoreTimedOut',
        { restore: { status: () => ({ done: false, status: 'creating' }) } },
        ENGINE_CHANGE,
      ],
      [
        'the switch-over',
        'SwitchOverTimedOut',
        {
          restore: {
            'switch-over': () => ({
              done: false,
              phase: 'renaming-source',
              oldIdentifier: 'o',
              sourceIdentifier: 's',
              restoredIdentifier: 'r',
            }),
          },
        },
        ENGINE_CHANGE,
      ],
    ] as const)(
      'says the rollback failed when %s does not finish within the attempt cap',
      async (_what, state, behaviour, input) => {
        script({
          ...(behaviour as Scenario),
          plan: (plan) => ({
            ...plan,
            polls: Object.fromEntries(
              Object.keys(plan.polls).map((k) => [k, { intervals: [1, 1], cap: 2, wait: 1, attempt: 1 }]),
            ),
          }),
          snapshot: { create: () => ({ snapshotIdentifier: SNAPSHOT, status: 'available' }) },
          update: {
            ...DEFAULTS.update,
            'rds-progress': () => ({ done: true, status: 'available', waitingFor: [] }),
            ...(behaviour as Scenario).update,
          },
          health: { 'post-update': () => healthOf('unhealthy', 'post-update') },
        });

        const run = await flow.run(input);

        expect(run.status).toBe('FAILED');
        expect(run.states).toContain(state);
        expect(run.states.slice(-5)).toEqual([
          'DescribeRollbackFailed',
          'HealthAfterRollback',
          'Report',
          'Succeeded?',
          'UpdateFailed',
        ]);
        expect(onlyReport()).toMatchObject({
          outcome: 'rollback-failed',
          rollback: { status: 'failed', error: { error: 'TimeoutExceededError' } },
        });
      },
    );
  });

  describe('every Catch', () => {
    const failing = (message: string) => () => fail('AccessDeniedError', message);
    it.each([
      ['PreUpdateHealth', CLASS_CHANGE, { health: { 'pre-update': failing('no rds:Describe') } }, 'aborted'],
      [
        'CaptureSettings',
        CLASS_CHANGE,
        { update: { 'rds-capture': failing('no rds:DescribeDBInstances') } },
        'aborted',
      ],
      [
        'CreateRollbackSnapshot',
        CLASS_CHANGE,
        { snapshot: { create: failing('no rds:CreateDBSnapshot') } },
        'aborted',
      ],
      [
        'RollbackSnapshotStatus',
        CLASS_CHANGE,
        { snapshot: { status: failing('no rds:DescribeDBSnapshots') } },
        'aborted',
      ],
      ['CaptureAlias', CANARY, { update: { 'alias-capture': failing('no lambda:GetAlias') } }, 'aborted'],
      [
        'ApplyRdsChange',
        CLASS_CHANGE,
        { update: { 'rds-apply': failing('no rds:ModifyDBInstance') } },
        'rolled-back',
      ],
      [
        'ChangeProgress',
        CLASS_CHANGE,
        { update: { 'rds-progress': failing('no rds:DescribeDBInstances') } },
        'rolled-back',
      ],
      [
        'PostUpdateHealth',
        CLASS_CHANGE,
        { health: { 'post-update': failing('no secretsmanager:GetSecretValue') } },
        'rolled-back',
      ],
      ['ShiftAlias', CANARY, { update: { 'alias-shift': failing('no lambda:UpdateAlias') } }, 'rolled-back'],
      [
        'CanaryHealth',
        CANARY,
        { health: { 'canary-step': failing('no secretsmanager:GetSecretValue') } },
        'rolled-back',
      ],
    ] as const)('catches a failure of %s', async (state, input, behaviour, outcome) => {
      script({
        ...(behaviour as Scenario),
        health: {
          'post-update': () => healthOf('healthy', 'post-update'),
          'canary-step': () => healthOf('healthy', 'canary-step'),
          ...(behaviour as Scenario).health,
        },
      });

      const run = await flow.run(input);

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('AccessDeniedError');
      expect(run.states).toContain(state);
      expect(onlyReport()).toMatchObject({ outcome, failure: { error: 'AccessDeniedError' } });
      if (outcome === 'aborted') {
        expect(actions('update').filter((a) => a === 'rds-apply' || a === 'alias-shift')).toEqual([]);
      }
    });

    it.each([
      [
        'CheckRdsRollback',
        CLASS_CHANGE,
        { update: { 'rds-rollback-check': () => fail('AccessDeniedError', 'no rds:Describe') } },
      ],
      [
        'RevertInPlace',
        CLASS_CHANGE,
        {
          update: {
            'rds-revert': () => fail('PreconditionFailedError', 'someone changed it during the rollback'),
          },
        },
      ],
      [
        'RestoreRollbackPoint',
        ENGINE_CHANGE,
        { restore: { restore: () => fail('QuotaExceededError', 'DB instances') } },
      ],
      [
        'RestoredStatus',
        ENGINE_CHANGE,
        { restore: { status: () => fail('PreconditionFailedError', 'incompatible-parameters') } },
      ],
      [
        'SwitchOver',
        ENGINE_CHANGE,
        {
          restore: {
            'switch-over': () => fail('PreconditionFailedError', 'the parking name O is already taken'),
          },
        },
      ],
      [
        'CheckAliasRollback',
        CANARY,
        { update: { 'alias-rollback-check': () => fail('AccessDeniedError', 'no lambda:GetAlias') } },
      ],
      [
        'RollBackAlias',
        CANARY,
        { update: { 'alias-rollback': () => fail('PreconditionFailedError', 'moved meanwhile') } },
      ],
    ] as const)(
      'reports the rollback failing at %s and ends failed with the update’s error',
      async (state, input, behaviour) => {
        script({
          ...(behaviour as Scenario),
          health: {
            'post-update': () => healthOf('unhealthy', 'post-update'),
            'canary-step': () => healthOf('unhealthy', 'canary-step'),
            'after-rollback': () => healthOf('unhealthy', 'after-rollback'),
          },
          update: {
            ...DEFAULTS.update,
            'rds-rollback-check': (event, n) => ({
              ...(DEFAULTS.update['rds-rollback-check']!(event, n) as object),
              changed: ['engine version of orders-prod: 16.4 → 17.2'],
            }),
            ...(behaviour as Scenario).update,
          },
        });

        const run = await flow.run(input);

        expect(run.status).toBe('FAILED');
        expect(run.error).toBe('UnhealthyError');
        expect(run.states).toContain(`${state}Failed`);
        expect(run.cause).toMatch(
          new RegExp(`the rollback \\((in-place|restore|alias)\\) failed at ${state} `),
        );
        const update = onlyReport();
        expect(update).toMatchObject({
          outcome: 'rollback-failed',
          rollback: { status: 'failed', error: { step: state } },
        });
        expect(update.health.afterRollback?.status).toBe('unhealthy');
        expect(
          findings(reports[0]!)
            .failures.map((f) => f.what)
            .at(-1),
        ).toMatch(/^Health after the rollback is still unhealthy/);
      },
    );

    it('still reports when health cannot be checked after the rollback', async () => {
      script({
        health: {
          'post-update': () => healthOf('unhealthy', 'post-update'),
          'after-rollback': () => fail('AccessDeniedError', 'no secretsmanager:GetSecretValue'),
        },
      });

      const run = await flow.run(CLASS_CHANGE);

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('UnhealthyError');
      expect(run.states.slice(-4)).toEqual(['HealthAfterRollback', 'Report', 'Succeeded?', 'UpdateFailed']);
      expect(onlyReport()).toMatchObject({ outcome: 'rolled-back', health: { afterRollback: null } });
    });
  });

  describe('every Retry', () => {
    it('retries each step of an RDS update and its in-place rollback once after a transient error', async () => {
      script({
        flaky: true,
        health: {
          'post-update': () => healthOf('unhealthy', 'post-update'),
          'after-rollback': () => healthOf('healthy', 'after-rollback'),
        },
      });

      const run = await flow.run(CLASS_CHANGE);

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('UnhealthyError');
      expect(onlyReport()).toMatchObject({ outcome: 'rolled-back', rollback: { method: 'in-place' } });
      // Every call was made twice: once failing, once answered.
      expect(actions('update')).toEqual(
        [
          'rds-capture',
          'rds-apply',
          'rds-progress',
          'rds-progress',
          'rds-rollback-check',
          'rds-revert',
          'rds-revert',
        ].flatMap((a) => [a, a]),
      );
    });

    it('retries each step of a restore-based rollback once after a transient error', async () => {
      script({
        flaky: true,
        health: {
          'post-update': () => healthOf('unhealthy', 'post-update'),
          'after-rollback': () => healthOf('healthy', 'after-rollback'),
        },
      });

      const run = await flow.run(ENGINE_CHANGE);

      expect(run.status).toBe('FAILED');
      expect(onlyReport()).toMatchObject({
        outcome: 'rolled-back',
        rollback: { method: 'restore', status: 'done' },
      });
      expect(actions('rds-restore')).toEqual(
        ['restore', 'status', 'status', 'switch-over', 'switch-over', 'switch-over'].flatMap((a) => [a, a]),
      );
    });

    it('retries each step of a canary and its rollback once after a transient error', async () => {
      script({
        flaky: true,
        health: {
          'canary-step': () => healthOf('unhealthy', 'canary-step'),
          'after-rollback': () => healthOf('healthy', 'after-rollback'),
        },
      });

      const run = await flow.run(CANARY);

      expect(run.status).toBe('FAILED');
      expect(onlyReport()).toMatchObject({ outcome: 'rolled-back', rollback: { method: 'alias' } });
      expect(actions('update')).toEqual(
        ['alias-capture', 'alias-shift', 'alias-rollback-check', 'alias-rollback'].flatMap((a) => [a, a]),
      );
    });
  });

  it('has exercised every Catch and Retry rule of the file', () => {
    expect(flow.untriedCatches()).toEqual([]);
    expect(flow.untriedRetries()).toEqual([]);
  });
});
