/**
 * Database query probe: find the target's endpoint (DescribeDBInstances / DescribeDBClusters),
 * fetch the password from the injected provider, connect with `pg`, and run the configured query
 * inside a READ ONLY transaction (so even a query that slipped past the config's SELECT/WITH/SHOW
 * rule cannot write), all under the check's timeout.
 */
import type { ConnectionOptions } from 'node:tls';
import type { RDSClient } from '@aws-sdk/client-rds';
import pg from 'pg';
import { PreconditionFailedError } from '#common/runtime/errors';
import type { ResolvedQueryCheck } from '../check-set.ts';
import type { CheckOutcome } from '../evaluate.ts';
import type { PasswordProvider } from '../secrets.ts';
import { describeError, ProbeTimeoutError } from './errors.ts';
import { describeDatabase } from './rds.ts';

/** TLS for database connections: `false` only for local test databases. */
export type DatabaseTls = false | ConnectionOptions;

export interface QueryRun {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly query: string;
  readonly timeoutMs: number;
  readonly tls: DatabaseTls;
  readonly signal?: AbortSignal;
}

export interface QueryOutcome {
  readonly rows: number;
  /** The first column of the first row when it is a number (a row count), never text. */
  readonly firstValue?: number;
  readonly connectMs: number;
  readonly queryMs: number;
}

function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

/** Connects, runs the query read-only and disconnects. Rejects on connect/query errors and timeouts. */
export async function runQuery(run: QueryRun): Promise<QueryOutcome> {
  const client = new pg.Client({
    host: run.host,
    port: run.port,
    database: run.database,
    user: run.user,
    password: run.password,
    ssl: run.tls,
    connectionTimeoutMillis: run.timeoutMs,
    // The server cancels the statement itself: a client that hangs up does not stop a running query.
    statement_timeout: run.timeoutMs,
    application_name: 'caretaker-health-check',
  });
  // pg reports a dropped connection as an 'error' event; without a listener it would crash the process.
  client.on('error', () => undefined);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void client.end();
  }, run.timeoutMs);
  const onAbort = () => void client.end();
  run.signal?.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  try {
    await client.connect();
    const connected = performance.now();
    await client.query('BEGIN READ ONLY');
    const result = await client.query({ text: run.query, rowMode: 'array' });
    await client.query('ROLLBACK');
    const firstValue = numericValue((result.rows[0] as unknown[] | undefined)?.[0]);
    return {
      rows: result.rows.length,
      ...(firstValue !== undefined ? { firstValue } : {}),
      connectMs: Math.round(connected - started),
      queryMs: Math.round(performance.now() - connected),
    };
  } catch (error) {
    throw timedOut ? new ProbeTimeoutError(run.timeoutMs) : error;
  } finally {
    clearTimeout(timer);
    run.signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

export interface QueryProbeOptions {
  readonly rds: RDSClient;
  readonly password: PasswordProvider;
  readonly tls: DatabaseTls;
  readonly signal?: AbortSignal;
}

/** Resolves the endpoint and password, runs the query, evaluates. Every failure fails the check with its reason. */
export async function probeQuery(
  check: ResolvedQueryCheck,
  options: QueryProbeOptions,
): Promise<CheckOutcome> {
  const where = `${check.database}@${check.type} ${check.identifier}`;
  const base = {
    identifier: check.identifier,
    type: check.type,
    database: check.database,
    user: check.user,
    minRows: check.minRows,
    timeoutMs: check.timeoutMs,
  };
  let endpoint: { host: string; port: number } | undefined;
  try {
    const db = await describeDatabase(options.rds, check);
    if (!db.endpoint) {
      throw new PreconditionFailedError(
        `${check.type} ${check.identifier} has no endpoint (status ${db.status})`,
      );
    }
    endpoint = db.endpoint;
    const password = await options.password(check.passwordSecretArn);
    const outcome = await runQuery({
      ...endpoint,
      database: check.database,
      user: check.user,
      password,
      query: check.query,
      timeoutMs: check.timeoutMs,
      tls: options.tls,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return evaluateQuery(check, outcome, endpoint);
  } catch (error) {
    const reason = describeError(error);
    return {
      status: 'fail',
      summary: `${where}: query not run (${reason})`,
      evidence: {
        ...base,
        ...(endpoint ? { endpoint: `${endpoint.host}:${endpoint.port}` } : {}),
        error: reason,
      },
    };
  }
}

/** Fewer rows than `minRows` → fail; otherwise pass (pure). */
export function evaluateQuery(
  check: ResolvedQueryCheck,
  outcome: QueryOutcome,
  endpoint: { readonly host: string; readonly port: number },
): CheckOutcome {
  const enough = outcome.rows >= check.minRows;
  const value = outcome.firstValue !== undefined ? `, first value ${outcome.firstValue}` : '';
  return {
    status: enough ? 'pass' : 'fail',
    summary: `${check.database}@${check.type} ${check.identifier}: ${outcome.rows} row${outcome.rows === 1 ? '' : 's'} (minimum ${check.minRows})${value}, query ${outcome.queryMs} ms`,
    evidence: {
      identifier: check.identifier,
      type: check.type,
      endpoint: `${endpoint.host}:${endpoint.port}`,
      database: check.database,
      user: check.user,
      rows: outcome.rows,
      minRows: check.minRows,
      ...(outcome.firstValue !== undefined ? { firstValue: outcome.firstValue } : {}),
      connectMs: outcome.connectMs,
      queryMs: outcome.queryMs,
      timeoutMs: check.timeoutMs,
    },
  };
}
