import { describe, expect, it } from 'vitest';
import { backupSet, disasterRecovery, healthChecks, rdsTarget } from '#common/config/config-sections';
import type { FlowContext } from '#common/flows/context';
import type { DisasterRecoveryPlan } from '#common/flows/disaster-recovery-input';
import { flowInputSchema } from '#common/flows/inputs';
import { POLL_SHAPES, pollSchedule } from '#common/flows/polling';
import { ValidationError } from '#common/runtime/errors';
import { parseOrThrow } from '#common/runtime/validation';

const SECRET = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:orders-ro';

function contextWith(overrides: Partial<FlowContext> = {}): FlowContext {
  return {
    environmentName: 'prod',
    backupSets: [
      backupSet.parse({ name: 'uploads', sourceBucket: 'app-uploads', prefix: 'uploads/', retention: 'std' }),
      backupSet.parse({ name: 'invoices', sourceBucket: 'app-invoices', prefix: '', retention: 'std' }),
    ],
    rdsTargets: [
      rdsTarget.parse({
        name: 'orders',
        identifier: 'orders-prod',
        retention: 'std',
        crossRegionCopy: {
          region: 'eu-west-1',
          kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        },
      }),
      rdsTarget.parse({ name: 'ledger', type: 'cluster', identifier: 'ledger', retention: 'std' }),
    ],
    lambdaFunctions: [],
    healthChecks: healthChecks.parse({
      http: [{ name: 'api', url: 'https://api.example.com/health' }],
      rds: [{ name: 'orders-db', identifier: 'orders-prod' }],
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
    ...overrides,
  };
}

function plan(input: unknown, context = contextWith()): DisasterRecoveryPlan {
  return parseOrThrow(flowInputSchema('DisasterRecovery', context), input) as DisasterRecoveryPlan;
}

function problems(input: unknown, context = contextWith()): string[] {
  try {
    plan(input, context);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('DisasterRecovery input: drill', () => {
  it('plans every configured target and set for the scheduled {"mode": "drill"}', () => {
    const drill = plan({ mode: 'drill' });

    expect(drill.databases.map((db) => db.target)).toEqual(['orders', 'ledger']);
    expect(drill.backups.map((set) => set.set)).toEqual(['uploads', 'invoices']);
    expect(drill).toMatchObject({ mode: 'drill', region: null, teardown: true, environment: 'prod' });
  });

  it("points each target's configured query checks at the restored copy, without their target name", () => {
    const [orders, ledger] = plan({ mode: 'drill' }).databases;

    expect(orders!.queries).toEqual([
      {
        name: 'orders-rows',
        database: 'orders',
        user: 'reader',
        passwordSecretArn: SECRET,
        query: 'SELECT count(*) FROM orders',
        minRows: 1,
        timeoutMs: 5000,
      },
    ]);
    expect(ledger!.queries).toEqual([]);
  });

  it('restores each set under restorePrefix<set>/ of the restore bucket', () => {
    expect(plan({ mode: 'drill', backupSets: ['uploads'] }).backups).toEqual([
      { set: 'uploads', backupId: null, targetBucket: 'dr-restores', targetPrefix: 'dr-restore/uploads/' },
    ]);
  });

  it('restores in the DR region with the DR instance class when both are configured', () => {
    const context = contextWith({
      disasterRecovery: disasterRecovery.parse({ region: 'eu-west-1', instanceClass: 'db.t4g.medium' }),
    });

    const drill = plan({ mode: 'drill', rdsTargets: ['orders'], backupSets: [] }, context);

    expect(drill.region).toBe('eu-west-1');
    expect(drill.databases[0]).toMatchObject({
      region: 'eu-west-1',
      overrides: { instanceClass: 'db.t4g.medium' },
    });
  });

  it('refuses a drill in the DR region of a target whose snapshots are not copied there', () => {
    const context = contextWith({ disasterRecovery: disasterRecovery.parse({ region: 'eu-west-1' }) });

    expect(problems({ mode: 'drill', backupSets: [] }, context)).toEqual([
      'rdsTargets: a drill restores ledger from its copy in disasterRecovery.region eu-west-1, but rdsTargets.ledger.crossRegionCopy is not set',
    ]);
  });

  it('takes the recovery points it is given, for the targets and sets it recovers', () => {
    const drill = plan({
      mode: 'drill',
      recoveryPoints: {
        snapshots: { orders: 'caretaker-orders-0123456789ab-snapshot' },
        backups: { uploads: '20260101T020000Z-0a1b2c3d' },
      },
    });

    expect(drill.databases[0]!.snapshotIdentifier).toBe('caretaker-orders-0123456789ab-snapshot');
    expect(drill.databases[1]!.snapshotIdentifier).toBeNull();
    expect(drill.backups[0]!.backupId).toBe('20260101T020000Z-0a1b2c3d');
  });

  it('refuses a recovery point for something it does not recover, and malformed ids', () => {
    expect(
      problems({
        mode: 'drill',
        rdsTargets: ['ledger'],
        recoveryPoints: { snapshots: { orders: 'snap-1' }, backups: { uploads: 'yesterday' } },
      }),
    ).toEqual([
      'recoveryPoints.backups.uploads: expected a backup id (yyyyMMddTHHmmssZ-<8 hex>)',
      'recoveryPoints.snapshots.orders: orders is not among the RDS targets recovered',
    ]);
  });

  it('refuses confirm on a drill, unknown names, duplicates and unknown fields', () => {
    expect(
      problems({ mode: 'drill', confirm: 'prod', rdsTargets: ['orders', 'orders', 'billing'], force: true }),
    ).toEqual([
      'rdsTargets[2]: expected a configured RDS target (orders, ledger)',
      'force: unknown field',
      'rdsTargets: names orders twice',
      'confirm: only a failover takes confirm (a drill changes nothing in production)',
    ]);
  });

  it('refuses to restore a set inside the data it backs up', () => {
    const context = contextWith({ disasterRecovery: disasterRecovery.parse({}) });

    expect(problems({ mode: 'drill', rdsTargets: [] }, context)).toEqual([
      'backupSets: invoices would be restored into s3://app-invoices/dr-restore/invoices/, inside the data it backs up (s3://app-invoices/): set disasterRecovery.restoreBucket or restorePrefix',
    ]);
  });

  it('refuses a drill with nothing to recover', () => {
    expect(problems({ mode: 'drill' }, contextWith({ rdsTargets: [], backupSets: [] }))).toEqual([
      'rdsTargets: nothing to recover: no RDS target or backup set is configured or named',
    ]);
  });

  it('carries the restore, rename and delete poll schedules', () => {
    expect(plan({ mode: 'drill' }).poll).toEqual({
      restore: pollSchedule(POLL_SHAPES.restore),
      rename: pollSchedule(POLL_SHAPES.rename),
      delete: pollSchedule(POLL_SHAPES.delete),
    });
  });
});

describe('DisasterRecovery input: failover', () => {
  it('plans a confirmed failover of what it names, in the stack region, never tearing down', () => {
    const context = contextWith({ disasterRecovery: disasterRecovery.parse({ region: 'eu-west-1' }) });

    const failover = plan({ mode: 'failover', rdsTargets: ['orders'], confirm: 'prod' }, context);

    expect(failover).toMatchObject({ mode: 'failover', region: null, teardown: false, backups: [] });
    expect(failover.databases.map((db) => [db.target, db.region])).toEqual([['orders', null]]);
  });

  it('re-checks the configured service checks after the switch-over, without freshness', () => {
    const { recheck } = plan({ mode: 'failover', rdsTargets: ['orders'], confirm: 'prod' });

    expect(recheck.backupFreshness).toBe(false);
    expect(recheck.http.map((c) => c.name)).toEqual(['api']);
    expect(recheck.rds.map((c) => c.name)).toEqual(['orders-db']);
    expect(recheck.queries.map((c) => [c.name, c.rdsTarget])).toEqual([['orders-rows', 'orders']]);
  });

  it('requires the environment name as confirm, so a copied drill input cannot fail over', () => {
    expect(problems({ mode: 'failover', rdsTargets: ['orders'] })).toEqual([
      'confirm: a failover switches production over: confirm it with "confirm": "prod" (the environment\'s name)',
    ]);
    expect(problems({ mode: 'failover', rdsTargets: ['orders'], confirm: 'staging' })).toEqual([
      'confirm: expected the environment\'s name "prod"',
    ]);
  });

  it('cannot be confirmed when flow-input does not know the environment name', () => {
    expect(
      problems(
        { mode: 'failover', rdsTargets: ['orders'], confirm: '' },
        contextWith({ environmentName: '' }),
      ),
    ).toEqual(['confirm: expected the environment\'s name ""']);
  });

  it('must name what it fails over: there is no default', () => {
    expect(problems({ mode: 'failover', confirm: 'prod' })).toEqual([
      'rdsTargets: a failover must name what it fails over (rdsTargets and/or backupSets); there is no default',
      'rdsTargets: nothing to recover: no RDS target or backup set is configured or named',
    ]);
  });
});
