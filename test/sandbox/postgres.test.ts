/**
 * The PostgreSQL process manager behind the sandbox's RDS: real servers that require their
 * password, online backups that restore to a consistent state while clients write, and no server
 * left running after close(), after its parent dies by SIGKILL, or after a crashed earlier run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chownTree, ensureReachable, NOBODY, serverIdentity } from '../../sandbox/postgres/identity.ts';
import { PostgresManager, type PostgresServer } from '../../sandbox/postgres/manager.ts';
import { failure, noPostgresLeft, postgresProcesses } from './rds-support.ts';

const MASTER = { user: 'app_owner', password: 'owner-secret-1', database: 'shop' };
const MANAGER_MODULE = fileURLToPath(new URL('../../sandbox/postgres/manager.ts', import.meta.url));
let root: string;
let manager: PostgresManager;
let server: PostgresServer;

function connect(port: number, credentials = MASTER): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, ...credentials });
  return client.connect().then(() => client);
}

/**
 * Starts a Node process that creates a server under `dir` with the manager, prints the
 * postmaster's pid, and stays alive until killed.
 */
async function serverInChild(dir: string): Promise<{ child: ChildProcess; pid: number }> {
  const code = `
    import { PostgresManager } from ${JSON.stringify(MANAGER_MODULE)};
    const manager = new PostgresManager(${JSON.stringify(dir)});
    await manager.open();
    const server = await manager.create(await manager.newHome('servers'), { masterUsername: 'orphan', masterPassword: 'orphan-secret-1' });
    process.stdout.write(JSON.stringify({ pid: server.pid }) + '\\n');
    setInterval(() => {}, 60_000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((text) => text.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { pid: number }).pid);
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before starting a server`)));
  });
  return { child, pid };
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return parentOf(pid) === parent;
      } catch {
        return false;
      }
    });
}

/** A fresh manager directory holding a copy of the shared template, so it needs no initdb of its own. */
async function seededDir(name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `caretaker-postgres-${name}-`));
  cpSync(join(root, 'pg', 'template'), join(dir, 'template'), { recursive: true });
  cpSync(join(root, 'pg', 'admin.secret'), join(dir, 'admin.secret'));
  // As the manager's own template is: owned by the user PostgreSQL runs as.
  await chownTree(join(dir, 'template'), serverIdentity());
  return dir;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'caretaker-postgres-test-'));
  manager = new PostgresManager(join(root, 'pg'), root);
  await manager.open();
  server = await manager.create(await manager.newHome('servers'), {
    masterUsername: MASTER.user,
    masterPassword: MASTER.password,
    dbName: MASTER.database,
  });
}, 120_000);

afterAll(async () => {
  await manager?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a created database', () => {
  it('lets the master user into its database with the password, owning it', async () => {
    const client = await connect(server.port);
    const row = (
      await client.query(
        'SELECT current_user AS user, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()',
      )
    ).rows[0];
    await client.end();

    expect(row).toEqual({ user: MASTER.user, owner: MASTER.user });
  });

  it('refuses a wrong password and the internal admin without its password', async () => {
    const wrong = await failure(connect(server.port, { ...MASTER, password: 'guess-guess' }));
    const admin = await failure(connect(server.port, { ...MASTER, user: 'rdsadmin', password: '' }));

    expect(wrong.message).toMatch(/password authentication failed/);
    expect(admin.message).toMatch(/password/);
  });

  it('runs the server as an unprivileged user', () => {
    const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);

    expect(uid).not.toBe(0);
  });
});

describe('reaching the data directory as another user', () => {
  it('opens the sandbox-owned directories to search by others, and names a blocking directory it does not own', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'caretaker-reach-'));
    chmodSync(outside, 0o700);
    const owned = join(outside, 'sandbox');
    mkdirSync(join(owned, 'rds'), { recursive: true, mode: 0o700 });
    chmodSync(owned, 0o700);

    const blocked = await failure(ensureReachable(join(owned, 'rds'), owned, NOBODY));
    chmodSync(outside, 0o755);
    await ensureReachable(join(owned, 'rds'), owned, NOBODY);
    const modes = [owned, join(owned, 'rds')].map((dir) => statSync(dir).mode & 0o777);
    rmSync(outside, { recursive: true, force: true });

    expect(blocked.message).toContain(`cannot reach ${outside}`);
    expect(modes).toEqual([0o701, 0o701]);
  });
});

