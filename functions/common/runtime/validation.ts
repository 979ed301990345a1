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

/**
 * Keys that reach an object's prototype when a value is copied or merged by assignment
 * (`target[key] = source[key]`): no Caretaker input or config has a use for them, so they are
 * refused wherever they appear, before any schema sees the value.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A path as a chain of links to its parent, so walking a deep value does not copy paths. */
interface PathLink {
  readonly key: PropertyKey;
  readonly parent: PathLink | undefined;
}

function pathOf(link: PathLink | undefined): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at = link; at; at = at.parent) path.push(at.key);
  return path.reverse();
}

/** Every forbidden key anywhere in a JSON-like value (nested objects and arrays), in document order. */
export function forbiddenKeyProblems(value: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  // An explicit stack instead of recursion: a deeply nested event must not overflow the call stack.
  type Entry = { node: unknown; at: PathLink | undefined; forbidden?: string };
  const stack: Entry[] = [{ node: value, at: undefined }];
  const seen = new WeakSet<object>();
  while (stack.length > 0) {
    const { node, at, forbidden } = stack.pop()!;
    if (forbidden !== undefined) {
      problems.push({
        path: formatPath(pathOf(at)),
        message: `"${forbidden}" is not allowed as a key (it reaches the object prototype when copied or merged)`,
      });
      continue;
    }
    if (node === null || typeof node !== 'object' || seen.has(node)) continue;
    seen.add(node);
    const children: Entry[] = Array.isArray(node)
      ? node.map((item, index) => ({ node: item, at: { key: index, parent: at } }))
      : Object.keys(node).map((key) => ({
          node: (node as Record<string, unknown>)[key],
          at: { key, parent: at },
          // Reported, never descended into.
          ...(FORBIDDEN_KEYS.has(key) ? { forbidden: key } : {}),
        }));
    stack.push(...children.reverse());
  }
  return problems;
}

/**
 * Parses `value` with `schema` or throws a ValidationError listing every problem. A value holding
 * a forbidden key ({@link FORBIDDEN_KEYS}) is refused first, naming each one, and never parsed.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, subject = 'input'): z.output<S> {
  const forbidden = forbiddenKeyProblems(value);
  if (forbidden.length > 0) throw new ValidationError(forbidden, subject);
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) throw new ValidationError(toFieldProblems(result.error.issues), subject);
  return result.data;
}
