import { describe, expect, it } from 'vitest';
import { deletionOrder, holdChains } from '../../../../functions/cleanup/backup-plan.ts';
import type { RetentionDecision } from '../../../../functions/common/retention/retention.ts';

const keep = (id: string): RetentionDecision => ({ id, action: 'keep', reasons: ['last (1 of 1)'] });
const drop = (id: string): RetentionDecision => ({ id, action: 'delete', reasons: ['not kept by any rule'] });

// Two chains: f1 <- i2 <- i3, f4 <- i5.
const LINKS = [
  { id: 'f1', parent: null },
  { id: 'i2', parent: 'f1' },
  { id: 'i3', parent: 'i2' },
  { id: 'f4', parent: null },
  { id: 'i5', parent: 'f4' },
];

describe('holdChains', () => {
  it('keeps every ancestor of a kept incremental, naming the backup that needs it', () => {
    const held = holdChains([drop('f1'), drop('i2'), drop('i3'), drop('f4'), keep('i5')], LINKS);

    expect(held).toEqual([
      drop('f1'),
      drop('i2'),
      drop('i3'),
      { id: 'f4', action: 'keep', reasons: ['chain of i5'] },
      keep('i5'),
    ]);
  });

  it('lets the tail of a chain go when only its start is kept', () => {
    const held = holdChains([keep('f1'), drop('i2'), drop('i3'), drop('f4'), keep('i5')], LINKS);

    expect(held.filter((d) => d.action === 'delete').map((d) => d.id)).toEqual(['i2', 'i3']);
  });

  it('holds the chain of the parent of a backup in progress', () => {
    const held = holdChains([drop('f1'), drop('i2'), drop('i3'), drop('f4'), keep('i5')], LINKS, [
      { id: 'i3', reason: 'parent of backup in progress x' },
    ]);

    expect(held.slice(0, 3)).toEqual([
      { id: 'f1', action: 'keep', reasons: ['parent of backup in progress x'] },
      { id: 'i2', action: 'keep', reasons: ['parent of backup in progress x'] },
      { id: 'i3', action: 'keep', reasons: ['parent of backup in progress x'] },
    ]);
  });

  it('stops at a parent that no longer exists', () => {
    const held = holdChains([drop('i2'), keep('i3')], LINKS.slice(1, 3));

    expect(held).toEqual([{ id: 'i2', action: 'keep', reasons: ['chain of i3'] }, keep('i3')]);
  });
});

describe('deletionOrder', () => {
  it('deletes newest first, so a child always goes before its parent', () => {
    const ids = ['20260101T000000Z-00000001', '20260103T000000Z-00000003', '20260102T000000Z-00000002'];

    expect(deletionOrder([drop(ids[0]!), drop(ids[1]!), keep('x'), drop(ids[2]!)])).toEqual([
      ids[1],
      ids[2],
      ids[0],
    ]);
  });
});
