import { describe, expect, it } from 'vitest';
import {
  isValidIdentifier,
  MAX_DB_IDENTIFIER,
  MAX_SNAPSHOT_IDENTIFIER,
  oldIdentifier,
  restoredIdentifier,
  snapshotIdentifier,
  writerIdentifier,
} from '../../../../../functions/common/rds/rds-names.ts';

describe('snapshotIdentifier', () => {
  it('is the same for the same execution, target and kind', () => {
    const first = snapshotIdentifier('orders', 'arn:aws:states:us-east-1:1:execution:m:run-1', 'snapshot');

    const again = snapshotIdentifier('orders', 'arn:aws:states:us-east-1:1:execution:m:run-1', 'snapshot');

    expect(again).toBe(first);
    expect(first).toMatch(/^caretaker-orders-[0-9a-f]{12}-snapshot$/);
  });

  it('differs between executions and between kinds of the same execution', () => {
    const ids = new Set([
      snapshotIdentifier('orders', 'run-1', 'snapshot'),
      snapshotIdentifier('orders', 'run-2', 'snapshot'),
      snapshotIdentifier('orders', 'run-1', 'rollback-point'),
    ]);

    expect(ids.size).toBe(3);
  });

  it('stays a valid identifier for names with trailing or double hyphens', () => {
    const id = snapshotIdentifier('a--b-', 'run', 'drill');

    expect(isValidIdentifier(id, MAX_SNAPSHOT_IDENTIFIER)).toBe(true);
    expect(id).toMatch(/^caretaker-a-b-[0-9a-f]{12}-drill$/);
  });
});

describe('restored and old identifiers', () => {
  it('fit 63 characters without a trailing or double hyphen, whatever the source name', () => {
    const long = `db-${'x'.repeat(58)}-a`;

    const restored = restoredIdentifier(long, 'run-1');
    const old = oldIdentifier(long, new Date('2026-03-29T01:02:03.456Z'));
    const writer = writerIdentifier(long);

    for (const id of [restored, old, writer]) {
      expect(isValidIdentifier(id, MAX_DB_IDENTIFIER)).toBe(true);
    }
    expect(old).toMatch(/-old-20260329010203$/);
    expect(restored).toMatch(/-r[0-9a-f]{8}$/);
  });

  it('lowercases, as RDS stores identifiers', () => {
    expect(oldIdentifier('Orders-DB', new Date('2026-01-01T00:00:00Z'))).toBe('orders-db-old-20260101000000');
  });
});

describe('isValidIdentifier', () => {
  it.each([
    ['orders', true],
    ['o', true],
    ['1orders', false],
    ['orders-', false],
    ['or--ders', false],
    ['or_ders', false],
    ['', false],
  ])('%s is %s', (text, valid) => {
    expect(isValidIdentifier(text, 63)).toBe(valid);
  });

  it('refuses identifiers longer than the maximum', () => {
    expect(isValidIdentifier('a'.repeat(64), 63)).toBe(false);
  });
});
