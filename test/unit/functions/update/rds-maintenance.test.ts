/**
 * Pending maintenance applied as an update: which actions are chosen, what one step applies or
 * waits for, and what the rollback sees as applied. Pure, no mocks.
 */
import { describe, expect, it } from 'vitest';
import { rollbackMethodOf } from '#common/flows/update-input';
import type { CapturedSettings, MaintenanceItem, RdsChange } from '../../../../functions/update/input.ts';
import { rdsChangeSchema } from '../../../../functions/update/input.ts';
import type { ChangeState } from '../../../../functions/update/rds-change.ts';
import { chosenActions, maintenanceStep } from '../../../../functions/update/rds-maintenance.ts';
import {
  assessRollback,
  maintenanceApplied,
  manualCommands,
} from '../../../../functions/update/rollback-decision.ts';

const ARN = 'arn:aws:rds:eu-central-1:111122223333';
const item = (identifier: string, action: string, extra: Partial<MaintenanceItem> = {}): MaintenanceItem => ({
  resourceArn: `${ARN}:${identifier === 'ledger' ? 'cluster' : 'db'}:${identifier}`,
  identifier,
  action,
  security: action !== 'db-upgrade' && action !== 'hardware-maintenance',
  ...extra,
});

const instance = (status = 'available', engineVersion = '16.3'): ChangeState => ({
  type: 'instance',
  identifier: 'orders-db',
  status,
  engineVersion,
  members: [{ identifier: 'orders-db', status, instanceClass: 'db.r6g.large' }],
});

const cluster = (writer = 'available', reader = 'available'): ChangeState => ({
  type: 'cluster',
  identifier: 'ledger',
  status: 'available',
  engineVersion: '16.3',
  members: [
    { identifier: 'ledger-1', status: writer, writer: true },
    { identifier: 'ledger-2', status: reader, writer: false },
  ],
});

const change: RdsChange = { allowMajorVersionUpgrade: false, pendingMaintenance: 'security' };
const captured = (pending: MaintenanceItem[]): CapturedSettings => ({
  target: 'orders',
  type: 'instance',
  identifier: 'orders-db',
  engineVersion: '16.3',
  members: [{ identifier: 'orders-db', instanceClass: 'db.r6g.large' }],
  pendingMaintenance: pending,
  capturedAt: '2026-03-10T01:00:00.000Z',
});

describe('the change', () => {
  it('applies pending maintenance on its own, never together with a setting', () => {
    const alone = rdsChangeSchema.safeParse({ pendingMaintenance: 'security' });
    const mixed = rdsChangeSchema.safeParse({ pendingMaintenance: 'all', instanceClass: 'db.r6g.large' });
    const none = rdsChangeSchema.safeParse({});

    expect(alone.success).toBe(true);
    expect(mixed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['pendingMaintenance'],
        message: 'applies pending maintenance on its own: start a separate update for instanceClass',
      }),
    ]);
    expect(none.error?.issues[0]?.message).toContain('pendingMaintenance');
  });

  it('is rolled back by restoring the rollback snapshot: a patch cannot be taken off in place', () => {
    expect(rollbackMethodOf(change)).toBe('restore');
    expect(rollbackMethodOf({ allowMajorVersionUpgrade: false, instanceClass: 'db.r6g.large' })).toBe(
      'in-place',
    );
  });
});

describe('chosen actions', () => {
  it('are the security patches, or every action with all', () => {
    const items = [item('orders-db', 'os-upgrade'), item('orders-db', 'db-upgrade')];

    expect(chosenActions('security', items).map((i) => i.action)).toEqual(['os-upgrade']);
    expect(chosenActions('all', items).map((i) => i.action)).toEqual(['os-upgrade', 'db-upgrade']);
  });
});

