/**
 * Helpers for the tests of sandboxes as separate processes (`caretaker sandbox up` in a child,
 * killed, holding a data directory, or running beside another), and of data directories in
 * folders only their owner can read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CreateDBInstanceCommand,
  type DBInstance,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';

const ROOT = resolve(import.meta.dirname, '../..');
const READY = /^Sandbox ready at (http:\/\/127\.0\.0\.1:(\d+))$/m;
const READY_TIMEOUT_MS = 90_000;

/** A `caretaker sandbox up` child process. */
export interface SandboxProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node bin/caretaker.js sandbox up --port 0 --data-dir <dataDir>`, without waiting for it. */
export function spawnSandbox(dataDir: string): Omit<SandboxProcess, 'url'> {
  const child = spawn(
    process.execPath,
    ['bin/caretaker.js', 'sandbox', 'up', '--port', '0', '--data-dir', dataDir],
    {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('close', (code, signal) => done({ code, signal }));
  });
  if (child.pid === undefined) throw new Error('could not spawn node');
  return { child, pid: child.pid, stdout: () => out, stderr: () => err, exited };
}

/** Starts `sandbox up` on `dataDir` and resolves once it prints its ready line. */
export async function sandboxUp(dataDir: string): Promise<SandboxProcess> {
  const started = spawnSandbox(dataDir);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const url = READY.exec(started.stdout())?.[1];
    if (url) return { ...started, url };
    if (started.child.exitCode !== null || started.child.signalCode !== null) {
      throw new Error(`caretaker sandbox up exited early: ${started.stderr()}`);
    }
    if (Date.now() > deadline) throw new Error(`caretaker sandbox up was not ready: ${started.stderr()}`);
    await new Promise((done) => setTimeout(done, 25));
  }
}

/** Kills a sandbox process if it still runs (for afterEach hooks). */
export async function killIfRunning(sandbox: Pick<SandboxProcess, 'child' | 'exited'>): Promise<void> {
  if (sandbox.child.exitCode === null && sandbox.child.signalCode === null) {
    sandbox.child.kill('SIGKILL');
    await sandbox.exited;
  }
}

/** An RDS client for the sandbox at `url`, leaving process.env alone. */
export function rdsClientFor(url: string): RDSClient {
  return new RDSClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  });
}

/** A new folder that only its owner can read or enter (as `mktemp -d` makes them). */
export function privateDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `caretaker-${prefix}-`));
  chmodSync(dir, 0o700);
  return dir;
}

/** One server as the sandbox's unsigned inspection route reports it. */
export interface ServerReport {
  readonly id: string;
  readonly status: string;
  readonly port: number | null;
  readonly pid: number | null;
  readonly log: string | null;
}

/** The servers behind the sandbox's RDS instances and clusters. */
export async function rdsServers(url: string): Promise<ServerReport[]> {
  const response = await fetch(`${url}/_sandbox/rds/servers`);
  if (!response.ok) throw new Error(`/_sandbox/rds/servers answered ${response.status}`);
  return ((await response.json()) as { servers: ServerReport[] }).servers;
}

/** The server behind instance `id`, which must be running. */
export async function runningServer(
  url: string,
  id: string,
): Promise<ServerReport & { pid: number; log: string }> {
  const server = (await rdsServers(url)).find((candidate) => candidate.id === id);
  if (!server?.pid || !server.log) throw new Error(`no running server for ${id}: ${JSON.stringify(server)}`);
  return { ...server, pid: server.pid, log: server.log };
}

/** Creates a PostgreSQL instance with a database `app` for `master`, skipping the automated backup. */
export function createInstance(
  rds: RDSClient,
  id: string,
  master: { user: string; password: string },
): Promise<unknown> {
  return rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      DBInstanceClass: 'db.t3.micro',
      Engine: 'postgres',
      MasterUsername: master.user,
      MasterUserPassword: master.password,
      DBName: 'app',
      BackupRetentionPeriod: 0,
    }),
  );
}

export async function describeInstance(rds: RDSClient, id: string): Promise<DBInstance> {
  const instance = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })))
    .DBInstances?.[0];
  if (!instance) throw new Error(`no instance ${id}`);
  return instance;
}

/** The pid of a process that has exited and been reaped: a holder that is gone. */
export async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((done) => child.once('close', done));
  if (child.pid === undefined) throw new Error('could not spawn node');
  return child.pid;
}

/** The uid a process runs as. */
export function processUid(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}
