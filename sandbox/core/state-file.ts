/**
 * Small JSON state files under the sandbox's data directory, so a sandbox restarted with the same
 * `--data-dir` finds its keys, topics and the like again.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Reads a JSON state file; undefined when it does not exist yet. A corrupt file throws, naming it. */
export function readStateFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Sandbox state file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Replaces a JSON state file atomically (write aside, then rename), readable by its owner only.
 * Synchronous on purpose: the write happens within the request that changed the state, so two
 * concurrent requests can never interleave their writes.
 */
export function writeStateFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const aside = `${path}.${process.pid}.tmp`;
  writeFileSync(aside, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(aside, path);
}
