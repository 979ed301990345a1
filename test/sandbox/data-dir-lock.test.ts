/**
 * One sandbox per data directory: a second sandbox on a directory that a live one holds refuses at
 * once, naming the holder, and never touches its servers; the directory is free again as soon as
 * its holder stops or dies, whatever record the dead holder left.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_RECORD, lockDataDir } from '../../sandbox/core/data-dir-lock.ts';
import { startSandbox } from '../../sandbox/core/server.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { failure, waitForInstance, withPg } from './rds-support.ts';
import {
  createInstance,
  describeInstance,
  exitedPid,
  killIfRunning,
  rdsClientFor,
  runningServer,
  type SandboxProcess,
  sandboxUp,
  spawnSandbox,
} from './sandbox-process.ts';

const MASTER = { user: 'holder', password: 'holder-secret-1' };
const processes: Pick<SandboxProcess, 'child' | 'exited'>[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const started of processes.splice(0)) await killIfRunning(started);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'caretaker-lock-'));
  dirs.push(dir);
  return dir;
}

async function up(dir: string): Promise<SandboxProcess> {
  const started = await sandboxUp(dir);
  processes.push(started);
  return started;
}

function record(dir: string): { pid: number; command: string } {
  return JSON.parse(readFileSync(join(dir, LOCK_RECORD), 'utf8')) as { pid: number; command: string };
}

describe('a data directory that a live sandbox holds', () => {
  it('refuses a second sandbox at once, naming the holder, and leaves its servers alone', async () => {
    // Prepare
    const dir = dataDir();
    const holder = await up(dir);
    const rds = rdsClientFor(holder.url);
    await createInstance(rds, 'held', MASTER);
    await waitForInstance(rds, 'held');
    const before = await runningServer(holder.url, 'held');

    // Act
    const inProcess = await failure(startSandbox({ port: 0, dataDir: dir, services: [rdsService] }));
    const second = spawnSandbox(dir);
    processes.push(second);
    const secondExit = await second.exited;
    const after = await runningServer(holder.url, 'held');
    const endpoint = (await describeInstance(rds, 'held')).Endpoint ?? {};
    const rows = await withPg(
      endpoint,
      { ...MASTER, database: 'app' },
      async (client) => (await client.query('SELECT 1 AS still_here')).rows,
    );
    holder.child.kill('SIGTERM');
    const holderExit = await holder.exited;

    // Assess
    expect(inProcess).toBeInstanceOf(DataDirLockedError);
    expect(inProcess.message).toContain(`pid ${holder.pid} (`);
    expect(inProcess.message).toContain(`bin/caretaker.js sandbox up --port 0 --data-dir ${dir}`);
    expect(secondExit.code).toBe(1);
    expect(second.stderr()).toContain(`is in use by another sandbox: pid ${holder.pid} (`);
    expect(second.stdout()).not.toContain('Sandbox ready');
    expect(after).toMatchObject({ status: 'available', pid: before.pid, port: before.port });
    expect(rows).toEqual([{ still_here: 1 }]);
    expect(holderExit).toEqual({ code: 0, signal: null });
  }, 180_000);

  it('refuses a second sandbox in the same process, and is free again after stop()', async () => {
    // Prepare
    const dir = dataDir();
    const first = await startSandbox({ port: 0, dataDir: dir, services: [] });

    // Act
    const refused = await failure(startSandbox({ port: 0, dataDir: dir, services: [] }));
    await first.stop();
    const recordAfterStop = existsSync(join(dir, LOCK_RECORD));
    const next = await startSandbox({ port: 0, dataDir: dir, services: [] });
    await next.stop();

    // Assess
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect((refused as DataDirLockedError).holder.pid).toBe(process.pid);
    expect(recordAfterStop).toBe(false);
  });
});

describe('a holder that died', () => {
  it('frees the directory at once when killed with SIGKILL; its leftover record is replaced', async () => {
    // Prepare
    const dir = dataDir();
    const holder = await up(dir);
    const held = record(dir);

    // Act
    holder.child.kill('SIGKILL');
    await holder.exited;
    const left = record(dir);
    const next = await startSandbox({ port: 0, dataDir: dir, services: [] });
    const replaced = record(dir);
    await next.stop();

    // Assess
    expect(held.pid).toBe(holder.pid);
    expect(left.pid).toBe(holder.pid);
    expect(replaced.pid).toBe(process.pid);
    expect(existsSync(join(dir, LOCK_RECORD))).toBe(false);
  }, 120_000);
});

describe('the record-file lock (where the kernel lock is not available)', () => {
  it('takes over the record of a dead holder and refuses while it holds the directory', async () => {
    // Prepare
    const dir = dataDir();
    const pid = await exitedPid();
    writeFileSync(join(dir, LOCK_RECORD), JSON.stringify({ pid, command: 'gone', since: 'earlier' }));

    // Act
    const lock = await lockDataDir(dir, { kernel: false });
    const held = record(dir);
    const refused = await failure(lockDataDir(dir, { kernel: false }));
    await lock.release();

    // Assess
    expect(held.pid).toBe(process.pid);
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect((refused as DataDirLockedError).holder.pid).toBe(process.pid);
    expect(existsSync(join(dir, LOCK_RECORD))).toBe(false);
  });

  it('names a live holder by the command line the process table shows', async () => {
    // Prepare
    const dir = dataDir();
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)', 'holding-the-lock'], {
      stdio: 'ignore',
    });
    const exited = new Promise((done) => other.once('close', done));
    processes.push({ child: other, exited: exited.then(() => ({ code: null, signal: null })) });
    writeFileSync(join(dir, LOCK_RECORD), JSON.stringify({ pid: other.pid, command: '?', since: 'now' }));

    // Act
    const refused = await failure(lockDataDir(dir, { kernel: false }));
    other.kill('SIGKILL');
    await exited;
    const lock = await lockDataDir(dir, { kernel: false });
    await lock.release();

    // Assess
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect(refused.message).toContain(`pid ${other.pid} (`);
    expect(refused.message).toContain('holding-the-lock');
  });
});
