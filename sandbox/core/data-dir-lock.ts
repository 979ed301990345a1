/**
 * One sandbox per data directory. A second sandbox on a directory a live one holds would stop the
 * first one's PostgreSQL servers as "left by an earlier run" and interleave writes to its state
 * files, so it refuses at once, naming the process that holds the directory.
 *
 * On Linux the lock is an abstract Unix socket named after the directory's device and inode: the
 * kernel binds a name once and frees it when its holder dies, however it dies, so a lock can never
 * be stale and taking it needs no clean-up race. The holder answers on that socket with its pid
 * and command line. Elsewhere the lock is the record file itself, created exclusively, and a record
 * whose process is gone is stale and replaced.
 *
 * Either way `<data-dir>/sandbox.lock` records the holder for people (and for the file lock); a
 * holder killed with SIGKILL leaves it behind, and the next holder overwrites it.
 */
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandLine, isProcessAlive, processStartTicks } from './processes.ts';

/** The process holding a data directory. */
export interface LockHolder {
  readonly pid: number;
  /** Its command line: from /proc where readable, else as the holder recorded it. */
  readonly command: string;
  /** When it took the lock (ISO 8601). */
  readonly since: string;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  readonly startTicks?: number;
}

/** A second sandbox on a data directory that a live sandbox holds. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';

  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `The data directory ${dataDir} is in use by another sandbox: pid ${holder.pid} (${holder.command}), ` +
        `since ${holder.since}. Stop that sandbox first, or choose another data directory.`,
    );
  }
}

/** A held data directory. */
export interface DataDirLock {
  /** The holder record, `<data-dir>/sandbox.lock`. */
  readonly recordPath: string;
  /** Frees the directory for the next sandbox. */
  release(): Promise<void>;
}

export interface LockOptions {
  /**
   * Use the kernel-held socket lock (Linux only); false uses the record file as the lock.
   * @default process.platform === 'linux'
   */
  readonly kernel?: boolean;
}

/** The lock's record file inside a data directory. */
export const LOCK_RECORD = 'sandbox.lock';

/** A holder that is releasing the lock right now answers nothing; try again for this long. */
const SETTLE_MS = 2_000;
const ASK_TIMEOUT_MS = 2_000;

/** Takes the data directory, or throws {@link DataDirLockedError} naming its live holder. */
export async function lockDataDir(dataDir: string, options: LockOptions = {}): Promise<DataDirLock> {
  const kernel = options.kernel ?? process.platform === 'linux';
  return kernel ? socketLock(dataDir) : fileLock(dataDir);
}

async function socketLock(dataDir: string): Promise<DataDirLock> {
  const { dev, ino } = statSync(dataDir);
  // Device and inode, not the path: a symlink or bind mount to the same directory is the same lock.
  const name = `\0caretaker-sandbox-lock/${dev}/${ino}`;
  const me = ownRecord();
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const server = await bindName(name, me);
    if (server) {
      const recordPath = join(dataDir, LOCK_RECORD);
      writeRecord(recordPath, me);
      return {
        recordPath,
        release: async () => {
          removeRecordIfOurs(recordPath, me);
          await new Promise<void>((resolve) => server.close(() => resolve()));
        },
      };
    }
    const holder = (await askHolder(name)) ?? liveRecord(join(dataDir, LOCK_RECORD));
    if (holder) throw new DataDirLockedError(dataDir, holder);
    if (Date.now() > deadline) {
      throw new Error(
        `The data directory ${dataDir} is locked by a process that does not say who it is (lock ${name.slice(1)})`,
      );
    }
    await sleep(50);
  }
}

/** Binds the abstract socket `name`; undefined when another process holds it. */
function bindName(name: string, me: LockHolder): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.on('error', () => {}); // an asker that hangs up early is no concern of ours
      socket.end(`${JSON.stringify(me)}\n`);
    });
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen({ path: name }, () => {
      // The lock must not keep a process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

/** Asks the holder of the abstract socket `name` who it is. */
function askHolder(name: string): Promise<LockHolder | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const socket = createConnection({ path: name });
    const timer = setTimeout(() => socket.destroy(), ASK_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(withLiveCommand(parseRecord(text)));
    });
  });
}

async function fileLock(dataDir: string): Promise<DataDirLock> {
  const recordPath = join(dataDir, LOCK_RECORD);
  const me = ownRecord();
  // Written aside and linked into place: the record is complete whenever it exists, and link()
  // fails when it already does, which is what makes it a lock.
  const aside = `${recordPath}.${process.pid}.${randomUUID()}`;
  writeFileSync(aside, `${JSON.stringify(me)}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(aside, recordPath);
        return {
          recordPath,
          release: async () => removeRecordIfOurs(recordPath, me),
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = liveRecord(recordPath);
      if (holder) throw new DataDirLockedError(dataDir, holder);
      if (attempt >= 5) throw new Error(`Could not take the lock ${recordPath}: it keeps changing`);
      // The holder is gone: its record is stale. (Two sandboxes breaking the same stale record at
      // the same instant could both win here; the kernel lock above has no such window.)
      try {
        unlinkSync(recordPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  } finally {
    unlinkSync(aside);
  }
}

/** The record at `path` when its process is still alive; undefined when absent, unreadable or stale. */
function liveRecord(path: string): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const record = parseRecord(text);
  return record && isProcessAlive(record.pid, record.startTicks) ? withLiveCommand(record) : undefined;
}

function ownRecord(): LockHolder {
  const startTicks = processStartTicks(process.pid);
  return {
    pid: process.pid,
    command: commandLine(process.pid) ?? [process.execPath, ...process.argv.slice(1)].join(' '),
    since: new Date().toISOString(),
    ...(startTicks === undefined ? {} : { startTicks }),
  };
}

function writeRecord(path: string, record: LockHolder): void {
  // Replaces, atomically, a record that a killed holder left behind.
  const aside = `${path}.${process.pid}.${randomUUID()}`;
  writeFileSync(aside, `${JSON.stringify(record)}\n`, { mode: 0o644 });
  renameSync(aside, path);
}

function removeRecordIfOurs(path: string, me: LockHolder): void {
  try {
    const record = parseRecord(readFileSync(path, 'utf8'));
    if (record?.pid === me.pid && record.since === me.since) unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function parseRecord(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
    return {
      pid: value.pid,
      command: typeof value.command === 'string' ? value.command : '(unknown command)',
      since: typeof value.since === 'string' ? value.since : '(unknown time)',
      ...(typeof value.startTicks === 'number' ? { startTicks: value.startTicks } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The record with the command line the process table shows now, when it can be read. */
function withLiveCommand(record: LockHolder | undefined): LockHolder | undefined {
  if (!record) return undefined;
  const command = commandLine(record.pid);
  return command ? { ...record, command } : record;
}
