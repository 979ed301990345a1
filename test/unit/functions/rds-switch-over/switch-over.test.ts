import { describe, expect, it } from 'vitest';
import {
  manualRecovery,
  nextSwitchOverStep,
  nextUndoStep,
  parkedOriginalTags,
  type Seen,
} from '../../../../functions/rds-switch-over/switch-over.ts';

const original = (extra: Partial<Seen> = {}): Seen => ({
  status: 'available',
  renaming: false,
  restoredByUs: false,
  promoted: false,
  ...extra,
});
const copy = (extra: Partial<Seen> = {}): Seen => original({ restoredByUs: true, ...extra });

describe('nextSwitchOverStep', () => {
  it('parks the original first, once the restored copy is ready', () => {
    expect(nextSwitchOverStep({ source: original(), restored: copy() })).toEqual({
      kind: 'rename',
      from: 'source',
      to: 'old',
      holder: 'original',
    });
  });

  it('waits for the restored copy before touching the original', () => {
    expect(nextSwitchOverStep({ source: original(), restored: copy({ status: 'backing-up' }) })).toEqual({
      kind: 'wait',
      phase: 'waiting-for-restored',
    });
  });

  it('waits while the original is being renamed, and never renames it twice', () => {
    expect(nextSwitchOverStep({ source: original({ renaming: true }), restored: copy() })).toEqual({
      kind: 'wait',
      phase: 'renaming-source',
    });
    expect(nextSwitchOverStep({ old: original({ status: 'renaming' }), restored: copy() })).toEqual({
      kind: 'wait',
      phase: 'renaming-source',
    });
  });

  it('moves the restored copy to the original name once the original is parked', () => {
    expect(nextSwitchOverStep({ old: original(), restored: copy() })).toEqual({
      kind: 'rename',
      from: 'restored',
      to: 'source',
      holder: 'restored',
    });
  });

  it('promotes the copy under the original name, then is done', () => {
    expect(nextSwitchOverStep({ source: copy({ status: 'renaming' }), old: original() })).toEqual({
      kind: 'wait',
      phase: 'renaming-restored',
    });
    expect(nextSwitchOverStep({ source: copy(), old: original() })).toEqual({ kind: 'promote' });
    expect(nextSwitchOverStep({ source: copy({ promoted: true }), old: original() })).toEqual({
      kind: 'done',
    });
  });

  it('refuses a parking name that is taken and a copy that is not this execution’s', () => {
    expect(nextSwitchOverStep({ source: original(), old: original(), restored: copy() })).toMatchObject({
      kind: 'fail',
      error: 'precondition',
    });
    expect(nextSwitchOverStep({ source: original(), restored: original() })).toMatchObject({
      kind: 'fail',
      error: 'precondition',
    });
  });

  it('fails (so the flow undoes) when the copy is gone while the original is parked', () => {
    expect(nextSwitchOverStep({ old: original() })).toMatchObject({ kind: 'fail', error: 'not-found' });
    expect(nextSwitchOverStep({ source: original() })).toMatchObject({ kind: 'fail', error: 'not-found' });
  });
});

describe('nextUndoStep', () => {
  it('moves a promoted copy back to its own name first', () => {
    expect(nextUndoStep({ source: copy({ promoted: true }), old: original() })).toEqual({
      kind: 'rename',
      from: 'source',
      to: 'restored',
      holder: 'restored',
    });
  });

  it('then brings the original back to its name', () => {
    expect(nextUndoStep({ old: original(), restored: copy() })).toEqual({
      kind: 'rename',
      from: 'old',
      to: 'source',
      holder: 'original',
    });
  });

  it('undoes a half switch-over where only the original was parked', () => {
    expect(nextUndoStep({ old: original(), restored: copy() }).kind).toBe('rename');
  });

  it('is done when the original holds its name (also when no switch-over ever started)', () => {
    expect(nextUndoStep({ source: original(), restored: copy() })).toEqual({ kind: 'done' });
  });

  it('clears the journal off the original once it holds its name again', () => {
    expect(nextUndoStep({ source: original({ parkedByUs: true }), restored: copy() })).toEqual({
      kind: 'tidy',
    });
  });

  it('waits while renames are applied', () => {
    expect(nextUndoStep({ source: original({ renaming: true }), restored: copy() })).toEqual({
      kind: 'wait',
      phase: 'renaming-source-back',
    });
    expect(nextUndoStep({ old: original({ status: 'renaming' }), restored: copy() })).toEqual({
      kind: 'wait',
      phase: 'renaming-source-back',
    });
    expect(nextUndoStep({ source: copy({ renaming: true }), old: original() })).toEqual({
      kind: 'wait',
      phase: 'renaming-restored-back',
    });
  });

  it('waits for a copy still on its way to the original name before bringing the original back', () => {
    expect(nextUndoStep({ old: original(), restored: copy({ renaming: true }) })).toEqual({
      kind: 'wait',
      phase: 'renaming-restored',
    });
  });

  it('fails when neither the original name nor the parking name exists', () => {
    expect(nextUndoStep({ restored: copy() })).toMatchObject({ kind: 'fail', error: 'not-found' });
  });
});

describe('parkedOriginalTags', () => {
  const owner = {
    executionId: 'arn:aws:states:eu-central-1:1:execution:Update:run-1',
    stack: 'caretaker-prod',
    target: 'orders',
  };
  const at = new Date('2026-03-10T12:30:00.000Z');

  it('marks the original a rollback point replaces as the failed update of the execution, never as managed', () => {
    const tags = parkedOriginalTags({ 'caretaker:kind': 'rollback-point' }, owner, at);

    expect(tags).toEqual({
      'caretaker:kind': 'failed-update',
      'caretaker:parked-by': 'arn:aws:states:eu-central-1:1:execution:Update:run-1',
      'caretaker:parked-at': '2026-03-10T12:30:00.000Z',
      'caretaker:stack': 'caretaker-prod',
      'caretaker:target': 'orders',
    });
    expect(tags).not.toHaveProperty('caretaker:managed');
  });

  it('leaves the original of any other switch-over (a DR failover) as it is', () => {
    expect(parkedOriginalTags({ 'caretaker:kind': 'drill' }, owner, at)).toBeUndefined();
  });
});

describe('manualRecovery', () => {
  const names = { source: 'orders-db', old: 'orders-db-old-20260329010203', restored: 'orders-db-r1a2b3c4d' };

  it('names the exact command that brings a parked original back', () => {
    expect(manualRecovery('instance', names, { old: original(), restored: copy() })).toEqual([
      'aws rds modify-db-instance --db-instance-identifier orders-db-old-20260329010203 --new-db-instance-identifier orders-db --apply-immediately',
    ]);
  });

  it('moves the copy off the production name first when it holds it', () => {
    expect(manualRecovery('cluster', names, { source: copy(), old: original() })).toEqual([
      'aws rds modify-db-cluster --db-cluster-identifier orders-db --new-db-cluster-identifier orders-db-r1a2b3c4d --apply-immediately',
      'aws rds modify-db-cluster --db-cluster-identifier orders-db-old-20260329010203 --new-db-cluster-identifier orders-db --apply-immediately',
    ]);
  });

  it('has nothing to do while the original holds its name', () => {
    expect(manualRecovery('instance', names, { source: original(), restored: copy() })).toEqual([]);
  });
});
