/**
 * Copying PostgreSQL data directories: the template into a new instance, a running server's files
 * into a snapshot, a snapshot into a restored instance.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { copyFile, lchown, lstat, mkdir, readdir, readlink, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerIdentity } from './identity.ts';

export interface CopyTreeOptions {
  /** Skips an entry (path relative to the source root, `/`-separated); a skipped directory is still created empty. */
  readonly skipContents?: (relative: string) => boolean;
  /** Owner for everything created (when the sandbox runs as root). */
  readonly identity?: ServerIdentity;
  /** Gives each copy the owner of its source instead (needs root to give files away). */
  readonly preserveOwner?: boolean;
  /**
   * Tolerates files that vanish while being copied (a running server drops and truncates files;
   * the WAL replayed on restore makes the copy consistent, as with any online base backup).
   */
  readonly tolerateVanished?: boolean;
}

/** Totals of one copy. */
export interface CopyTreeResult {
  files: number;
  bytes: number;
}

/**
 * Copies a data directory that nothing writes to meanwhile (the template, a snapshot) into a new
 * directory `target`, with `cp` run as `identity`: about twice as fast as copying file by file
 * from Node, and the copies are owned by that identity without a chown each. Falls back to
 * {@link copyTree} where there is no `cp`.
 */
export function copyQuietTree(source: string, target: string, identity?: ServerIdentity): Promise<void> {
  return copyWithCp(source, target, identity, identity ? { identity } : {});
}

/**
 * Copies a tree nothing writes to meanwhile as it is: modes, and owners too when run as root
 * (`cp -p` keeps them then), for moving server files between filesystems.
 */
export function copyTreeAsIs(source: string, target: string): Promise<void> {
  return copyWithCp(source, target, undefined, { preserveOwner: true });
}

function copyWithCp(
  source: string,
  target: string,
  identity: ServerIdentity | undefined,
  fallback: CopyTreeOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-RPp', source, target], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(identity ? { uid: identity.uid, gid: identity.gid } : {}),
    });
    let errors = '';
    let spawned = true;
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      spawned = false;
      if (error.code !== 'ENOENT') return reject(error);
      copyTree(source, target, fallback).then(() => resolve(), reject);
    });
    child.once('close', (code, signal) => {
      if (!spawned) return;
      if (code === 0) resolve();
      else reject(new Error(`cp ${source} ${target} failed (${signal ?? `exit ${code}`}): ${errors.trim()}`));
    });
  });
}

/** Copies `source` into a new directory `target`, preserving modes. */
export async function copyTree(
  source: string,
  target: string,
  options: CopyTreeOptions = {},
): Promise<CopyTreeResult> {
  const result: CopyTreeResult = { files: 0, bytes: 0 };
  await copyDirectory(source, target, '', options, result);
  return result;
}

async function copyDirectory(
  source: string,
  target: string,
  relative: string,
  options: CopyTreeOptions,
  result: CopyTreeResult,
): Promise<void> {
  const info = await stat(source);
  await mkdir(target, { mode: info.mode & 0o7777 });
  await own(target, options, source);
  if (relative && options.skipContents?.(relative)) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(source, { withFileTypes: true });
  } catch (error) {
    if (options.tolerateVanished && isVanished(error)) return;
    throw error;
  }
  await Promise.all(
    entries.map(async (entry) => {
      const from = join(source, entry.name);
      const to = join(target, entry.name);
      const childRelative = relative ? `${relative}/${entry.name}` : entry.name;
      try {
        if (entry.isDirectory()) {
          await copyDirectory(from, to, childRelative, options, result);
        } else if (entry.isSymbolicLink()) {
          await symlink(await readlink(from), to);
          await own(to, options, from);
        } else if (entry.isFile()) {
          if (options.skipContents?.(childRelative)) return;
          await copyFile(from, to, constants.COPYFILE_FICLONE);
          await own(to, options, from);
          const { size } = await stat(to);
          result.files += 1;
          result.bytes += size;
        }
      } catch (error) {
        if (options.tolerateVanished && isVanished(error)) return;
        throw error;
      }
    }),
  );
}

/** Copies one file, preserving its mode, owned by `identity` when given; returns its size. */
export async function copyOneFile(from: string, to: string, identity?: ServerIdentity): Promise<number> {
  await copyFile(from, to, constants.COPYFILE_FICLONE);
  await own(to, identity ? { identity } : {}, from);
  return (await stat(to)).size;
}

async function own(path: string, options: CopyTreeOptions, source: string): Promise<void> {
  if (options.preserveOwner) {
    const { uid, gid } = await lstat(source);
    await lchown(path, uid, gid);
  } else if (options.identity) {
    await lchown(path, options.identity.uid, options.identity.gid);
  }
}

function isVanished(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}
