/**
 * The subset of the CloudWatch Logs Insights query language the sandbox runs: a pipeline of
 *
 *   fields <field>, …                       (ignored: every field is available)
 *   filter <field> like /regex/             (also `=~`; `/(?i)…/` is case-insensitive)
 *   stats count(*) as <name>[, …] [by <field>]
 *   sort <name> [asc|desc]
 *   limit <n>
 *
 * over events whose fields are `@timestamp`, `@message`, `@logStream`, `@log`, and for a JSON
 * message its fields (nested ones dotted: `error.code`), as Insights discovers them. Anything else
 * is refused as AWS refuses a query it cannot parse (MalformedQueryException), so a Caretaker query
 * outside the subset fails loudly here rather than answering something AWS would not. Pure.
 */

export interface LogEvent {
  readonly timestamp: number;
  readonly message: string;
  readonly logStream: string;
  readonly logGroup: string;
}

export type Row = readonly { readonly field: string; readonly value: string }[];

type Command =
  | { readonly kind: 'filter'; readonly field: string; readonly pattern: RegExp }
  | { readonly kind: 'stats'; readonly counts: readonly string[]; readonly by?: string }
  | { readonly kind: 'sort'; readonly field: string; readonly descending: boolean }
  | { readonly kind: 'limit'; readonly count: number };

export class MalformedQueryError extends Error {
  override readonly name = 'MalformedQueryError';
}

/** Splits a query at the pipes that are not inside a /regex/ literal. */
function splitPipeline(query: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inRegex = false;
  for (let i = 0; i < query.length; i++) {
    const ch = query[i]!;
    if (ch === '\\' && inRegex) {
      current += ch + (query[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '/') inRegex = !inRegex;
    if (ch === '|' && !inRegex) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  parts.push(current.trim());
  return parts;
}

const FIELD = '@?[A-Za-z_][\\w.]*';

function parseCommand(text: string): Command | undefined {
  const fields = new RegExp(`^fields\\s+${FIELD}(\\s*,\\s*${FIELD})*$`, 'i');
  if (fields.test(text)) return undefined;
  const filter = new RegExp(`^filter\\s+(${FIELD})\\s+(?:like|=~)\\s+/(.*)/$`, 'is').exec(text);
  if (filter) {
    let source = filter[2]!;
    let flags = '';
    if (source.startsWith('(?i)')) {
      source = source.slice(4);
      flags = 'i';
    }
    try {
      return { kind: 'filter', field: filter[1]!, pattern: new RegExp(source.replace(/\\\//g, '/'), flags) };
    } catch (error) {
      throw new MalformedQueryError(`Invalid regular expression /${filter[2]}/: ${(error as Error).message}`);
    }
  }
  const stats = new RegExp(
    `^stats\\s+(count\\(\\*\\)\\s+as\\s+\\w+(?:\\s*,\\s*count\\(\\*\\)\\s+as\\s+\\w+)*)(?:\\s+by\\s+(${FIELD}))?$`,
    'i',
  ).exec(text);
  if (stats) {
    const counts = stats[1]!.split(',').map((part) => /as\s+(\w+)/i.exec(part)![1]!);
    return { kind: 'stats', counts, ...(stats[2] ? { by: stats[2] } : {}) };
  }
  const sort = new RegExp(`^sort\\s+(${FIELD})(?:\\s+(asc|desc))?$`, 'i').exec(text);
  if (sort)
    return { kind: 'sort', field: sort[1]!, descending: (sort[2] ?? 'desc').toLowerCase() === 'desc' };
  const limit = /^limit\s+(\d+)$/i.exec(text);
  if (limit) return { kind: 'limit', count: Number(limit[1]) };
  throw new MalformedQueryError(
    `The sandbox's Logs Insights runs fields, filter … like /regex/, stats count(*) as … [by …], sort and limit; it cannot parse "${text}"`,
  );
}

/** Parses a query into its commands (fields commands dropped). */
export function parseQuery(query: string): Command[] {
  if (query.trim() === '') throw new MalformedQueryError('The query is empty');
  return splitPipeline(query).flatMap((part) => {
    const command = parseCommand(part);
    return command ? [command] : [];
  });
}

/** Flattens a JSON object's fields as Insights discovers them (`a.b` for nested ones). */
function jsonFields(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, inner] of Object.entries(value)) {
    const name = `${prefix}${key}`;
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner))
      jsonFields(inner, `${name}.`, out);
    else out.set(name, typeof inner === 'string' ? inner : JSON.stringify(inner));
  }
}

function fieldsOf(event: LogEvent): Map<string, string> {
  const fields = new Map<string, string>([
    ['@timestamp', new Date(event.timestamp).toISOString().replace('T', ' ').replace('Z', '')],
    ['@message', event.message],
    ['@logStream', event.logStream],
    ['@log', event.logGroup],
  ]);
  if (event.message.trimStart().startsWith('{')) {
    try {
      jsonFields(JSON.parse(event.message), '', fields);
    } catch {
      // Not JSON after all: only the @ fields.
    }
  }
  return fields;
}

/** Runs a parsed query over events; returns the result rows and how many events matched the filters. */
export function runQuery(
  commands: readonly Command[],
  events: readonly LogEvent[],
): { rows: Row[]; matched: number } {
  let records: Map<string, string>[] = events.map(fieldsOf);
  let aggregated = false;
  let matched: number | undefined;
  for (const command of commands) {
    switch (command.kind) {
      case 'filter':
        records = records.filter((record) => {
          const value = record.get(command.field);
          return value !== undefined && command.pattern.test(value);
        });
        break;
      case 'stats': {
        matched ??= records.length;
        const groups = new Map<string, number>();
        for (const record of records) {
          const key = command.by ? (record.get(command.by) ?? '') : '';
          groups.set(key, (groups.get(key) ?? 0) + 1);
        }
        // stats over nothing, without a group, still answers one row of zeros (as Insights does).
        if (groups.size === 0 && !command.by) groups.set('', 0);
        records = [...groups].map(([key, count]) => {
          const row = new Map<string, string>();
          if (command.by) row.set(command.by, key);
          for (const name of command.counts) row.set(name, String(count));
          return row;
        });
        aggregated = true;
        break;
      }
      case 'sort': {
        const numeric = (v: string | undefined) =>
          v !== undefined && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
        records = [...records].sort((a, b) => {
          const x = a.get(command.field);
          const y = b.get(command.field);
          const nx = numeric(x);
          const ny = numeric(y);
          const order = nx !== undefined && ny !== undefined ? nx - ny : (x ?? '').localeCompare(y ?? '');
          return command.descending ? -order : order;
        });
        break;
      }
      case 'limit':
        records = records.slice(0, command.count);
        break;
    }
  }
  const rows = records.map((record) =>
    [...record]
      .filter(([field]) => aggregated || field === '@timestamp' || field === '@message')
      .map(([field, value]) => ({ field, value })),
  );
  return { rows, matched: matched ?? records.length };
}
