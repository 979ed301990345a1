import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { backupSet, rdsTarget } from '#common/config/config-sections';
import type { FlowContext } from '#common/flows/context';
import { flowInputSchema } from '#common/flows/inputs';
import { POLL_SHAPES, pollSchedule } from '#common/flows/polling';
import { routineMaintenanceFlowInput } from '#common/flows/routine-maintenance-input';
import { ValidationError } from '#common/runtime/errors';
import { parseOrThrow } from '#common/runtime/validation';
import { maintenanceWindowSchema } from '#common/time/maintenance-window';
import { flowContext } from '../../../../support/flow-context.ts';

const context: FlowContext = flowContext({
  environmentName: 'prod',
  backupSets: [
    backupSet.parse({
      name: 'uploads',
      sourceBucket: 'app-uploads',
      prefix: 'uploads/',
      retention: 'standard',
      verifySubset: '1/7',
    }),
  ],
  rdsTargets: [
    rdsTarget.parse({ name: 'orders', identifier: 'orders-prod', retention: 'standard' }),
    rdsTarget.parse({
      name: 'billing',
      identifier: 'billing-prod',
      retention: 'standard',
      crossRegionCopy: {
        region: 'eu-west-1',
        kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
    }),
  ],
});

function problems(flow: 'Backup' | 'Cleanup' | 'RoutineMaintenance', input: unknown): string[] {
  try {
    parseOrThrow(flowInputSchema(flow, context), input);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('Cleanup input', () => {
  it('requires dryRun, so no input means nothing is deleted', () => {
    expect(problems('Cleanup', {})).toEqual([
      'dryRun: expected boolean, received nothing (the field is missing)',
    ]);
  });

  it('refuses an unknown field instead of ignoring it', () => {
    expect(problems('Cleanup', { dryRun: false, dryrun: true })).toEqual(['dryrun: unknown field']);
  });

  it('accepts a dry run', () => {
    expect(parseOrThrow(flowInputSchema('Cleanup', context), { dryRun: true })).toEqual({ dryRun: true });
  });
});

describe('Backup input', () => {
  it('plans a configured set as configured, with its verify subset', () => {
    expect(parseOrThrow(flowInputSchema('Backup', context), { set: 'uploads' })).toEqual({
      set: {
        name: 'uploads',
        sourceBucket: 'app-uploads',
        prefix: 'uploads/',
        mode: 'incremental',
        fullEvery: 7,
      },
      forceFull: false,
      verifySubset: '1/7',
      backupId: null,
      timeBudgetMs: null,
      nested: false,
      startedBy: null,
    });
  });

  it('says the run is nested when another execution started it, so the flow leaves reporting to it', () => {
    const parent =
      'arn:aws:states:eu-central-1:111122223333:execution:Caretaker-prod-RoutineMaintenance:nightly';

    expect(
      parseOrThrow(flowInputSchema('Backup', context), {
        set: 'uploads',
        AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: parent,
      }),
    ).toMatchObject({ nested: true, startedBy: parent });
  });

  it('refuses a started-by value that is not an execution ARN', () => {
    expect(problems('Backup', { set: 'uploads', AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: 'me' })).toEqual([
      'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: expected a Step Functions execution ARN',
    ]);
  });

  it('lets a run choose what to verify and force a full backup', () => {
    expect(
      parseOrThrow(flowInputSchema('Backup', context), {
        set: 'uploads',
        verifySubset: 'all',
        forceFull: true,
      }),
    ).toMatchObject({ verifySubset: 'all', forceFull: true });
  });

  it('refuses a set that is not configured, listing the configured ones', () => {
    expect(problems('Backup', { set: 'other' })).toEqual(['set: expected a configured backup set (uploads)']);
  });

  it('names every bad field at once', () => {
    expect(problems('Backup', { set: 'uploads', backupId: 'latest', verifySubset: '8/7', extra: 1 })).toEqual(
      [
        'verifySubset: expected 1 <= n <= t in "n/t"',
        'backupId: expected a backup id (yyyyMMddTHHmmssZ-<8 hex>)',
        'extra: unknown field',
      ],
    );
  });
});

describe('RoutineMaintenance input', () => {
  it('plans every configured set and target for the schedule, with each DR region and the poll schedules', () => {
    expect(parseOrThrow(flowInputSchema('RoutineMaintenance', context), {})).toEqual({
      backupSets: ['uploads'],
      rdsTargets: [
        { name: 'orders', copyRegion: null },
        { name: 'billing', copyRegion: 'eu-west-1' },
      ],
      poll: {
        snapshot: pollSchedule(POLL_SHAPES.snapshot),
        snapshotCopy: pollSchedule(POLL_SHAPES.snapshotCopy),
      },
      databaseTargets: [],
      window: expect.objectContaining({ enforced: false, description: null }),
    });
  });

  it('keeps a scheduled run to the maintenance window: each kind of task gets its deadline', () => {
    const windowed = flowContext({
      ...context,
      maintenanceWindow: maintenanceWindowSchema
        .extend({ timeZone: z.string() })
        .parse({ start: '02:00', durationMinutes: 240, timeZone: 'Europe/Berlin' }),
    });
    const schema = routineMaintenanceFlowInput(windowed, () => new Date('2026-11-21T01:05:00Z'));

    const planned = parseOrThrow(schema, { scheduled: true });

    expect(planned.window).toMatchObject({
      enforced: true,
      opensAt: '2026-11-21T01:00:00.000Z',
      closesAt: '2026-11-21T05:00:00.000Z',
      deadlines: {
        backup: '2026-11-21T04:00:00.000Z',
        snapshot: '2026-11-21T04:30:00.000Z',
        databaseMaintenance: '2026-11-21T04:30:00.000Z',
      },
    });
  });

  it('maintains the databases of the run’s targets only', () => {
    const maintained = flowContext({ ...context, databaseMaintenance: ['orders', 'billing'] });

    const planned = parseOrThrow(flowInputSchema('RoutineMaintenance', maintained), {
      rdsTargets: ['billing'],
    });

    expect(planned).toMatchObject({ databaseTargets: ['billing'] });
  });

  it('runs only the named subset, an empty list meaning none', () => {
    expect(
      parseOrThrow(flowInputSchema('RoutineMaintenance', context), {
        backupSets: [],
        rdsTargets: ['billing'],
      }),
    ).toMatchObject({ backupSets: [], rdsTargets: [{ name: 'billing', copyRegion: 'eu-west-1' }] });
  });

  it('refuses names that are not configured, named twice, or unknown fields', () => {
    expect(
      problems('RoutineMaintenance', {
        backupSets: ['uploads', 'uploads'],
        rdsTargets: ['ledger'],
        sets: [],
      }),
    ).toEqual([
      'backupSets[1]: backup set uploads is named twice',
      'rdsTargets[0]: expected a configured RDS target (orders, billing)',
      'sets: unknown field',
    ]);
  });
});
