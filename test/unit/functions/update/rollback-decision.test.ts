import { describe, expect, it } from 'vitest';
import type { CapturedSettings, RdsChange } from '../../../../functions/update/input.ts';
import type { ChangeState } from '../../../../functions/update/rds-change.ts';
import {
  assessRollback,
  manualCommands,
  revertWork,
} from '../../../../functions/update/rollback-decision.ts';

const change = (extra: Partial<RdsChange>): RdsChange => ({ allowMajorVersionUpgrade: false, ...extra });

const captured: CapturedSettings = {
  target: 'orders',
  type: 'instance',
  identifier: 'orders-db',
  engineVersion: '16.3',
  parameterGroup: 'orders-v1',
  members: [{ identifier: 'orders-db', instanceClass: 'db.r6g.large' }],
  capturedAt: '2026-03-10T12:00:00.000Z',
};

const instance = (extra: Partial<ChangeState> = {}, member: object = {}): ChangeState => ({
  type: 'instance',
  identifier: 'orders-db',
  status: 'available',
  engineVersion: '16.3',
  parameterGroup: 'orders-v1',
  members: [
    {
      identifier: 'orders-db',
      status: 'available',
      instanceClass: 'db.r6g.large',
      parameterStatus: 'in-sync',
      ...member,
    },
  ],
  ...extra,
});

const clusterCaptured: CapturedSettings = {
  target: 'ledger',
  type: 'cluster',
  identifier: 'ledger',
  engineVersion: '16.3',
  parameterGroup: 'ledger-v1',
  members: [
    { identifier: 'ledger-1', instanceClass: 'db.r6g.xlarge', writer: true },
    { identifier: 'ledger-2', instanceClass: 'db.r6g.large', writer: false },
  ],
  capturedAt: '2026-03-10T12:00:00.000Z',
};

const cluster = (classes: [string, string], extra: Partial<ChangeState> = {}): ChangeState => ({
  type: 'cluster',
  identifier: 'ledger',
  status: 'available',
  engineVersion: '16.3',
  parameterGroup: 'ledger-v1',
  members: [
    { identifier: 'ledger-1', status: 'available', instanceClass: classes[0], writer: true },
    { identifier: 'ledger-2', status: 'available', instanceClass: classes[1], writer: false },
  ],
  ...extra,
});

describe('assessRollback', () => {
  it('reverts what this update changed, naming each setting', () => {
    const state = instance({}, { instanceClass: 'db.r6g.xlarge' });

    const assessed = assessRollback(change({ instanceClass: 'db.r6g.xlarge' }), captured, state, 'in-place');

    expect(assessed).toMatchObject({
      decision: 'revert',
      changed: ['instance class of orders-db: db.r6g.large → db.r6g.xlarge'],
      conflicts: [],
    });
  });

  it('finds nothing to roll back when the change never took effect', () => {
    const assessed = assessRollback(change({ engineVersion: '17.1' }), captured, instance(), 'restore');

    expect(assessed.decision).toBe('unchanged');
  });

  it('waits while the target is still modifying or has values pending', () => {
    const busy = assessRollback(
      change({ instanceClass: 'db.r6g.xlarge' }),
      captured,
      instance({ status: 'modifying' }, { pendingClass: 'db.r6g.xlarge' }),
      'in-place',
    );

    expect(busy).toMatchObject({
      decision: 'busy',
      waitingFor: ['orders-db is modifying', 'orders-db has class db.r6g.xlarge pending'],
    });
  });

  it('refuses when a setting the rollback would touch holds neither the original nor the update’s value', () => {
    const state = instance({}, { instanceClass: 'db.r7g.2xlarge' });

    const assessed = assessRollback(change({ instanceClass: 'db.r6g.xlarge' }), captured, state, 'in-place');

    expect(assessed).toMatchObject({
      decision: 'conflict',
      conflicts: [
        'instance class of orders-db is db.r7g.2xlarge: neither db.r6g.large (the rollback point) nor db.r6g.xlarge (this update)',
      ],
    });
  });

  it('leaves a setting outside the change alone in place, but refuses a restore that would overwrite it', () => {
    const state = instance({ parameterGroup: 'orders-tuned' }, { instanceClass: 'db.r6g.xlarge' });
    const asked = change({ instanceClass: 'db.r6g.xlarge' });

    const inPlace = assessRollback(asked, captured, state, 'in-place');
    const restore = assessRollback(asked, captured, state, 'restore');

    expect(inPlace.decision).toBe('revert');
    expect(inPlace.notes[0]).toMatch(/parameter group of orders-db is orders-tuned.*someone else changed it/);
    expect(restore).toMatchObject({
      decision: 'conflict',
      conflicts: ['parameter group of orders-db is orders-tuned: neither orders-v1 (the rollback point)'],
    });
  });

  it('refuses when a cluster member of the rollback point is gone', () => {
    const state: ChangeState = {
      ...cluster(['db.r7g.large', 'db.r7g.large']),
      members: [{ identifier: 'ledger-1', status: 'available', instanceClass: 'db.r7g.large', writer: true }],
    };

    const assessed = assessRollback(
      change({ instanceClass: 'db.r7g.large' }),
      clusterCaptured,
      state,
      'in-place',
    );

    expect(assessed.decision).toBe('conflict');
    expect(assessed.conflicts).toContain('ledger-2 (a member at the rollback point) is gone');
  });
});

