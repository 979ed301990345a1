import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ValidationError } from '../../../../../functions/common/runtime/errors.ts';
import {
  forbiddenKeyProblems,
  formatPath,
  parseOrThrow,
} from '../../../../../functions/common/runtime/validation.ts';

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

describe('forbiddenKeyProblems', () => {
  it('names a __proto__ key parsed from JSON with its path', () => {
    // Prepare: JSON.parse makes "__proto__" an own key, as an event or config file would.
    const value = JSON.parse('{"set":{"name":"x","__proto__":{"polluted":true}}}');

    // Act
    const problems = forbiddenKeyProblems(value);

    // Assess
    expect(problems).toEqual([
      {
        path: 'set.__proto__',
        message:
          '"__proto__" is not allowed as a key (it reaches the object prototype when copied or merged)',
      },
    ]);
  });

  it('finds constructor and prototype keys inside arrays, in document order', () => {
    // Prepare
    const value = JSON.parse(
      '{"checks":{"http":[{"name":"a"},{"constructor":{"prototype":1}}]},"prototype":{}}',
    ) as unknown;

    // Act
    const paths = forbiddenKeyProblems(value).map((problem) => problem.path);

    // Assess
    expect(paths).toEqual(['checks.http[1].constructor', 'prototype']);
  });

  it('finds nothing in a value without such keys, however deep', () => {
    // Prepare: deeper than a recursive walk could go on the default stack.
    let deep: unknown = { leaf: 'constructor' };
    for (let i = 0; i < 100_000; i++) deep = { next: deep };

    // Act
    const problems = forbiddenKeyProblems(deep);

    // Assess
    expect(problems).toEqual([]);
  });
});

describe('parseOrThrow and forbidden keys', () => {
  it('refuses a forbidden key even where the schema would ignore unknown fields', () => {
    // Prepare: a stripping schema would silently drop the key; it must be refused instead.
    const lenient = z.object({ id: z.string() }).strip();
    const value = JSON.parse('{"id":"x","__proto__":{"admin":true}}');

    // Act
    const attempt = () => parseOrThrow(lenient, value);

    // Assess
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow('Invalid input: __proto__: "__proto__" is not allowed as a key');
  });
});
