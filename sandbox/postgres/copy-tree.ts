/**
 * Copying PostgreSQL data directories: the template into a new instance, a running server's files
 * into a snapshot, a snapshot into a restored instance.
 */
import { constants } from 'node:fs';
import { copyFile, lchown, mkdir, readdir, readlink, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerIdentity } from './identity.ts';

export interface CopyTreeOptions {
  /** Skips an entry (path relative to the source root, `/`-separated); a skipped directory is still created empty. */
  readonly skipContents?: (relative: string) => boolean;
  /** Owner for everything created (when the sandbox runs as root). */
  readonly identity?: ServerIdentity;
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
  await own(target, options.identity);
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
          await own(to, options.identity);
        } else if (entry.isFile()) {
          if (options.skipContents?.(childRelative)) return;
          await copyFile(from, to, constants.COPYFILE_FICLONE);
          await own(to, options.identity);
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
  await own(to, identity);
  return (await stat(to)).size;
}

async function own(path: string, identity: ServerIdentity | undefined): Promise<void> {
  if (identity) await lchown(path, identity.uid, identity.gid);
}

function isVanished(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}
