/**
 * Filters and Marker/MaxRecords pagination shared by the Describe operations.
 */
import { invalidParameterValue } from './errors.ts';
import type { Filter, RdsInput } from './input.ts';
import { parseRdsArn } from './model.ts';
import { maxRecords } from './validate.ts';

/** How each supported filter name reads an item: the values it is matched against. */
export type FilterFields<T> = Readonly<Record<string, (item: T) => readonly (string | undefined)[]>>;

/** Keeps the items every filter matches (filters AND together, a filter's values OR together). */
export function applyFilters<T>(
  items: readonly T[],
  filters: readonly Filter[],
  fields: FilterFields<T>,
): T[] {
  for (const filter of filters) {
    if (!Object.hasOwn(fields, filter.name)) {
      throw invalidParameterValue(`Unrecognized filter name: ${filter.name}`);
    }
  }
  return items.filter((item) =>
    filters.every((filter) => {
      const read = fields[filter.name];
      const have = read ? read(item) : [];
      return filter.values.some((wanted) =>
        have.some((value) => value !== undefined && matches(value, wanted)),
      );
    }),
  );
}

/** Identifier filters accept identifiers or ARNs; identifiers compare case-insensitively. */
function matches(value: string, wanted: string): boolean {
  if (value === wanted) return true;
  const arn = parseRdsArn(wanted);
  const id = arn ? arn.id : wanted;
  return value.toLowerCase() === id.toLowerCase();
}

/** One page of items sorted by `key`, and the Marker for the next page. */
export function paginate<T>(
  items: readonly T[],
  input: RdsInput,
  key: (item: T) => string,
): { page: T[]; marker: string | undefined } {
  const limit = maxRecords(input.integer('MaxRecords'));
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const marker = input.string('Marker');
  let start = 0;
  if (marker !== undefined) {
    const after = decodeMarker(marker);
    start = sorted.findIndex((item) => key(item) > after);
    if (start === -1) start = sorted.length;
  }
  const page = sorted.slice(start, start + limit);
  const last = page.at(-1);
  const more = start + limit < sorted.length && last !== undefined;
  return { page, marker: more ? encodeMarker(key(last)) : undefined };
}

function encodeMarker(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

function decodeMarker(marker: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // reported below
  }
  throw invalidParameterValue(`Invalid Marker: ${marker}`);
}
