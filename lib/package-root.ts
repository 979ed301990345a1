/**
 * Where the Caretaker package's files are: the folder holding its package.json, functions/ (the
 * Lambda sources esbuild bundles at synth) and statemachines/. The same whether this module runs
 * from the TypeScript sources (lib/) or from the built package (dist/lib/), in this repository or
 * installed under a team's node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'caretaker';

function findPackageRoot(start: string): string {
  for (let folder = start; ; folder = dirname(folder)) {
    const manifest = join(folder, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME
    ) {
      return `${folder}/`;
    }
    if (dirname(folder) === folder) throw new Error(`No package.json named ${PACKAGE_NAME} above ${start}`);
  }
}

/** The package root, with a trailing slash. */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

const LOCK_FILES = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
];

/**
 * The lock file of the project the package is installed in (this repository's own, or the app's
 * that installed Caretaker): NodejsFunction wants one, and its folder as the root every bundled
 * source lies under.
 */
export function projectLockFile(from: string = PACKAGE_ROOT): string {
  for (let folder = from.replace(/\/$/, ''); ; folder = dirname(folder)) {
    const found = LOCK_FILES.map((name) => join(folder, name)).find((path) => existsSync(path));
    if (found) return found;
    if (dirname(folder) === folder) {
      throw new Error(
        `No lock file (${LOCK_FILES.join(', ')}) in ${from} or above: install Caretaker with a package manager that writes one`,
      );
    }
  }
}
