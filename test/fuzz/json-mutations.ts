/**
 * Mutations of a valid JSON document (an event, a config) that make it invalid in a known place,
 * so a fuzz test can assert the refusal names that place. Each mutation says which path it
 * broke, rendered as Caretaker renders paths (`backupSets[2].prefix`).
 */
import fc from 'fast-check';
import { FORBIDDEN_KEYS, formatPath } from '../../functions/common/runtime/validation.ts';

export type Path = readonly (string | number)[];

/** A mutated document and the path the refusal must name. */
export interface Mutation {
  readonly kind: string;
  readonly document: unknown;
  readonly path: string;
}

/** Keys that are neither forbidden nor likely to be a real field name. */
const unknownKey = fc
  .string({ minLength: 1, maxLength: 8 })
  .map((text) => `unknown_${text}`)
  .filter((key) => !FORBIDDEN_KEYS.has(key));

/** Any JSON value whose object keys are never forbidden (those are their own mutation). */
export const safeJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 12 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(unknownKey, tie('value'), { maxKeys: 3 }),
  ),
})).value;

type JsonType = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';

function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as JsonType;
}

/** A value of another JSON type than `value` (never null: some fields accept null for "absent"). */
export function otherType(value: unknown): fc.Arbitrary<unknown> {
  const type = jsonType(value);
  const candidates: fc.Arbitrary<unknown>[] = [];
  if (type !== 'string') candidates.push(fc.string({ maxLength: 12 }));
  if (type !== 'number') candidates.push(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  if (type !== 'boolean') candidates.push(fc.boolean());
  if (type !== 'array') candidates.push(fc.array(safeJson, { maxLength: 3 }));
  if (type !== 'object') candidates.push(fc.dictionary(unknownKey, safeJson, { maxKeys: 3 }));
  return fc.oneof(...candidates);
}

/** The value at `path`. */
export function valueAt(document: unknown, path: Path): unknown {
  let at: unknown = document;
  for (const key of path) at = (at as Record<string | number, unknown>)[key];
  return at;
}

/** A deep copy with `change` applied to the object or array holding `path`'s last key. */
function edit(
  document: unknown,
  path: Path,
  change: (parent: Record<string | number, unknown>, key: string | number) => void,
) {
  const copy = structuredClone(document);
  const parent = valueAt(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  change(parent, path.at(-1)!);
  return copy;
}

/** Every path in `document` that holds a plain object (the document itself is `[]`). */
export function objectPaths(document: unknown, at: Path = []): Path[] {
  if (document === null || typeof document !== 'object') return [];
  const children = Array.isArray(document)
    ? document.flatMap((item, index) => objectPaths(item, [...at, index]))
    : Object.entries(document).flatMap(([key, value]) => objectPaths(value, [...at, key]));
  return Array.isArray(document) ? children : [at, ...children];
}

/** The field at one of `paths` replaced by a value of another JSON type. */
export function wrongType(document: unknown, paths: readonly Path[]): fc.Arbitrary<Mutation> {
  return fc.constantFrom(...paths).chain((path) =>
    otherType(valueAt(document, path)).map((value) => ({
      kind: 'wrong type',
      document: edit(document, path, (parent, key) => {
        parent[key] = value;
      }),
      path: formatPath(path),
    })),
  );
}

/** One of the required fields at `paths` left out. */
export function missing(document: unknown, paths: readonly Path[]): fc.Arbitrary<Mutation> {
  return fc.constantFrom(...paths).map((path) => ({
    kind: 'missing field',
    document: edit(document, path, (parent, key) => {
      delete parent[key];
    }),
    path: formatPath(path),
  }));
}

/** A field no schema knows added to one of the strict objects at `objects`. */
export function unknownField(document: unknown, objects: readonly Path[]): fc.Arbitrary<Mutation> {
  return fc
    .record({ at: fc.constantFrom(...objects), key: unknownKey, value: safeJson })
    .map(({ at, key, value }) => {
      const copy = structuredClone(document);
      (valueAt(copy, at) as Record<string, unknown>)[key] = value;
      return { kind: 'unknown field', document: copy, path: formatPath([...at, key]) };
    });
}

/** A `__proto__`, `constructor` or `prototype` key (an own key, as JSON.parse makes it) in any object of the document. */
export function forbiddenKey(document: unknown): fc.Arbitrary<Mutation> {
  return fc
    .record({
      at: fc.constantFrom(...objectPaths(document)),
      key: fc.constantFrom(...FORBIDDEN_KEYS),
      value: safeJson,
    })
    .map(({ at, key, value }) => {
      const copy = structuredClone(document);
      Object.defineProperty(valueAt(copy, at), key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return { kind: 'forbidden key', document: copy, path: formatPath([...at, key]) };
    });
}
