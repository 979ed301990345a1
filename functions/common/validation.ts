/**
 * Turns zod issues into Caretaker's field problems: one per bad field, located by a JSON path
 * such as `backupSets[1].prefix`, saying what was expected. Shared by the config loader (synth)
 * and the input-validation middleware (functions), so both read the same way.
 */
import type { z } from 'zod';
import { type FieldProblem, ValidationError } from './errors.ts';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Renders a zod path as JSON-path-like text: `a.b[2].c`, `(root)` for the top. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(root)';
}

function describeReceived(input: unknown): string {
  if (input === undefined) return 'nothing (the field is missing)';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  return typeof input;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, received ${describeReceived(issue.input)}`;
    case 'unrecognized_keys':
      return 'unknown field';
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}

/** Flattens zod issues (including union branches) into one problem per field. */
export function toFieldProblems(issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ path: formatPath([...issue.path, key]), message: describeIssue(issue) });
      }
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest (fewest problems) rather than a bare "invalid input".
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      const nested = best.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }));
      problems.push(...toFieldProblems(nested as z.core.$ZodIssue[]));
    } else {
      problems.push({ path: formatPath(issue.path), message: describeIssue(issue) });
    }
  }
  return problems;
}

/** Parses `value` with `schema` or throws a ValidationError listing every problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, subject = 'input'): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) throw new ValidationError(toFieldProblems(result.error.issues), subject);
  return result.data;
}
