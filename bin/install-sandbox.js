#!/usr/bin/env node
/**
 * The root package's postinstall: installs the sandbox's own dependencies (sandbox/package.json:
 * the Step Functions interpreter, which requires Node >= 22, and the PostgreSQL binaries) with
 * `npm ci` on the Node running this script. Under `npm ci` at the root that is the Node the `node`
 * devDependency pins (npm puts node_modules/.bin first on PATH), the Lambda runtime's major: npm
 * then checks the sandbox's engines against that Node, not the machine's, and prints no warning.
 *
 * The package a team installs has no sandbox/ folder: there this does nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sandbox = join(dirname(fileURLToPath(import.meta.url)), '..', 'sandbox');
if (!existsSync(join(sandbox, 'package.json'))) process.exit(0);

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `caretaker: the sandbox needs Node >= 22 and this is Node ${process.versions.node}. The root package pins Node 24 (devDependency "node"); run npm ci at the repository root so npm puts it first on PATH, or run this with Node >= 22.`,
  );
  process.exit(1);
}

// npm hands its command's settings to scripts as npm_config_* variables. A root run that
// installs nothing (`--package-lock-only`, `--dry-run`) installs nothing here either; the
// settings that only mean something for the root's command (what to save, where, which
// workspace) are not passed on: the sandbox gets a plain `npm ci` with the same registry,
// cache and proxy settings.
const flag = (name) => process.env[`npm_config_${name}`] === 'true';
if (flag('package_lock_only') || flag('dry_run')) process.exit(0);
const ROOT_ONLY =
  /^npm_config_(save|global|prefix|workspace|include_workspace_root|location|package_lock_only|dry_run)/;
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !ROOT_ONLY.test(name)));

// npm sets npm_execpath to its own CLI: run that CLI on this Node. Run by hand, `npm` on PATH.
const npmCli = process.env.npm_execpath;
const [command, args] = npmCli?.endsWith('.js')
  ? [process.execPath, [npmCli]]
  : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
const result = spawnSync(command, [...args, 'ci', '--no-audit', '--no-fund'], {
  cwd: sandbox,
  env,
  stdio: 'inherit',
  shell: process.platform === 'win32' && !npmCli,
});
if (result.error) {
  console.error(`caretaker: could not run npm ci in ${sandbox}: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
