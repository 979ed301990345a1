/**
 * bin/install-sandbox.js, the root package's postinstall, run from a copy in a scratch folder with
 * a stand-in for npm's CLI (npm_execpath) that records how it was called.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SCRIPT = new URL('../../../bin/install-sandbox.js', import.meta.url);

/** An npm CLI stand-in: writes its arguments, working directory and npm_config_* settings. */
const FAKE_NPM = `import { writeFileSync } from 'node:fs';
const settings = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('npm_config_')));
writeFileSync(process.env.RECORD, JSON.stringify({ args: process.argv.slice(2), cwd: process.cwd(), settings }));
`;

let root: string;
let record: string;

function runPostinstall(env: Record<string, string>) {
  return spawnSync(process.execPath, [join(root, 'bin', 'install-sandbox.js')], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', RECORD: record, npm_execpath: join(root, 'fake-npm.js'), ...env },
  });
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'caretaker-install-sandbox-'));
  record = join(root, 'record.json');
  mkdirSync(join(root, 'bin'));
  copyFileSync(SCRIPT, join(root, 'bin', 'install-sandbox.js'));
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(root, 'fake-npm.js'), FAKE_NPM);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the postinstall that installs the sandbox', () => {
  it('runs a plain npm ci in sandbox/ on this Node, keeping registry settings and dropping the root command’s', () => {
    mkdirSync(join(root, 'sandbox'));
    writeFileSync(join(root, 'sandbox', 'package.json'), '{"private":true}\n');

    const result = runPostinstall({
      npm_config_registry: 'http://127.0.0.1:4873/',
      npm_config_save_dev: 'true',
      npm_config_global: 'false',
    });

    expect(result.status, result.stderr).toBe(0);
    const called = JSON.parse(readFileSync(record, 'utf8'));
    expect(called.args).toEqual(['ci', '--no-audit', '--no-fund']);
    expect(called.cwd).toBe(join(root, 'sandbox'));
    expect(called.settings.npm_config_registry).toBe('http://127.0.0.1:4873/');
    expect(called.settings).not.toHaveProperty('npm_config_save_dev');
    expect(called.settings).not.toHaveProperty('npm_config_global');
  });

  it('does nothing in the package a team installs, which has no sandbox/', () => {
    const result = runPostinstall({});

    expect(result.status).toBe(0);
    expect(existsSync(record)).toBe(false);
  });

  it('installs nothing when the root run installs nothing (--package-lock-only)', () => {
    mkdirSync(join(root, 'sandbox'));
    writeFileSync(join(root, 'sandbox', 'package.json'), '{"private":true}\n');

    const result = runPostinstall({ npm_config_package_lock_only: 'true' });

    expect(result.status).toBe(0);
    expect(existsSync(record)).toBe(false);
  });

  it('fails with the exit code of npm ci when it fails', () => {
    mkdirSync(join(root, 'sandbox'));
    writeFileSync(join(root, 'sandbox', 'package.json'), '{"private":true}\n');
    writeFileSync(join(root, 'fake-npm.js'), 'process.exit(3);\n');

    const result = runPostinstall({});

    expect(result.status).toBe(3);
  });
});