describe('online backup', () => {
  it('restores to a consistent state while clients keep writing', async () => {
    const setup = await connect(server.port);
    await setup.query('CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)');
    await setup.query('INSERT INTO accounts SELECT n, 1000 FROM generate_series(1, 100) AS n');
    await setup.end();
    let writing = true;
    const writer = (async () => {
      const client = await connect(server.port);
      let transfers = 0;
      while (writing) {
        const from = (transfers % 100) + 1;
        const to = ((transfers * 7) % 100) + 1;
        await client.query('BEGIN');
        await client.query('UPDATE accounts SET balance = balance - 3 WHERE id = $1', [from]);
        await client.query('UPDATE accounts SET balance = balance + 3 WHERE id = $1', [to]);
        await client.query('COMMIT');
        transfers++;
      }
      await client.end();
      return transfers;
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const snapshotHome = await manager.newHome('snapshots');
    const backup = await manager.backup(server, snapshotHome);
    writing = false;
    const transfers = await writer;
    const restoredHome = await manager.newHome('servers');
    await manager.restore(snapshotHome, restoredHome);
    const restored = await manager.start(restoredHome);
    const client = await connect(restored.port);
    const total = (await client.query('SELECT sum(balance)::int AS total, count(*)::int AS n FROM accounts'))
      .rows[0];
    await client.end();
    await manager.stop(restored);

    expect(transfers).toBeGreaterThan(0);
    expect(backup.bytes).toBeGreaterThan(1_000_000);
    expect(total).toEqual({ total: 100_000, n: 100 });
  }, 120_000);
});

describe('ports', () => {
  let blocker: Server;

  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('starts on another free port when the preferred one is taken', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const taken = (blocker.address() as { port: number }).port;
    const home = await manager.newHome('servers');
    await manager.restore(await snapshotOf(server), home);

    const moved = await manager.start(home, taken);
    await manager.stop(moved);

    expect(moved.port).not.toBe(taken);
  });
});

async function snapshotOf(source: PostgresServer): Promise<string> {
  const home = await manager.newHome('snapshots');
  await manager.backup(source, home);
  return home;
}

describe('no server outlives the sandbox', () => {
  it('close() stops every server the manager started', async () => {
    const dir = await seededDir('close');
    const own = new PostgresManager(dir);
    await own.open();
    const a = await own.create(await own.newHome('servers'), {
      masterUsername: 'a_user',
      masterPassword: 'a-secret-12',
    });
    const b = await own.start(await copyHome(own, a));

    await own.close();
    const left = await noPostgresLeft(dir, 5_000);
    rmSync(dir, { recursive: true, force: true });

    expect(left).toEqual([]);
    expect(b.running).toBe(false);
  }, 120_000);

  it('stops a server whose parent process was killed with SIGKILL', async () => {
    const dir = await seededDir('orphan');
    const { child, pid } = await serverInChild(dir);
    const before = postgresProcesses(dir);

    child.kill('SIGKILL');
    const left = await noPostgresLeft(dir);
    rmSync(dir, { recursive: true, force: true });

    expect(before).toEqual([pid]);
    expect(left).toEqual([]);
  }, 120_000);

  it('stops a server left running by a crashed earlier run on the same directory', async () => {
    const dir = await seededDir('stale');
    const { child, pid } = await serverInChild(dir);
    // Kill the watchdog (its reader and itself) too: as if the whole earlier run died, leaving postgres behind.
    const watchdog = parentOf(pid);
    for (const reader of childrenOf(watchdog).filter((other) => other !== pid))
      process.kill(reader, 'SIGKILL');
    process.kill(watchdog, 'SIGKILL');
    child.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const orphaned = postgresProcesses(dir);

    const next = new PostgresManager(dir);
    const stopped = await next.open();
    const left = await noPostgresLeft(dir, 5_000);
    await next.close();
    rmSync(dir, { recursive: true, force: true });

    expect(orphaned).toEqual([pid]);
    expect(stopped).toEqual([pid]);
    expect(left).toEqual([]);
  }, 120_000);
});

async function copyHome(own: PostgresManager, source: PostgresServer): Promise<string> {
  const snapshot = await own.newHome('snapshots');
  await own.backup(source, snapshot);
  const home = await own.newHome('servers');
  await own.restore(snapshot, home);
  return home;
}
