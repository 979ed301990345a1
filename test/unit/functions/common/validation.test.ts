import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ValidationError } from '../../../../functions/common/errors.ts';
import { formatPath, parseOrThrow } from '../../../../functions/common/validation.ts';

describe('formatPath', () => {
  it('renders object keys with dots and indexes with brackets', () => {
    expect(formatPath(['backupSets', 1, 'prefix'])).toBe('backupSets[1].prefix');
  });

  it('quotes keys that are not identifiers', () => {
    expect(formatPath(['retentionPolicies', 'gold tier', 'keepDaily'])).toBe(
      'retentionPolicies["gold tier"].keepDaily',
    );
  });

  it('names the root', () => {
    expect(formatPath([])).toBe('(root)');
  });
});

describe('parseOrThrow', () => {
  const schema = z
    .object({ id: z.string(), count: z.number().int().min(1), kind: z.enum(['a', 'b']) })
    .strict();

  it('returns the parsed value when valid', () => {
    expect(parseOrThrow(schema, { id: 'x', count: 2, kind: 'a' })).toEqual({ id: 'x', count: 2, kind: 'a' });
  });

  it('throws one ValidationError listing every bad field', () => {
    let caught: unknown;
    try {
      parseOrThrow(schema, { id: 3, count: 0, kind: 'c', extra: true });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).problems.map((p) => p.path)).toEqual(['id', 'count', 'kind', 'extra']);
    expect((caught as ValidationError).problems[0]?.message).toBe('expected string, received number');
  });
});
