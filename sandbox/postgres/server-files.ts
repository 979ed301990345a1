/**
 * Where the server files (the template, the server homes, the snapshot homes) live while the
 * sandbox runs.
 *
 * Normally in the sandbox's own directory, `<data-dir>/rds`. But as root the servers run as uid
 * 65534, which cannot reach a data directory inside a folder only root can read (the root user's
 * home, a `mktemp -d` folder), and that folder's permissions are not the sandbox's to change. Then
 * the files move, for the sandbox's run, to a location under the sandbox's scratch directory
 * (`<tmp>/caretaker-<uid>/rds-<uuid>`, owned by root, mode 0711) and come back on a clean stop:
 * the data directory stays the one place that holds everything, so a sandbox restarted on it
 * finds its instances and snapshots, and removing it after a clean stop leaves nothing behind.
 *
 * The move is recorded before it starts, in `<data-dir>/rds/server-files.json`. A sandbox killed
 * while its files are away leaves that record; the next start on the same data directory brings
 * them back first (after stopping any server still running there), whatever step the move had
 * reached: while the record exists, the copy at the location is the authoritative one.
 *
 * A location also records its owner (`owner.json`: the data directory and the sandbox process).
 * A location whose sandbox is dead and whose data directory no longer points at it (the data
 * directory was deleted after the sandbox was killed, as a failed test's temporary one is) is
 * an orphan, removed by the next sandbox that moves its own files out.
 */
import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isProcessAlive, processStartTicks } from '../core/processes.ts';
import { writeStateFile } from '../core/state-file.ts';
import { copyTreeAsIs } from './copy-tree.ts';
import { canReach, ensureReachable, type ServerIdentity } from './identity.ts';
import { ensureOwnedPrivately, scratchDir } from './scratch.ts';
import { stopStaleServers } from './stale.ts';

/** The entries of `<data-dir>/rds` that servers must reach, moved together. */
export const SERVER_FILE_ENTRIES = ['template', 'servers', 'snapshots'] as const;

/** The record of a move, inside the RDS root. */
export const AWAY_RECORD = 'server-files.json';

/** Where the server files are for this run. */
export interface ServerFilesPlace {
  /** The directory holding template/, servers/ and snapshots/ now. */
  readonly root: string;
  /** True when they were moved out of the data directory, to come back on {@link settle}. */
  readonly away: boolean;
  /** Brings moved files back into the data directory (servers must be stopped). */
  settle(): Promise<void>;
}

interface AwayRecord {
  readonly location: string;
  readonly since: string;
}

/** Who moved files to a location. */
interface Owner {
  readonly rdsRoot: string;
  readonly pid: number;
  readonly startTicks?: number;
}

const OWNER = 'owner.json';
const LOCATION_NAME = /^rds-[0-9a-f-]{36}$/;
/** A location without its owner record yet is being made; one this old never will be. */
const UNOWNED_GRACE_MS = 10 * 60_000;

/**
 * Brings back server files that an unclean stop left away from `rdsRoot`. `beforeMove` runs first
 * with the location (to stop servers still running there). Returns the location, if there was one.
 */
