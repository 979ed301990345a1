import { describe, expect, it } from 'vitest';
import type { RdsChange } from '../../../../functions/update/input.ts';
import { type ChangeState, changeProgress, changesToApply } from '../../../../functions/update/rds-change.ts';

const change = (extra: Partial<RdsChange>): RdsChange => ({ allowMajorVersionUpgrade: false, ...extra });

const instance = (extra: Partial<ChangeState> = {}, member: object = {}): ChangeState => ({
  type: 'instance',
  identifier: 'orders',
  status: 'available',
  engineVersion: '16.3',
  parameterGroup: 'v1',
  members: [
    {
      identifier: 'orders',
      status: 'available',
      instanceClass: 'db.r6g.large',
      parameterStatus: 'in-sync',
      ...member,
    },
  ],
  ...extra,
});

describe('changesToApply', () => {
  it('sends only what is neither in place nor pending', () => {
    const state = instance({ pendingEngineVersion: '16.4' });

    expect(
      changesToApply(
        change({ engineVersion: '16.4', instanceClass: 'db.r6g.large', parameterGroup: 'v2' }),
        state,
      ),
    ).toEqual({ parameterGroup: 'v2', instanceClassFor: [] });
  });

  it('sends a class change to every cluster member not on it yet', () => {
    const state: ChangeState = {
      ...instance({ type: 'cluster', identifier: 'ledger' }),
      members: [
        { identifier: 'a', status: 'available', instanceClass: 'db.r7g.large' },
        { identifier: 'b', status: 'available', instanceClass: 'db.r6g.large', pendingClass: 'db.r7g.large' },
        { identifier: 'c', status: 'available', instanceClass: 'db.r6g.large' },
      ],
    };

    expect(changesToApply(change({ instanceClass: 'db.r7g.large' }), state).instanceClassFor).toEqual(['c']);
  });
});

describe('changeProgress', () => {
  it('is done when every requested value is visible, nothing is pending and the instance is available', () => {
    const state = instance(
      { engineVersion: '16.4', parameterGroup: 'v2' },
      { instanceClass: 'db.r6g.xlarge' },
    );

    expect(
      changeProgress(
        change({ engineVersion: '16.4', instanceClass: 'db.r6g.xlarge', parameterGroup: 'v2' }),
        state,
      ),
    ).toEqual({ done: true, waitingFor: [], reboot: [] });
  });

  it('waits while upgrading and says for what', () => {
    const state = instance({ status: 'upgrading', pendingEngineVersion: '16.4' });

    expect(changeProgress(change({ engineVersion: '16.4' }), state)).toEqual({
      done: false,
      waitingFor: ['orders is upgrading', 'engine version 16.3 → 16.4'],
      reboot: [],
    });
  });

  it('asks for a reboot when the new parameter group waits for one', () => {
    const state = instance({ parameterGroup: 'v2' }, { parameterStatus: 'pending-reboot' });

    expect(changeProgress(change({ parameterGroup: 'v2' }), state)).toEqual({
      done: false,
      waitingFor: [],
      reboot: ['orders'],
    });
  });

  it('waits for every cluster member', () => {
    const state: ChangeState = {
      ...instance({ type: 'cluster', identifier: 'ledger' }),
      members: [
        { identifier: 'a', status: 'modifying', instanceClass: 'db.r6g.large' },
        { identifier: 'b', status: 'available', instanceClass: 'db.r7g.large' },
      ],
    };

    expect(changeProgress(change({ instanceClass: 'db.r7g.large' }), state)).toMatchObject({
      done: false,
      waitingFor: ['a is modifying'],
    });
  });
});
