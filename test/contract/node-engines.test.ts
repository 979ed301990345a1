/**
 * `npm ci` prints no Node-version warning (EBADENGINE) on any Node the package says it supports.
 * npm checks each installed package's `engines.node` against the Node running npm itself: for the
 * root lockfile that is the machine's Node, anything the root `engines.node` admits; for the
 * sandbox's lockfile (installed by bin/install-sandbox.js on the pinned Node) it is the version of
 * the `node` devDependency. Both are checked from the lockfiles npm installs from, so a dependency
 * upgrade that narrows its engines fails here before it warns on someone's machine.
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface Lockfile {
  readonly packages: Record<
    string,
    { readonly version?: string; readonly engines?: { readonly node?: string } }
  >;
}

const read = <T>(path: string): T =>
  JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')) as T;
const rootManifest = read<{ engines: { node: string }; devDependencies: Record<string, string> }>(
  'package.json',
);
const rootLock = read<Lockfile>('package-lock.json');
const sandboxManifest = read<{ dependencies: Record<string, string> }>('sandbox/package.json');
const sandboxLock = read<Lockfile>('sandbox/package-lock.json');

/** Installed packages (and the project itself) whose engines.node `admits` refuses. */
function narrower(lock: Lockfile, admits: (engines: string) => boolean): string[] {
  return Object.entries(lock.packages)
    .filter(([, entry]) => entry.engines?.node && !admits(entry.engines.node))
    .map(([path, entry]) => `${path} (engines.node ${entry.engines!.node})`);
}

describe('Node engines of what npm ci installs', () => {
  it('every package of the root lockfile admits every Node the root package supports', () => {
    const supported = rootManifest.engines.node;

    const offending = narrower(rootLock, (engines) => semver.subset(supported, engines));

    expect(offending).toEqual([]);
  });

  it("every package of the sandbox's lockfile admits the Node the root pins", () => {
    const pinned = rootLock.packages['node_modules/node']?.version;
    expect(pinned, 'the root pins Node with the `node` devDependency').toBeDefined();
    expect(rootManifest.devDependencies.node).toBeDefined();

    const offending = narrower(sandboxLock, (engines) => semver.satisfies(pinned!, engines));

    expect(offending).toEqual([]);
  });

  it('the Node-22-only emulator is installed by the sandbox, not by the root', () => {
    const rootPaths = Object.keys(rootLock.packages);

    expect(rootPaths.filter((path) => path.endsWith('node_modules/aws-local-stepfunctions'))).toEqual([]);
    expect(sandboxManifest.dependencies['aws-local-stepfunctions']).toBeDefined();
    expect(sandboxLock.packages['node_modules/aws-local-stepfunctions']?.engines?.node).toBeDefined();
  });
});
