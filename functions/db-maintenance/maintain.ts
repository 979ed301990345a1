/**
 * The database work of one maintenance run, over one connection: the statistics first (largest
 * tables, dead rows, invalid indexes, long-running queries, as they are before maintenance), then
 * ANALYZE, or VACUUM (ANALYZE) where configured, with the server's own statement timeout.
 */
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { ResolvedDatabaseMaintenance } from '#common/maintenance/maintenance-config';
import type { DatabaseMaintenanceEntry } from '#common/maintenance/maintenance-results';
import { bloatedTables, namedDatabaseError, summariseNotices, type TableRow } from './statistics.ts';

export interface Connection {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  readonly tls: false | ConnectionOptions;
}

const LARGEST_TABLES = `
  SELECT n.nspname || '.' || c.relname AS "table",
         pg_total_relation_size(c.oid)::float8 AS "totalBytes",
         coalesce(s.n_live_tup, 0)::float8 AS "liveRows",
         coalesce(s.n_dead_tup, 0)::float8 AS "deadRows"
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
   WHERE c.relkind IN ('r', 'm', 'p')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg_toast%'`;

const INVALID_INDEXES = `
  SELECT ni.nspname || '.' || ci.relname AS "index", nt.nspname || '.' || ct.relname AS "table"
    FROM pg_index i
    JOIN pg_class ci ON ci.oid = i.indexrelid JOIN pg_namespace ni ON ni.oid = ci.relnamespace
    JOIN pg_class ct ON ct.oid = i.indrelid JOIN pg_namespace nt ON nt.oid = ct.relnamespace
   WHERE NOT i.indisvalid`;

const LONG_QUERIES = `
  SELECT pid, usename AS "user", state,
         extract(epoch FROM now() - query_start)::float8 AS seconds,
         left(query, 300) AS query
    FROM pg_stat_activity
   WHERE state IS DISTINCT FROM 'idle'
     AND pid <> pg_backend_pid()
     AND backend_type = 'client backend'
     AND query_start < now() - make_interval(secs => $1)
   ORDER BY seconds DESC
   LIMIT 20`;

/** Maintains one database; throws a named error when it cannot connect or a statement fails. */
export async function maintainDatabase(
  target: ResolvedDatabaseMaintenance,
  connection: Connection,
): Promise<DatabaseMaintenanceEntry> {
  const where = `database ${target.database} of ${target.type} ${target.identifier}`;
  const started = performance.now();
  const client = new pg.Client({
    host: connection.host,
    port: connection.port,
    database: target.database,
    user: target.user,
    password: connection.password,
    ssl: connection.tls,
    connectionTimeoutMillis: 15_000,
    // The server cancels a statement that runs past this; the client keeps no timer of its own.
    statement_timeout: target.statementTimeoutMinutes * 60_000,
    application_name: 'caretaker-db-maintenance',
  });
  client.on('error', () => undefined);
  const notices: string[] = [];
  client.on('notice', (notice) => notices.push(notice.message ?? String(notice)));
  try {
    await client.connect();
    const tables = (await client.query<TableRow>(LARGEST_TABLES)).rows;
    const invalid = (await client.query<{ index: string; table: string }>(INVALID_INDEXES)).rows;
    const long = (
      await client.query<{
        pid: number;
        user: string | null;
        state: string | null;
        seconds: number;
        query: string;
      }>(LONG_QUERIES, [target.longQuerySeconds])
    ).rows;
    const maintenanceStarted = performance.now();
    // VACUUM cannot run inside a transaction block: each statement runs on its own.
    if (target.vacuum) await client.query(target.analyze ? 'VACUUM (ANALYZE)' : 'VACUUM');
    else if (target.analyze) await client.query('ANALYZE');
    const maintenanceMs = Math.round(performance.now() - maintenanceStarted);
    return {
      target: target.rdsTarget,
      status: 'succeeded',
      identifier: target.identifier,
      database: target.database,
      analyzed: target.analyze,
      vacuumed: target.vacuum,
      maintenanceMs,
      durationMs: Math.round(performance.now() - started),
      largestTables: [...tables].sort((a, b) => b.totalBytes - a.totalBytes).slice(0, target.largestTables),
      bloatedTables: bloatedTables(tables, target.bloatWarnPercent),
      invalidIndexes: invalid,
      longQueries: long.map((q) => ({
        pid: q.pid,
        ...(q.user ? { user: q.user } : {}),
        ...(q.state ? { state: q.state } : {}),
        seconds: q.seconds,
        query: q.query,
      })),
      thresholds: { longQuerySeconds: target.longQuerySeconds, bloatWarnPercent: target.bloatWarnPercent },
      notes: summariseNotices(notices),
    };
  } catch (error) {
    throw namedDatabaseError(error, where);
  } finally {
    await client.end().catch(() => undefined);
  }
}
