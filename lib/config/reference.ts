/**
 * The config reference (docs/config-reference.md) is prose written by hand around field tables
 * generated from the config's JSON Schema (the same one editors use), so a field's type, default
 * and meaning are written once, in lib/config/schema.ts and the schemas it imports.
 *
 * A table goes between two markers that name the object it lists:
 *
 *     <!-- generated:fields backupSets[] -->
 *     <!-- /generated -->
 *
 * Paths: `.` (the whole config), `environment`, `healthChecks.http[]` (the items of an array),
 * `retentionPolicies.<name>` (the values of a map). A table lists the object's fields and, nested,
 * the fields of the objects inside it (`crossRegionCopy.region`), except those another marker
 * lists; with `shallow` (`<!-- generated:fields . shallow -->`) it lists the direct fields only.
 * Rendering fails when a field has no description or no table lists it.
 */
import type { JsonSchema } from './json-schema.ts';

const MARKER = /<!-- generated:fields (\S+)( shallow)? -->\n[\s\S]*?<!-- \/generated -->/g;

interface Marker {
  readonly path: string;
  readonly shallow: boolean;
}

interface Row {
  readonly field: string;
  readonly type: string;
  readonly fallback: string;
  readonly meaning: string;
}

/** A problem that keeps the reference from being generated. */
export class ConfigReferenceError extends Error {
  override readonly name = 'ConfigReferenceError';
}

/** `docs` with every generated table rewritten from `schema`. */
export function renderReference(docs: string, schema: JsonSchema): string {
  const markers = [...docs.matchAll(MARKER)].map((match) => ({
    path: match[1] as string,
    shallow: match[2] !== undefined,
  }));
  if (markers.length === 0) throw new ConfigReferenceError('no <!-- generated:fields … --> markers found');
  const targets = new Set(markers.filter((marker) => !marker.shallow).map((marker) => marker.path));
  const documented = new Set<string>();
  const undescribed: string[] = [];
  const tables = new Map<string, string>();
  for (const marker of markers) {
    const node = resolve(schema, marker.path);
    const rows = fieldRows(node, marker, targets, documented, undescribed);
    tables.set(markerKey(marker), table(rows));
  }
  const missing = fieldPaths(schema, '.').filter((path) => !documented.has(path));
  const problems = [
    ...undescribed.map((path) => `${path}: no description (add .describe() or .meta() to its zod schema)`),
    ...missing.map((path) => `${path}: in no generated table (add a <!-- generated:fields … --> marker)`),
  ];
  if (problems.length > 0) {
    throw new ConfigReferenceError(
      `The config reference cannot be generated:\n  - ${problems.join('\n  - ')}`,
    );
  }
  return docs.replace(MARKER, (_match, path: string, shallow: string | undefined) => {
    const key = markerKey({ path, shallow: shallow !== undefined });
    return `<!-- generated:fields ${path}${shallow ?? ''} -->\n${tables.get(key)}<!-- /generated -->`;
  });
}

const markerKey = (marker: Marker) => `${marker.path}${marker.shallow ? ' shallow' : ''}`;

/** The node a marker path names. */
function resolve(schema: JsonSchema, path: string): JsonSchema {
  if (path === '.') return schema;
  let node = schema;
  for (const segment of path.split('.')) {
    const mapValue = /^<\w+>$/.test(segment);
    const key = segment.replace(/\[\]$/, '');
    const child = mapValue ? mapValues(node) : node.properties?.[key];
    if (!child) throw new ConfigReferenceError(`marker path ${path}: no field "${segment}"`);
    node = segment.endsWith('[]') ? (child.items ?? {}) : child;
    if (segment.endsWith('[]') && !child.items)
      throw new ConfigReferenceError(`marker path ${path}: ${key} is no list`);
  }
  return node;
}

const join = (parent: string, child: string) => (parent === '.' ? child : `${parent}.${child}`);

function mapValues(node: JsonSchema): JsonSchema | undefined {
  return typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
}

/** The object a field's own fields are in: itself, its items, or its map values. */
function nestedObject(node: JsonSchema): { object: JsonSchema; suffix: string } | undefined {
  if (node.properties) return { object: node, suffix: '' };
  if (node.items?.properties) return { object: node.items, suffix: '[]' };
  const values = mapValues(node);
  if (values?.properties) return { object: values, suffix: '.<name>' };
  return undefined;
}

/** Every field path of the schema, in the marker path notation. */
function fieldPaths(node: JsonSchema, path: string): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const own = join(path, key);
    const nested = nestedObject(child);
    return [own, ...(nested ? fieldPaths(nested.object, `${own}${nested.suffix}`) : [])];
  });
}

