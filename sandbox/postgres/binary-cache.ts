/**
 * A copy of the PostgreSQL binaries the server user can reach. As root the sandbox runs PostgreSQL
 * as uid 65534, which cannot enter node_modules when the clone sits in a folder only root can read;
 * changing that folder's permissions is not the sandbox's to do. So the package's `native/` tree
 * (bin, lib, share: PostgreSQL finds its libraries and share files relative to its binary) is
 * copied once into `<scratch>/postgres-<version>-<fingerprint>/`, shared by every sandbox of this
 * user, and made read-only.
 *
 * Trust: the copy is hashed file by file as it is made, checked against a second read before it
 * is published (renamed into place, so a crash or a concurrent sandbox never sees half a copy),
 * and checked again against those SHA-256 sums, owners and modes each time a process first uses
 * it. A copy that fails the check is removed and made again. The directory name is a fingerprint
 * of the installed package (its package.json and every file's path, size and mode), so an
 * upgraded package gets a copy of its own.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { type BinariesPackage, binariesIn, binariesPackage, type PostgresBinaries } from './binaries.ts';
import type { ServerIdentity } from './identity.ts';
import { scratchDir } from './scratch.ts';

const MANIFEST = 'manifest.json';

/** What a copy holds: every file with its SHA-256 and mode, every symlink with its target. */
interface Manifest {
  readonly package: string;
  readonly files: Record<string, { sha256: string; mode: number }>;
  readonly links: Record<string, string>;
}

let cached: Promise<PostgresBinaries> | undefined;

