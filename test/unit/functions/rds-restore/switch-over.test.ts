import { describe, expect, it } from 'vitest';
import {
  nextSwitchOverStep,
  nextUndoStep,
  parkedOriginalTags,
  type Seen,
} from '../../../../functions/rds-restore/switch-over.ts';

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
