/**
 * Running `caretaker sandbox drill` as an operator does: a child process, its exit status, its
 * stdout (the report) and stderr (progress), and what it leaves in the temporary directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface DrillRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts the drill; `onStderr` sees progress as it comes (e.g. to interrupt at a point). */
export function startDrill(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  onStderr?: (text: string, child: ChildProcess) => void,
): { child: ChildProcess; done: Promise<DrillRun> } {
  const child = spawn(process.execPath, ['bin/caretaker.js', 'sandbox', 'drill', ...args], {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onStderr?.(stderr, child);
  });
  const done = new Promise<DrillRun>((resolveRun, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export async function drill(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<DrillRun> {
  return startDrill(args, env).done;
}

/** PostgreSQL servers still running from a directory under `dir`. */
export function postgresUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('postgres') && cmdline.includes(dir)) found.push(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/**
 * What a drill left in its temporary directory. The toolchain's own caches (tsx's compiled
 * sources, Node's compile cache) are reused by every later run and are not the drill's.
 */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => !/^tsx-\d+$/.test(name) && name !== 'node-compile-cache');
}