/** The binaries from this user's verified copy, made first if needed. */
export function cachedBinaries(identity: ServerIdentity): Promise<PostgresBinaries> {
  cached ??= prepare(identity).catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function prepare(identity: ServerIdentity): Promise<PostgresBinaries> {
  const source = binariesPackage();
  const { name, version } = JSON.parse(await readFile(join(source.root, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const entry = join(
    await scratchDir(identity),
    `postgres-${version}-${(await fingerprint(source)).slice(0, 16)}`,
  );
  const problem = await checkBinariesCopy(entry);
  if (problem === undefined) return binariesIn(join(entry, 'native'));
  if (problem !== 'absent') {
    console.error(`[sandbox postgres] ${entry}: ${problem}; copying the binaries again`);
    await discard(entry);
  }
  await copyBinaries(source, `${name}@${version}`, entry);
  return binariesIn(join(entry, 'native'));
}

/**
 * Copies the package into a fresh directory beside `entry`, checks it, and renames it into place
 * (unless another process published the same copy first, which is then checked and used).
 */
export async function copyBinaries(source: BinariesPackage, packageId: string, entry: string): Promise<void> {
  const building = `${entry}.partial-${process.pid}-${randomUUID()}`;
  await mkdir(building, { mode: 0o700 });
  try {
    const manifest: Manifest = { package: packageId, files: {}, links: {} };
    await copyHashing(source.native, join(building, 'native'), '', manifest);
    await writeFile(join(building, MANIFEST), `${JSON.stringify(manifest)}\n`, { mode: 0o444 });
    await chmod(building, 0o555);
    const problem = await checkBinariesCopy(building);
    if (problem !== undefined)
      throw new Error(`The copy of the PostgreSQL binaries in ${building} ${problem}`);
    try {
      await rename(building, entry);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
    // Another sandbox published the same copy meanwhile: use theirs, once it checks out.
    const theirs = await checkBinariesCopy(entry);
    if (theirs !== undefined) throw new Error(`The copy of the PostgreSQL binaries in ${entry} ${theirs}`);
  } finally {
    await discard(building);
  }
}

/** Copies a tree, read-only, recording each file's SHA-256 (of the bytes written) in `manifest`. */
async function copyHashing(from: string, to: string, relative: string, manifest: Manifest): Promise<void> {
  await mkdir(to, { mode: 0o700 });
  for (const entry of await sortedEntries(from)) {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      await copyHashing(source, target, path, manifest);
    } else if (entry.isSymbolicLink()) {
      const link = await readlink(source);
      await symlink(link, target);
      manifest.links[path] = link;
    } else if (entry.isFile()) {
      const bytes = await readFile(source);
      const mode = (await lstat(source)).mode & 0o555;
      await writeFile(target, bytes, { mode: 0o400 });
      await chmod(target, mode); // explicitly: a umask must not take the server user's read bit away
      manifest.files[path] = { sha256: sha256(bytes), mode };
    } else {
      throw new Error(`Unexpected file type at ${source}`);
    }
  }
  await chmod(to, 0o555);
}

/**
 * Why the copy at `entry` cannot be used ('absent' when there is none); undefined when every file
 * has the content, mode and owner the manifest and this user's ownership say it should.
 */
export async function checkBinariesCopy(entry: string): Promise<string | undefined> {
  let manifest: Manifest;
  try {
    const info = await lstat(entry);
    const problem = ownership(info);
    if (problem) return `is ${problem}`;
    manifest = JSON.parse(await readFile(join(entry, MANIFEST), 'utf8')) as Manifest;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return (await exists(entry)) ? 'has no manifest' : 'absent';
    return `cannot be read: ${(error as Error).message}`;
  }
  const seen = { files: new Set<string>(), links: new Set<string>() };
  const problem = await checkTree(join(entry, 'native'), '', manifest, seen);
  if (problem) return problem;
  const missing = [
    ...Object.keys(manifest.files).filter((path) => !seen.files.has(path)),
    ...Object.keys(manifest.links).filter((path) => !seen.links.has(path)),
  ];
  return missing.length > 0 ? `is missing ${missing.slice(0, 3).join(', ')}` : undefined;
}

async function checkTree(
  dir: string,
  relative: string,
  manifest: Manifest,
  seen: { files: Set<string>; links: Set<string> },
): Promise<string | undefined> {
  const problem = ownership(await lstat(dir));
  if (problem) return `has ${dir} ${problem}`;
  const problems = await Promise.all(
    (await sortedEntries(dir)).map(async (entry): Promise<string | undefined> => {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) return checkTree(full, path, manifest, seen);
      if (entry.isSymbolicLink()) {
        if (manifest.links[path] !== (await readlink(full))) return `has an unexpected link ${path}`;
        seen.links.add(path);
        return undefined;
      }
      const expected = manifest.files[path];
      const info = await lstat(full);
      if (!expected || !info.isFile()) return `has an unexpected file ${path}`;
      const fileProblem = ownership(info);
      if (fileProblem) return `has ${path} ${fileProblem}`;
      if ((info.mode & 0o777) !== expected.mode) return `has ${path} with a changed mode`;
      if (sha256(await readFile(full)) !== expected.sha256) return `has ${path} with changed content`;
      seen.files.add(path);
      return undefined;
    }),
  );
  return problems.find((found) => found !== undefined);
}

/** What is wrong with who owns and who can write `info`'s file, for this process's user. */
function ownership(info: { uid: number; mode: number; isSymbolicLink(): boolean }): string | undefined {
  const uid = process.getuid?.() ?? 0;
  if (info.isSymbolicLink()) return 'a symlink';
  if (info.uid !== uid) return `owned by uid ${info.uid}, not ${uid}`;
  if ((info.mode & 0o222) !== 0) return 'writable';
  return undefined;
}

/** A cheap identity of the installed package: its package.json and each file's path, size and mode. */
async function fingerprint(source: BinariesPackage): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(join(source.root, 'package.json')));
  const walk = async (dir: string, relative: string): Promise<void> => {
    for (const entry of await sortedEntries(dir)) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      const full = join(dir, entry.name);
      const info = await lstat(full);
      const link = entry.isSymbolicLink() ? await readlink(full) : '';
      hash.update(
        `${path}\0${info.isDirectory() ? 'd' : 'f'}\0${info.size}\0${info.mode & 0o555}\0${link}\n`,
      );
      if (entry.isDirectory()) await walk(full, path);
    }
  };
  await walk(source.native, '');
  return hash.digest('hex');
}

async function sortedEntries(dir: string): Promise<Dirent[]> {
  return (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
}

/** Removes a (read-only) copy. */
async function discard(path: string): Promise<void> {
  await makeWritable(path);
  await rm(path, { recursive: true, force: true });
}

async function makeWritable(path: string): Promise<void> {
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch {
    return;
  }
  if (!info.isDirectory()) return;
  await chmod(path, 0o700);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeWritable(join(path, entry.name));
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
