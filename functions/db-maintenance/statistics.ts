/**
 * What the database's own statistics say, turned into report entries (pure): bloat as the share of
 * dead rows a table carries (pg_stat_user_tables' estimate, the figure autovacuum itself acts on),
 * the largest tables, and errors PostgreSQL reports mapped to Caretaker's named errors.
 */
import {
  AccessDeniedError,
  NetworkError,
  NotFoundError,
  PreconditionFailedError,
  TimeoutExceededError,
} from '#common/runtime/errors';

export interface TableRow {
  readonly table: string;
  readonly totalBytes: number;
  readonly liveRows: number;
  readonly deadRows: number;
}

/** Tables with fewer dead rows than this are not called bloated, whatever their share. */
export const MIN_DEAD_ROWS = 100;

/** Tables whose dead rows exceed `warnPercent` of their rows, most bloated first. */
export function bloatedTables(tables: readonly TableRow[], warnPercent: number) {
  return tables
    .map((t) => ({
      table: t.table,
      liveRows: t.liveRows,
      deadRows: t.deadRows,
      deadPercent: t.liveRows + t.deadRows === 0 ? 0 : (t.deadRows * 100) / (t.liveRows + t.deadRows),
    }))
    .filter((t) => t.deadRows >= MIN_DEAD_ROWS && t.deadPercent > warnPercent)
    .sort((a, b) => b.deadPercent - a.deadPercent);
}

/**
 * Collapses the server's notices during maintenance into a few lines: ANALYZE and VACUUM skip each
 * table the user does not own with one WARNING, which on a large database is thousands of lines.
 */
export function summariseNotices(notices: readonly string[]): string[] {
  const skipped = notices.filter((n) => /^(skipping|permission denied)/i.test(n));
  const other = notices.filter((n) => !skipped.includes(n));
  return [
    ...(skipped.length > 0
      ? [
          `${skipped.length} table${skipped.length === 1 ? ' was' : 's were'} skipped: the user does not own ${skipped.length === 1 ? 'it' : 'them'} (grant pg_maintain or connect as the owner), e.g. ${skipped[0]}`,
        ]
      : []),
    ...other.slice(0, 10),
  ];
}

/** A PostgreSQL error (SQLSTATE in `code`) as the named error the flow catches. */
export function namedDatabaseError(error: unknown, where: string): Error {
  const code = (error as { code?: unknown }).code;
  const message = `${where}: ${(error as Error).message ?? String(error)}`;
  if (typeof code !== 'string') return error as Error;
  if (code === '28P01' || code === '28000' || code === '42501')
    return new AccessDeniedError(message, { sqlState: code });
  if (code === '3D000') return new NotFoundError(message, { sqlState: code });
  if (code === '57014') return new TimeoutExceededError(message, { sqlState: code });
  if (code.startsWith('08') || code === '57P01' || code === '57P03')
    return new NetworkError(message, { sqlState: code });
  if (/^[0-9A-Z]{5}$/.test(code)) return new PreconditionFailedError(message, { sqlState: code });
  return error as Error;
}
