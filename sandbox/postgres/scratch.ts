/**
 * The sandbox's own directory outside its data directory, for what the PostgreSQL user must reach
 * when the data directory or node_modules sit where it cannot (a clone in the root user's home or
 * in a `mktemp -d` folder): `<tmp>/caretaker-<uid>`, under the first world-searchable temporary
 * directory that user can enter.
 *
 * Temporary directories are shared with every user of the machine, so the directory is trusted
 * only when this process's user owns it, it is a real directory (not a symlink) and nobody else
 * can write to it; otherwise the sandbox stops and names it rather than use it. Mode 0711: the
 * server user can pass through to paths it is given, but cannot list what is there.
 */
import { lstat, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canReach, type ServerIdentity } from './identity.ts';

let scratch: Promise<string> | undefined;

/** `<tmp>/caretaker-<uid>`, created or checked once per process. */
export function scratchDir(identity: ServerIdentity): Promise<string> {
  scratch ??= findScratchDir(identity).catch((error: unknown) => {
    scratch = undefined;
    throw error;
  });
  return scratch;
}

async function findScratchDir(identity: ServerIdentity): Promise<string> {
  const uid = process.getuid?.() ?? 0;
  // TMPDIR may point somewhere private (CI sets it per job): fall back to the system's own.
  const bases = [...new Set([tmpdir(), '/tmp', '/var/tmp'])];
  for (const base of bases) {
    if (!(await canReach(base, identity))) continue;
    const dir = join(base, `caretaker-${uid}`);
    try {
      await mkdir(dir, { mode: 0o711 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    await ensureOwnedPrivately(dir, uid);
    return dir;
  }
  throw new Error(
    `PostgreSQL runs as uid ${identity.uid} when the sandbox runs as root, and can enter none of ${bases.join(', ')}: ` +
      'set TMPDIR to a directory every user can search',
  );
}

/** Throws, naming `path`, unless it is a directory owned by `uid` that no one else can write to. */
export async function ensureOwnedPrivately(path: string, uid = process.getuid?.() ?? 0): Promise<void> {
  const info = await lstat(path);
  if (!info.isDirectory() || info.uid !== uid || (info.mode & 0o022) !== 0) {
    throw new Error(
      `${path} is not a directory owned by uid ${uid} that only its owner can write to ` +
        `(${info.isSymbolicLink() ? 'a symlink' : `owner ${info.uid}, mode ${(info.mode & 0o7777).toString(8)}`}); ` +
        'the sandbox will not trust it: remove it',
    );
  }
}