describe('one step', () => {
  it('applies one action per resource at a time, and waits for the rest', () => {
    const step = maintenanceStep('all', instance(), [
      item('orders-db', 'os-upgrade'),
      item('orders-db', 'db-upgrade'),
    ]);

    expect(step.apply.map((i) => i.action)).toEqual(['os-upgrade']);
    expect(step.waitingFor).toEqual(['db-upgrade on orders-db (next, once orders-db is available)']);
    expect(step.done).toBe(false);
  });

  it('waits while an action is being applied, and applies nothing beside it on that resource', () => {
    const step = maintenanceStep('all', instance('maintenance'), [
      item('orders-db', 'os-upgrade', { optInStatus: 'immediate' }),
      item('orders-db', 'db-upgrade'),
    ]);

    expect(step.apply).toEqual([]);
    expect(step.waitingFor).toEqual([
      'orders-db is maintenance',
      'os-upgrade on orders-db being applied',
      'db-upgrade on orders-db (next, once orders-db is available)',
    ]);
  });

  it('patches the members of a cluster that are available, each with its own action', () => {
    const step = maintenanceStep('security', cluster('available', 'maintenance'), [
      item('ledger-1', 'system-update'),
      item('ledger-2', 'system-update'),
      item('ledger', 'db-upgrade'),
    ]);

    expect(step.apply.map((i) => i.identifier)).toEqual(['ledger-1']);
    expect(step.waitingFor).toEqual([
      'ledger-2 is maintenance',
      'system-update on ledger-2 (next, once ledger-2 is available)',
    ]);
  });

  it('is done when none of the chosen actions is pending and the target is available', () => {
    const step = maintenanceStep('security', instance(), [item('orders-db', 'db-upgrade')]);

    expect(step).toEqual({ apply: [], waitingFor: [], done: true });
  });
});

describe('the rollback of applied maintenance', () => {
  it('counts an action no longer pending as applied, and waits for one still being applied', () => {
    const at = captured([item('orders-db', 'os-upgrade'), item('orders-db', 'system-update')]);

    const seen = maintenanceApplied(at, [item('orders-db', 'system-update', { optInStatus: 'immediate' })]);

    expect(seen).toEqual({
      changed: ['maintenance os-upgrade applied to orders-db'],
      waitingFor: ['maintenance system-update on orders-db is being applied'],
    });
  });

  it('restores when a patch was applied, and finds nothing to roll back when none was', () => {
    const at = captured([item('orders-db', 'os-upgrade')]);

    const applied = assessRollback(change, at, instance(), 'restore', []);
    const untouched = assessRollback(change, at, instance(), 'restore', [item('orders-db', 'os-upgrade')]);

    expect(applied).toMatchObject({
      decision: 'revert',
      changed: ['maintenance os-upgrade applied to orders-db'],
    });
    expect(untouched.decision).toBe('unchanged');
  });

  it("takes an engine version moved by an applied db-upgrade as the update's, not someone else's", () => {
    const at = captured([item('orders-db', 'db-upgrade')]);

    const upgraded = assessRollback(
      { ...change, pendingMaintenance: 'all' },
      at,
      instance('available', '16.4'),
      'restore',
      [],
    );
    const other = assessRollback(
      change,
      captured([item('orders-db', 'os-upgrade')]),
      instance('available', '16.4'),
      'restore',
      [],
    );

    expect(upgraded.decision).toBe('revert');
    expect(upgraded.changed).toEqual([
      'maintenance db-upgrade applied to orders-db',
      'engine version of orders-db: 16.3 → 16.4',
    ]);
    expect(other.decision).toBe('conflict');
  });

  it('gives the restore of the rollback snapshot as the manual command', () => {
    const commands = manualCommands(
      change,
      captured([item('orders-db', 'os-upgrade')]),
      'orders-db-rollback-1',
    );

    expect(commands).toEqual([
      'aws rds restore-db-instance-from-db-snapshot --db-instance-identifier orders-db-rollback --db-snapshot-identifier orders-db-rollback-1 --db-instance-class db.r6g.large',
    ]);
  });
});