describe('revertWork', () => {
  it('sends the instance’s original class and parameter group together', () => {
    const state = instance({ parameterGroup: 'orders-v2' }, { instanceClass: 'db.r6g.xlarge' });

    const work = revertWork(
      change({ instanceClass: 'db.r6g.xlarge', parameterGroup: 'orders-v2' }),
      captured,
      state,
    );

    expect(work).toMatchObject({
      instance: { instanceClass: 'db.r6g.large', parameterGroup: 'orders-v1' },
      done: false,
    });
  });

  it('sends nothing while the original values are pending or being applied, and is done once they are in place', () => {
    const asked = change({ instanceClass: 'db.r6g.xlarge' });

    const pending = revertWork(
      asked,
      captured,
      instance({}, { instanceClass: 'db.r6g.xlarge', pendingClass: 'db.r6g.large' }),
    );
    const modifying = revertWork(
      asked,
      captured,
      instance({ status: 'modifying' }, { instanceClass: 'db.r6g.xlarge' }),
    );
    const back = revertWork(asked, captured, instance());

    expect(pending).toMatchObject({ done: false, waitingFor: ['orders-db class → db.r6g.large'] });
    expect(pending.instance).toBeUndefined();
    expect(modifying.instance).toBeUndefined();
    expect(modifying.done).toBe(false);
    expect(back).toMatchObject({ done: true, waitingFor: [], conflicts: [] });
  });

  it('puts each cluster member back on its own class, readers first', () => {
    const work = revertWork(
      change({ instanceClass: 'db.r7g.large' }),
      clusterCaptured,
      cluster(['db.r7g.large', 'db.r7g.large']),
    );

    expect(work.memberClasses).toEqual([
      { identifier: 'ledger-2', instanceClass: 'db.r6g.large' },
      { identifier: 'ledger-1', instanceClass: 'db.r6g.xlarge' },
    ]);
  });

  it('reports a setting someone changed during the revert as a conflict', () => {
    const work = revertWork(
      change({ instanceClass: 'db.r6g.xlarge' }),
      captured,
      instance({}, { instanceClass: 'db.r7g.2xlarge' }),
    );

    expect(work.conflicts).toEqual(['instance class of orders-db is db.r7g.2xlarge']);
    expect(work.done).toBe(false);
  });

  it('reboots an instance whose original parameter group waits for a reboot', () => {
    const work = revertWork(
      change({ parameterGroup: 'orders-v2' }),
      captured,
      instance({}, { parameterStatus: 'pending-reboot' }),
    );

    expect(work).toMatchObject({ reboot: ['orders-db'], done: false });
  });
});

describe('manualCommands', () => {
  it('gives the modify command that puts an instance’s class and group back', () => {
    expect(
      manualCommands(change({ instanceClass: 'db.r6g.xlarge', parameterGroup: 'orders-v2' }), captured),
    ).toEqual([
      'aws rds modify-db-instance --db-instance-identifier orders-db --db-instance-class db.r6g.large --db-parameter-group-name orders-v1 --apply-immediately',
    ]);
  });

  it('gives one command per cluster member, readers first', () => {
    expect(manualCommands(change({ instanceClass: 'db.r7g.large' }), clusterCaptured)).toEqual([
      'aws rds modify-db-instance --db-instance-identifier ledger-2 --db-instance-class db.r6g.large --apply-immediately',
      'aws rds modify-db-instance --db-instance-identifier ledger-1 --db-instance-class db.r6g.xlarge --apply-immediately',
    ]);
  });

  it('restores the rollback snapshot for an engine version, which cannot go back in place', () => {
    expect(
      manualCommands(change({ engineVersion: '17.1' }), captured, 'caretaker-orders-abc-rollback-point'),
    ).toEqual([
      'aws rds restore-db-instance-from-db-snapshot --db-instance-identifier orders-db-rollback --db-snapshot-identifier caretaker-orders-abc-rollback-point --db-instance-class db.r6g.large --db-parameter-group-name orders-v1',
    ]);
  });
});
