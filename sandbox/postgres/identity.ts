/**
 * Who PostgreSQL runs as. The server refuses to run as root, and the sandbox must never edit
 * system users, so as root it runs as the conventional unprivileged uid/gid 65534 (`nobody`),
 * which exists as a number whether or not /etc/passwd names it.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, lchown, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** A uid/gid pair for spawned PostgreSQL processes and the files they own. */
export interface ServerIdentity {
  readonly uid: number;
  readonly gid: number;
}

export const NOBODY: ServerIdentity = { uid: 65534, gid: 65534 };

/** The identity to run PostgreSQL as: `nobody` when this process is root, else undefined (ourselves). */
export function serverIdentity(): ServerIdentity | undefined {
  return process.getuid?.() === 0 ? NOBODY : undefined;
}

/** Gives a whole tree to the server identity (no-op when not root). */
export async function chownTree(path: string, identity: ServerIdentity | undefined): Promise<void> {
  if (!identity) return;
  await lchown(path, identity.uid, identity.gid);
  const entries = await readdir(path, { withFileTypes: true });
  await Promise.all(
    entries.map((entry) => {
      const child = join(path, entry.name);
      return entry.isDirectory() ? chownTree(child, identity) : lchown(child, identity.uid, identity.gid);
    }),
  );
}

/**
 * Makes sure a server running as `identity` can reach `dir`. Directories the sandbox owns
 * (`ownedRoot` and below) get the search bit for others; any other ancestor that blocks the way
 * is reported, naming it, because changing permissions outside the sandbox is not ours to do.
 */
export async function ensureReachable(
  dir: string,
  ownedRoot: string,
  identity: ServerIdentity | undefined,
): Promise<void> {
  if (!identity) return;
  const root = resolve(ownedRoot);
  let current = resolve(dir);
  for (;;) {
    const info = await stat(current);
    const searchable = info.uid === identity.uid ? info.mode & 0o100 : info.mode & 0o001;
    if (!searchable) {
      if (current === root || current.startsWith(`${root}/`)) {
        await chmod(current, (info.mode & 0o7777) | 0o001);
      } else {
        throw new Error(
          `PostgreSQL runs as uid ${identity.uid} when the sandbox runs as root, and cannot reach ${current} ` +
            `(no search permission for others): choose a data directory under a world-searchable directory such as /tmp`,
        );
      }
    }
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/** Throws a clear error when a PostgreSQL binary is missing or not executable. */
export async function ensureExecutable(path: string): Promise<void> {
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(`PostgreSQL binary ${path} is missing or not executable: run npm ci`);
  }
}

/**
 * Whether a process running as `identity` can enter `dir`, found by trying: a spawned shell that
 * `cd`s there, which also honours group permissions and ACLs that mode bits alone do not show.
 */
export function canReach(dir: string, identity: ServerIdentity): Promise<boolean> {
  return succeeds('/bin/sh', ['-c', 'cd -- "$1"', 'caretaker-reach-probe', dir], identity).then(
    (result) => result.ok,
  );
}

/** Runs `postgres --version` as `identity`: the binary, its libraries and their directories are reachable. */
export async function ensureRunnable(postgres: string, identity: ServerIdentity): Promise<void> {
  const result = await succeeds(postgres, ['--version'], identity);
  if (!result.ok) {
    throw new Error(
      `PostgreSQL runs as uid ${identity.uid} when the sandbox runs as root, and cannot run ${postgres}: ${result.output || 'no output'}`,
    );
  }
}

function succeeds(
  command: string,
  args: string[],
  identity: ServerIdentity,
): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      uid: identity.uid,
      gid: identity.gid,
      env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', (error) => resolve({ ok: false, output: error.message }));
    child.once('close', (code) => resolve({ ok: code === 0, output: output.trim() }));
  });
}
