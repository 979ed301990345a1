import { describe, expect, it } from 'vitest';
import { healthChecks } from '#common/config/config-sections';
import type { FlowContext } from '#common/flows/context';
import { flowInputSchema } from '#common/flows/inputs';
import { pollSchedules } from '#common/flows/polling';
import { updateFlowInput } from '#common/flows/update-input';
import { ValidationError } from '#common/runtime/errors';
import { parseOrThrow } from '#common/runtime/validation';
import { maintenanceWindowSchema } from '#common/time/maintenance-window';
import { flowContext } from '../../../../support/flow-context.ts';

const ARN = 'arn:aws:lambda:eu-central-1:111122223333:function:checkout';

const context: FlowContext = flowContext({
  backupSets: [],
  rdsTargets: [
    { name: 'orders', type: 'instance', identifier: 'orders-prod', retention: 'standard', rpo: 'PT26H' },
  ],
  lambdaFunctions: [ARN],
  healthChecks: healthChecks.parse({
    http: [{ name: 'api', url: 'https://api.example.com/health' }],
    rds: [{ name: 'orders-db', identifier: 'orders-prod' }],
  }),
});

const plan = (input: unknown, given: FlowContext = context) =>
  parseOrThrow(flowInputSchema('Update', given), input) as Record<string, any>;

function problems(input: unknown, given: FlowContext = context): string[] {
  try {
    plan(input, given);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('Update input: RDS changes', () => {
  it('plans an in-place rollback for a class change, with a check a minute over the window', () => {
    const planned = plan({
      rds: { target: 'orders', change: { instanceClass: 'db.r6g.xlarge' } },
      stabilizationMinutes: 3,
    });

    expect(planned).toMatchObject({
      kind: 'rds',
      rds: {
        target: 'orders',
        type: 'instance',
        identifier: 'orders-prod',
        change: { instanceClass: 'db.r6g.xlarge', allowMajorVersionUpgrade: false },
      },
      rollbackMethod: 'in-place',
      lambda: null,
      stabilization: { rounds: 4, round: 0, intervalSeconds: 60 },
      request: { target: 'orders', stabilizationMinutes: 3, healthChecks: ['api', 'orders-db'] },
    });
  });

  it('plans a restore of the rollback snapshot as soon as an engine version is part of the change', () => {
    const planned = plan({
      rds: { target: 'orders', change: { engineVersion: '17.2', instanceClass: 'db.r6g.xlarge' } },
    });

    expect(planned.rollbackMethod).toBe('restore');
    expect(planned.stabilization.rounds).toBe(11);
  });

  it('carries the poll schedules the flow waits with', () => {
    const polls = pollSchedules();

    expect(plan({ rds: { target: 'orders', change: { parameterGroup: 'orders-v2' } } }).polls).toEqual({
      snapshot: polls.snapshot,
      modify: polls.modify,
      restore: polls.restore,
      rename: polls.rename,
    });
  });

  it('runs only the named health checks, and never the backup freshness checks', () => {
    const planned = plan({
      rds: { target: 'orders', change: { instanceClass: 'db.r6g.xlarge' } },
      healthChecks: ['orders-db'],
    });

    expect(planned.health).toEqual({
      names: ['orders-db'],
      checks: {
        http: [],
        tls: [],
        rds: [{ name: 'orders-db', type: 'instance', identifier: 'orders-prod' }],
        queries: [],
        backupFreshness: false,
      },
    });
  });

  it('names every bad field at once, with the update function’s own messages for the change', () => {
    expect(
      problems({
        rds: { target: 'billing', change: { instanceClass: 'r6g.large' } },
        stabilizationMinutes: -1,
        healthChecks: ['nope'],
        dryRun: true,
      }),
    ).toEqual([
      'rds.target: expected a configured RDS target (orders)',
      'rds.change.instanceClass: expected an instance class such as db.r6g.large',
      'stabilizationMinutes: Too small: expected number to be >=0',
      'healthChecks[0]: expected a configured health check (api, orders-db)',
      'dryRun: unknown field',
    ]);
  });
});

describe('Update input: Lambda canaries', () => {
  it('takes a configured function by name and plans it by its ARN, with the default steps and bake time', () => {
    const planned = plan({ lambda: { functionName: 'checkout', alias: 'live', targetVersion: '8' } });

    expect(planned).toMatchObject({
      kind: 'lambda',
      rds: null,
      stabilization: null,
      rollbackMethod: 'alias',
      lambda: {
        functionName: ARN,
        alias: 'live',
        targetVersion: '8',
        steps: [5, 25, 50, 100],
        bakeSeconds: 300,
        step: 0,
      },
    });
  });

  it('refuses a function that is not configured, bad steps and a stabilisation window (canaries bake per step)', () => {
    expect(
      problems({
        lambda: { functionName: 'payments', alias: 'live', targetVersion: '8', steps: [50, 10] },
        stabilizationMinutes: 5,
      }),
    ).toEqual([
      'lambda.functionName: expected a function of updates.lambdaFunctions (checkout)',
      'lambda.steps: expected ascending weights',
      'lambda.steps: expected the last weight to be 100',
      'stabilizationMinutes: applies to RDS changes; a canary checks health after each step (lambda.bakeMinutes)',
    ]);
  });
});

describe('Update input: what it is about', () => {
  it('asks for exactly one update', () => {
    expect(problems({})).toEqual([
      'rds: expected exactly one of rds (an RDS change) and lambda (an alias canary)',
    ]);
    expect(
      problems({
        rds: { target: 'orders', change: { instanceClass: 'db.r6g.xlarge' } },
        lambda: { functionName: 'checkout', alias: 'live', targetVersion: '8' },
      }),
    ).toEqual(['lambda: expected exactly one of rds (an RDS change) and lambda (an alias canary)']);
  });

  it('does not start an update that no health check could judge', () => {
    expect(
      problems(
        { rds: { target: 'orders', change: { instanceClass: 'db.r6g.xlarge' } } },
        { ...context, healthChecks: healthChecks.parse({}) },
      ),
    ).toEqual([expect.stringMatching(/^healthChecks: no health check is configured/)]);
  });
});

describe('Update input: the maintenance window', () => {
  const windowed = flowContext({
    ...context,
    maintenanceWindow: {
      ...maintenanceWindowSchema.parse({ start: '02:00', durationMinutes: 120 }),
      timeZone: 'UTC',
    },
  });
  const input = { rds: { target: 'orders', change: { instanceClass: 'db.r6g.xlarge' } } };
  const checkAt = (iso: string, given: unknown) => {
    try {
      parseOrThrow(
        updateFlowInput(windowed, () => new Date(iso)),
        given,
      );
      return [];
    } catch (error) {
      if (error instanceof ValidationError) return error.problems.map((p) => `${p.path}: ${p.message}`);
      throw error;
    }
  };

  it('refuses to start outside the window, saying when it opens and how to force it', () => {
    expect(checkAt('2026-11-21T09:15:00Z', input)).toEqual([
      'force: the maintenance window (02:00 for 120 min, UTC) is closed at 09:15; it next opens at 02:00 UTC (2026-11-22T02:00:00.000Z). Start then, or give "force": true to update now',
    ]);
  });

  it('starts inside the window, and outside it with force', () => {
    expect(checkAt('2026-11-21T03:59:00Z', input)).toEqual([]);
    expect(checkAt('2026-11-21T09:15:00Z', { ...input, force: true })).toEqual([]);
  });

  it('starts at any time when no window is configured', () => {
    expect(problems(input)).toEqual([]);
  });
});
