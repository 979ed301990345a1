/**
 * Helpers shared by the RDS sandbox tests: polling statuses as a caller would, connecting with
 * `pg` to what an Endpoint reports, and reading the process table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import pg from 'pg';

const POLL_MS = 20;
const TIMEOUT_MS = 60_000;

/** Polls until `read` returns `wanted`; returns every distinct value seen, in order. */
export async function pollUntil(
  read: () => Promise<string | undefined>,
  wanted: string,
  what: string,
): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = (await read()) ?? '(none)';
    if (seen.at(-1) !== value) seen.push(value);
    if (value === wanted) return seen;
    if (value === 'failed') throw new Error(`${what} failed (seen: ${seen.join(' → ')})`);
    if (Date.now() > deadline) throw new Error(`${what} never became ${wanted} (seen: ${seen.join(' → ')})`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function instanceStatus(rds: RDSClient, id: string): Promise<string | undefined> {
  return rds
    .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))
    .then((out) => out.DBInstances?.[0]?.DBInstanceStatus);
}

export function waitForInstance(rds: RDSClient, id: string, status = 'available'): Promise<string[]> {
  return pollUntil(() => instanceStatus(rds, id), status, `DB instance ${id}`);
}

export function waitForCluster(rds: RDSClient, id: string, status = 'available'): Promise<string[]> {
  return pollUntil(
    () =>
      rds
        .send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))
        .then((out) => out.DBClusters?.[0]?.Status),
    status,
    `DB cluster ${id}`,
  );
}

export function waitForSnapshot(rds: RDSClient, id: string): Promise<string[]> {
  return pollUntil(
    () =>
      rds
        .send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }))
        .then((out) => out.DBSnapshots?.[0]?.Status),
    'available',
    `DB snapshot ${id}`,
  );
}

export function waitForClusterSnapshot(rds: RDSClient, id: string): Promise<string[]> {
  return pollUntil(
    () =>
      rds
        .send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }))
        .then((out) => out.DBClusterSnapshots?.[0]?.Status),
    'available',
    `DB cluster snapshot ${id}`,
  );
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function failure(
  promise: Promise<unknown>,
): Promise<Error & { Code?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { Code?: string };
  }
  throw new Error('expected the call to fail');
}

/** Runs `work` with a pg client connected to an endpoint as the given user. */
export async function withPg<T>(
  endpoint: { Address?: string; Port?: number },
  credentials: { user: string; password: string; database: string },
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ host: endpoint.Address, port: endpoint.Port, ...credentials });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Pids of running postgres processes whose command line mentions `pathPart`. */
export function postgresProcesses(pathPart: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const zombie = state.slice(state.lastIndexOf(')') + 2).startsWith('Z');
      if (!zombie && cmdline[0]?.endsWith('/postgres') && cmdline.some((arg) => arg.includes(pathPart))) {
        pids.push(Number(entry));
      }
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Waits until no postgres mentions `pathPart` (a watchdog needs a moment to act). */
export async function noPostgresLeft(pathPart: string, timeoutMs = 15_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = postgresProcesses(pathPart);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