export async function recallServerFiles(
  rdsRoot: string,
  beforeMove: (location: string) => Promise<void> = async () => {},
): Promise<string | undefined> {
  const recordPath = join(rdsRoot, AWAY_RECORD);
  let record: AwayRecord;
  try {
    record = JSON.parse(await readFile(recordPath, 'utf8')) as AwayRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read ${recordPath}: ${(error as Error).message}`);
  }
  const { location } = record;
  if (!(await exists(location))) {
    console.error(
      `[sandbox postgres] the server files of ${rdsRoot} were at ${location}, which is gone (removed while no sandbox ran?); instances and snapshots whose data was there cannot come back`,
    );
  } else {
    // Files from a location another user could have prepared are not to be trusted.
    await ensureOwnedPrivately(location);
    await beforeMove(location);
    for (const name of SERVER_FILE_ENTRIES) {
      const away = join(location, name);
      if (!(await exists(away))) continue;
      const home = join(rdsRoot, name);
      // A copy here is an older or unfinished one: the record says the location's is current.
      await rm(home, { recursive: true, force: true });
      await moveTree(away, home);
    }
    await rm(location, { recursive: true, force: true });
  }
  // Copies a crash cut short on their way back.
  for (const name of await readdir(rdsRoot)) {
    if (/^(template|servers|snapshots)\.partial-/.test(name)) {
      await rm(join(rdsRoot, name), { recursive: true, force: true });
    }
  }
  await rm(recordPath, { force: true });
  return location;
}

/**
 * Decides where the server files live for this run: in `rdsRoot` when the server user can reach
 * it (directories the sandbox owns, `ownedRoot` and below, get the search bit for others), else
 * moved to a fresh location in the scratch directory.
 */
export async function placeServerFiles(
  rdsRoot: string,
  ownedRoot: string,
  identity: ServerIdentity | undefined,
): Promise<ServerFilesPlace> {
  if (!identity || (await reachable(rdsRoot, ownedRoot, identity))) {
    return { root: rdsRoot, away: false, settle: async () => {} };
  }
  const scratch = await scratchDir(identity);
  await removeOrphans(scratch);
  const location = join(scratch, `rds-${randomUUID()}`);
  // Recorded before anything moves, so a crash at any step is recovered by recallServerFiles.
  const record: AwayRecord = { location, since: new Date().toISOString() };
  writeStateFile(join(rdsRoot, AWAY_RECORD), record);
  await mkdir(location, { mode: 0o711 });
  const startTicks = processStartTicks(process.pid);
  const owner: Owner = { rdsRoot, pid: process.pid, ...(startTicks === undefined ? {} : { startTicks }) };
  writeStateFile(join(location, OWNER), owner);
  for (const name of SERVER_FILE_ENTRIES) {
    const home = join(rdsRoot, name);
    if (await exists(home)) await moveTree(home, join(location, name));
  }
  let settling: Promise<unknown> | undefined;
  return {
    root: location,
    away: true,
    settle: async () => {
      settling ??= recallServerFiles(rdsRoot);
      await settling;
    },
  };
}

/** Removes the locations in `scratch` whose sandbox died and whose data directory forgot them. */
async function removeOrphans(scratch: string): Promise<void> {
  for (const name of await readdir(scratch)) {
    if (!LOCATION_NAME.test(name)) continue;
    const location = join(scratch, name);
    if (!(await isOrphan(location))) continue;
    const stopped = await stopStaleServers(join(location, 'servers'));
    await rm(location, { recursive: true, force: true });
    console.error(
      `[sandbox postgres] removed ${location}, server files left by a sandbox that was killed and whose data directory is gone` +
        (stopped.length > 0 ? ` (stopped its servers ${stopped.join(', ')})` : ''),
    );
  }
}

async function isOrphan(location: string): Promise<boolean> {
  let owner: Owner;
  try {
    owner = JSON.parse(await readFile(join(location, OWNER), 'utf8')) as Owner;
  } catch {
    const info = await lstat(location).catch(() => undefined);
    return info !== undefined && Date.now() - info.mtimeMs > UNOWNED_GRACE_MS;
  }
  if (isProcessAlive(owner.pid, owner.startTicks)) return false;
  // Its data directory still points here: the files wait for the next start on it.
  try {
    const record = JSON.parse(await readFile(join(owner.rdsRoot, AWAY_RECORD), 'utf8')) as AwayRecord;
    return record.location !== location;
  } catch {
    return true;
  }
}

async function reachable(dir: string, ownedRoot: string, identity: ServerIdentity): Promise<boolean> {
  // Blocked above the sandbox's own directory: nothing to change there, and nothing to open below.
  if (!(await canReach(dirname(resolve(ownedRoot)), identity))) return false;
  try {
    await ensureReachable(dir, ownedRoot, identity);
  } catch {
    return false;
  }
  return canReach(dir, identity);
}

/**
 * Moves a tree: a rename on one filesystem; across filesystems, a copy (owners and modes kept)
 * made aside and renamed into place before the source goes, so a crash never leaves a half copy
 * under the final name.
 */
export async function moveTree(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  await copyAcross(from, to);
}

/** The cross-filesystem half of {@link moveTree}. */
export async function copyAcross(from: string, to: string): Promise<void> {
  const partial = `${to}.partial-${process.pid}-${randomUUID()}`;
  try {
    await copyTreeAsIs(from, partial);
    await rename(partial, to);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  await rm(from, { recursive: true, force: true });
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
