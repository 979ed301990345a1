import { describe, expect, it } from 'vitest';
import {
  oldIdentifier,
  restoredIdentifier,
  writerIdentifier,
} from '../../../../functions/common/rds/rds-names.ts';
import {
  parkedPattern,
  restoredPattern,
  restoredWriterPattern,
} from '../../../../lib/security/rds-patterns.ts';

/** IAM's `?`: exactly one character. */
const matches = (pattern: string, name: string) =>
  new RegExp(`^${pattern.replace(/[.*+^${}()|[\]\\-]/g, '\\$&').replaceAll('?', '.')}$`).test(name);

describe('IAM patterns of derived RDS identifiers', () => {
  it('match every restored copy, writer and parking name of a source, one character per varying one', () => {
    // Act
    const restored = restoredPattern('orders-prod');
    const writer = restoredWriterPattern('orders-prod');
    const parked = parkedPattern('orders-prod');

    // Assess
    expect([restored, writer, parked]).toEqual([
      'orders-prod-r????????',
      'orders-prod-r????????-writer',
      'orders-prod-old-??????????????',
    ]);
    for (const execution of ['arn:aws:states:…:execution:dr:1', 'run-2', 'x']) {
      expect(matches(restored, restoredIdentifier('orders-prod', execution))).toBe(true);
      expect(matches(writer, writerIdentifier(restoredIdentifier('orders-prod', execution)))).toBe(true);
    }
    expect(matches(parked, oldIdentifier('orders-prod', new Date('2026-12-05T03:16:08Z')))).toBe(true);
  });

  it('leave out databases an operator named after the source', () => {
    // Act
    const restored = restoredPattern('orders-prod');

    // Assess
    expect(
      ['orders-prod-replica', 'orders-prod-reporting-db', 'orders-prod'].map((n) => matches(restored, n)),
    ).toEqual([false, false, false]);
  });

  it('follow the truncation of a long source identifier', () => {
    // Prepare
    const long = `a${'b'.repeat(62)}`;

    // Act
    const restored = restoredPattern(long);

    // Assess
    expect(restored).toHaveLength(63);
    expect(matches(restored, restoredIdentifier(long, 'run-1'))).toBe(true);
  });
});
