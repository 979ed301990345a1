/**
 * Servers left running by a previous run that died without stopping them (the watchdog makes
 * this rare: the machine or the watchdog itself had to die too). Found by their postmaster.pid
 * under the sandbox's server directories, recognised by the process's working directory (the
 * postmaster runs from its data directory), and stopped.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const GRACE_MS = 5_000;

/** Stops every postmaster still running on a data directory `<homesRoot>/<home>/data`; returns their pids. */
export async function stopStaleServers(homesRoot: string): Promise<number[]> {
  let homes: string[];
  try {
    homes = await readdir(homesRoot);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const stopped: number[] = [];
  await Promise.all(
    homes.map(async (home) => {
      const dataDir = join(homesRoot, home, 'data');
      const pidFile = join(dataDir, 'postmaster.pid');
      let pid: number;
      try {
        pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
      } catch {
        return;
      }
      if (Number.isInteger(pid) && pid > 0 && (await runsIn(pid, dataDir))) {
        await terminate(pid);
        stopped.push(pid);
      }
      // No postmaster runs on this directory now; a leftover pid file whose number a new process
      // reuses would make PostgreSQL refuse to start.
      await rm(pidFile, { force: true });
    }),
  );
  return stopped;
}

/** Whether process `pid` is a postgres whose working directory is `dataDir`. */
async function runsIn(pid: number, dataDir: string): Promise<boolean> {
  try {
    const [cwd, expected, cmdline] = await Promise.all([
      readlink(`/proc/${pid}/cwd`),
      realpath(dataDir),
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
    ]);
    return cwd === expected && cmdline.split('\0')[0]?.endsWith('postgres') === true;
  } catch {
    return false; // gone, or not ours to inspect
  }
}

async function terminate(pid: number): Promise<void> {
  // SIGQUIT: immediate shutdown. The run that owned it is gone, so nothing waits for a clean exit;
  // the next start replays the WAL.
  if (!send(pid, 'SIGQUIT')) return;
  const deadline = Date.now() + GRACE_MS;
  while (Date.now() < deadline) {
    if (!alive(pid)) return;
    await sleep(20);
  }
  send(pid, 'SIGKILL');
  while (alive(pid)) await sleep(20);
}

function send(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); its state in /proc says it is gone.
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
