/**
 * Starts a sandbox for one test file: on a free loopback port, in a fresh data directory, with
 * process.env pointing every SDK client and CLI at it until the file's tests are done.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startSandbox } from '../../sandbox/core/server.ts';
import {
  DEFAULT_SERVICES,
  type Sandbox,
  type SandboxOptions,
  type ServiceFactory,
} from '../../sandbox/index.ts';

export interface SandboxHandle {
  /** The running sandbox (available from beforeAll on). */
  readonly sandbox: Sandbox;
  /** Points process.env at the sandbox (done once in beforeAll; undone in afterAll). */
  applyEnv(): void;
}

/**
 * Registers beforeAll/afterAll hooks that start the given services (every service by default)
 * and stop them, restoring process.env and removing the data directory afterwards.
 */
export function withSandbox(
  services: readonly ServiceFactory[] = DEFAULT_SERVICES,
  options: Omit<SandboxOptions, 'services' | 'port' | 'dataDir'> = {},
): SandboxHandle {
  let current: Sandbox | undefined;
  let dataDir: string | undefined;
  const saved = new Map<string, string | undefined>();

  const handle: SandboxHandle = {
    get sandbox(): Sandbox {
      if (!current) throw new Error('The sandbox is not running: use it inside tests or hooks');
      return current;
    },
    applyEnv(): void {
      for (const [name, value] of Object.entries(handle.sandbox.env())) {
        if (!saved.has(name)) saved.set(name, process.env[name]);
        process.env[name] = value;
      }
    },
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'caretaker-test-sandbox-'));
    // PostgreSQL runs as another user when tests run as root, and must reach its data directory.
    chmodSync(dataDir, 0o755);
    current = await startSandbox({ ...options, port: 0, dataDir, services });
    handle.applyEnv();
  });

  afterAll(async () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    saved.clear();
    await current?.stop();
    current = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  return handle;
}