function fieldRows(
  node: JsonSchema,
  marker: Marker,
  targets: ReadonlySet<string>,
  documented: Set<string>,
  undescribed: string[],
): Row[] {
  const rows: Row[] = [];
  const visit = (object: JsonSchema, path: string, prefix: string) => {
    const required = new Set(object.required ?? []);
    for (const [key, child] of Object.entries(object.properties ?? {})) {
      const full = join(path, key);
      const nested = nestedObject(child);
      const nestedPath = nested ? `${full}${nested.suffix}` : undefined;
      const listedElsewhere =
        nestedPath !== undefined && targets.has(nestedPath) && nestedPath !== marker.path;
      if (!child.description) undescribed.push(full);
      documented.add(full);
      rows.push({
        field: `${prefix}${key}`,
        type: typeOf(child),
        fallback: fallbackOf(child, required.has(key)),
        meaning: meaningOf(child, listedElsewhere ? nestedPath : undefined),
      });
      if (nested && nestedPath && !marker.shallow && !listedElsewhere) {
        visit(nested.object, nestedPath, `${prefix}${key}${nested.suffix}.`);
      }
    }
  };
  visit(node, marker.path, '');
  return rows;
}

function typeOf(node: JsonSchema, many = false): string {
  if (node.title) return many ? plural(node.title) : node.title;
  if (node.enum) return node.enum.map((value) => `\`${String(value)}\``).join(' | ');
  if (node.const !== undefined) return `\`${String(node.const)}\``;
  const type = typeof node.type === 'string' || node.type === undefined ? node.type : node.type.join(' | ');
  switch (type) {
    case 'integer':
    case 'number':
      return numberType(node, type, many);
    case 'array':
      return `list of ${node.items ? typeOf(node.items, true) : 'values'}${countOf(node)}`;
    case 'object': {
      const values = mapValues(node);
      if (values && node.propertyNames) return `map of ${typeOf(node.propertyNames)} → ${typeOf(values)}`;
      return many ? 'objects' : 'object';
    }
    case undefined:
      return 'any';
    default:
      return many ? plural(type) : type;
  }
}

function numberType(node: JsonSchema, type: 'integer' | 'number', many: boolean): string {
  const noun = many ? `${type}s` : type;
  // zod's int() bounds every integer by the safe range: no bound worth showing.
  const bound = (value: number | undefined) =>
    value === undefined || Math.abs(value) >= Number.MAX_SAFE_INTEGER ? undefined : value;
  const positive = node.exclusiveMinimum === 0;
  const max = bound(node.maximum);
  const min = bound(node.minimum) ?? (positive && type === 'integer' ? 1 : undefined);
  if (min !== undefined && max !== undefined) return `${noun} ${min}–${max}`;
  if (positive) return `positive ${noun}`;
  if (min !== undefined) return `${noun} ≥ ${min}`;
  if (max !== undefined) return `${noun} ≤ ${max}`;
  return noun;
}

/** `names`, `log group names`; a label that is no plain noun (`all` | `n/t`) stays as it is. */
const plural = (noun: string) => (/^[a-z ]+[^s]$/i.test(noun) ? `${noun}s` : noun);

function countOf(node: JsonSchema): string {
  const { minItems: min, maxItems: max } = node;
  if (min !== undefined && max !== undefined) return ` (${min}–${max})`;
  if (min !== undefined) return ` (at least ${min})`;
  if (max !== undefined) return ` (at most ${max})`;
  return '';
}

function fallbackOf(node: JsonSchema, required: boolean): string {
  if (required) return '**required**';
  if (node.default === undefined) return '—';
  const value = node.default;
  if (typeof value === 'string') return `\`${value}\``;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.keys(value).length === 0 ? '`{}`' : 'its fields’ defaults';
  }
  return `\`${JSON.stringify(value)}\``;
}

function meaningOf(node: JsonSchema, listedAt: string | undefined): string {
  const parts = [node.description ?? ''];
  if (node.examples?.length) {
    parts.push(`e.g. ${node.examples.map((example) => `\`${String(example)}\``).join(', ')}`);
  }
  if (listedAt) parts.push(`fields: \`${listedAt}\` below`);
  return parts.filter(Boolean).join('; ');
}

const cell = (text: string) => text.replace(/\n+/g, ' ').replace(/\|/g, '\\|');

function table(rows: readonly Row[]): string {
  const lines = [
    '| field | type | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (row) => `| \`${row.field}\` | ${cell(row.type)} | ${cell(row.fallback)} | ${cell(row.meaning)} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
