/**
 * Rotating verification subsets, like restic's `check --read-data-subset n/t`: the stored objects
 * are split into `t` groups by a stable hash of their stored key, and run `n` reads group `n`.
 * The split does not depend on the run, the backup or the listing order, so running 1/t … t/t
 * reads every object exactly once, and an object reused by later backups stays in its group.
 */
import { createHash } from 'node:crypto';

/** `all`, or group `n` of `t`. */
export type Subset =
  | { readonly kind: 'all' }
  | { readonly kind: 'part'; readonly n: number; readonly t: number };

const PATTERN = /^(\d+)\/(\d+)$/;

/** Parses `all` or `n/t` (1 ≤ n ≤ t), or returns a description of what is wrong. */
export function parseSubset(text: string): Subset | string {
  if (text === 'all') return { kind: 'all' };
  const match = PATTERN.exec(text);
  if (!match) return 'expected "all" or a subset "n/t" such as 1/7';
  const n = Number(match[1]);
  const t = Number(match[2]);
  if (!(t >= 1 && n >= 1 && n <= t) || t > 1_000_000) return 'expected 1 <= n <= t <= 1000000 in "n/t"';
  return { kind: 'part', n, t };
}

/** Renders a subset back to its text form. */
export function formatSubset(subset: Subset): string {
  return subset.kind === 'all' ? 'all' : `${subset.n}/${subset.t}`;
}

/** The group (1..t) a stored key falls in: the first 6 bytes of its SHA-256, modulo t. */
export function subsetGroup(storedKey: string, t: number): number {
  const digest = createHash('sha256').update(storedKey).digest();
  return (digest.readUIntBE(0, 6) % t) + 1;
}

/** Whether the object stored at `storedKey` is read by `subset`. */
export function inSubset(storedKey: string, subset: Subset): boolean {
  return subset.kind === 'all' || subsetGroup(storedKey, subset.t) === subset.n;
}

/**
 * The subset a scheduled verification should read given the configured one: `all` stays `all`;
 * `n/t` rotates with the run number so consecutive runs cover the groups in turn.
 */
export function rotatingSubset(configured: Subset, run: number): Subset {
  if (configured.kind === 'all') return configured;
  return {
    kind: 'part',
    n: ((((configured.n - 1 + run) % configured.t) + configured.t) % configured.t) + 1,
    t: configured.t,
  };
}
