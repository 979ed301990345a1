/**
 * One running PostgreSQL server: started through the watchdog on 127.0.0.1:<port> with its data
 * directory, ready once its postmaster.pid says so, stopped with a fast shutdown.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerIdentity } from './identity.ts';
import { WATCHDOG_SCRIPT } from './watchdog.ts';

/** Name of the server log inside the data directory's parent. */
export const SERVER_LOG = 'postgres.log';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

/** Raised when the port was taken between choosing it and binding it; the caller picks another. */
export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`Port ${port} is already in use`);
    this.name = 'PortInUseError';
  }
}

export interface StartServerOptions {
  /** The postgres executable. */
  readonly postgres: string;
  readonly dataDir: string;
  readonly port: number;
  /** The server's log file (appended). */
  readonly logPath: string;
  readonly identity?: ServerIdentity;
  /** Called once if the server exits without being asked to stop. */
  readonly onUnexpectedExit?: (detail: string) => void;
}

/** A started PostgreSQL server. */
export class PostgresServer {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly logPath: string,
    /** The postmaster's pid (the watchdog's child). */
    readonly pid: number,
    private readonly child: ChildProcess,
    private readonly life: Life,
  ) {}

  /** Whether the server is still running. */
  get running(): boolean {
    return !this.life.exited;
  }

  /** Starts a server and resolves once it accepts connections. */
  static async start(options: StartServerOptions): Promise<PostgresServer> {
    const log = openSync(options.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        '/bin/sh',
        [
          '-c',
          WATCHDOG_SCRIPT,
          'caretaker-pg-watchdog',
          options.postgres,
          '-D',
          options.dataDir,
          '-p',
          String(options.port),
        ],
        {
          stdio: ['pipe', log, log],
          detached: true, // its own session: a terminal's Ctrl-C reaches the sandbox, which stops servers in order
          ...(options.identity ? { uid: options.identity.uid, gid: options.identity.gid } : {}),
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' },
        },
      );
    } finally {
      closeSync(log);
    }
    const life: Life = { exited: false, expected: false, done: Promise.resolve() };
    life.done = new Promise<void>((resolve) => {
      const finish = (detail: string): void => {
        if (life.exited) return;
        life.exited = true;
        if (!life.expected) options.onUnexpectedExit?.(detail);
        resolve();
      };
      child.once('exit', (code, signal) => finish(`postgres exited with ${signal ?? `code ${code}`}`));
      child.once('error', (error) => finish(`the watchdog could not start: ${error.message}`));
    });
    // The pipe is the watchdog's lifeline: never written to, and it must not keep the event loop alive.
    child.stdin?.on('error', () => {});
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    child.unref();

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const pid = await readyPid(options.dataDir, options.port);
      if (pid !== undefined && !life.exited) {
        return new PostgresServer(options.dataDir, options.port, options.logPath, pid, child, life);
      }
      if (life.exited || Date.now() > deadline) {
        life.expected = true;
        if (!life.exited) child.kill('SIGKILL');
        await life.done;
        const tail = logTail(options.logPath);
        if (/could not bind|Address already in use/i.test(tail)) throw new PortInUseError(options.port);
        throw new Error(`PostgreSQL on port ${options.port} did not become ready:\n${tail}`);
      }
      await sleep(5);
    }
  }

  /** Fast shutdown (clients disconnected, checkpoint written); escalates if the server hangs. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.life.expected = true;
    if (this.life.exited) return;
    signal(this.pid, 'SIGINT');
    if (await this.exitsWithin(STOP_TIMEOUT_MS)) return;
    signal(this.pid, 'SIGQUIT');
    if (await this.exitsWithin(STOP_TIMEOUT_MS)) return;
    signal(this.pid, 'SIGKILL');
    this.child.kill('SIGKILL');
    await this.life.done;
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    const timer = new AbortController();
    try {
      return await Promise.race([
        this.life.done.then(() => true),
        sleep(ms, false, { signal: timer.signal }).catch(() => false),
      ]);
    } finally {
      timer.abort();
    }
  }
}

/** Shared between a server and its exit listener. */
interface Life {
  exited: boolean;
  /** Set when we asked it to stop, so its exit is not reported as a crash. */
  expected: boolean;
  done: Promise<void>;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** The postmaster's pid once postmaster.pid reports it ready on our port; undefined before that. */
async function readyPid(dataDir: string, port: number): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  // Lines: pid, data dir, start time, port, socket dir, listen address, shmem key, status.
  if (lines[3]?.trim() !== String(port) || lines[7]?.trim() !== 'ready') return undefined;
  const pid = Number(lines[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The last lines of a server log, for error messages. */
export function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
