/**
 * RDS identifiers Caretaker derives: snapshot names from an execution (so a re-run finds its own
 * snapshot instead of making a second), restored instance names, and the `<id>-old-<timestamp>`
 * name a switch-over parks the original under. Pure.
 *
 * RDS identifiers are case-insensitive (stored lowercase), start with a letter, hold letters,
 * digits and single hyphens, and do not end with a hyphen: at most 63 characters for instances
 * and clusters, 255 for snapshots.
 */
import { createHash } from 'node:crypto';

/** Longest DB instance or DB cluster identifier. */
export const MAX_DB_IDENTIFIER = 63;
/** Longest DB snapshot or DB cluster snapshot identifier. */
export const MAX_SNAPSHOT_IDENTIFIER = 255;

/** Whether `text` is a valid RDS identifier of at most `max` characters. */
export function isValidIdentifier(text: string, max: number): boolean {
  return (
    text.length >= 1 &&
    text.length <= max &&
    /^[a-zA-Z][a-zA-Z0-9-]*$/.test(text) &&
    !text.includes('--') &&
    !text.endsWith('-')
  );
}

/** The first `length` hex digits of SHA-256(text): a stable short name for an execution. */
export function shortHash(text: string, length = 12): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Lowercase, invalid characters as single hyphens, starting with a letter, no trailing hyphen. */
function tidy(text: string): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z]+/, '');
  return cleaned.replace(/-+$/, '');
}

/** `base` cut so that `base + suffix` fits in `max` characters, then joined (suffix starts with `-`). */
function withSuffix(base: string, suffix: string, max: number): string {
  const head = tidy(tidy(base).slice(0, Math.max(1, max - suffix.length)));
  return `${head || 'db'}${suffix}`;
}

/**
 * The snapshot identifier of one execution's snapshot of a target:
 * `caretaker-<target>-<12 hex of the execution>-<kind>`.
 */
export function snapshotIdentifier(target: string, executionId: string, kind: string): string {
  const suffix = `-${shortHash(executionId)}-${tidy(kind) || 'snapshot'}`;
  return withSuffix(`caretaker-${target}`, suffix, MAX_SNAPSHOT_IDENTIFIER);
}

/** The identifier a restore of `sourceId` by `executionId` creates: `<source>-r<8 hex>`. */
export function restoredIdentifier(sourceId: string, executionId: string): string {
  return withSuffix(sourceId, `-r${shortHash(executionId, 8)}`, MAX_DB_IDENTIFIER);
}

/** The writer instance of a restored cluster: `<cluster>-writer`. */
export function writerIdentifier(clusterId: string): string {
  return withSuffix(clusterId, '-writer', MAX_DB_IDENTIFIER);
}

/** `20260102030405` for 2026-01-02T03:04:05Z. */
function compactUtc(time: Date): string {
  return time.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Where a switch-over parks the original: `<id>-old-<UTC yyyyMMddHHmmss>`. */
export function oldIdentifier(sourceId: string, at: Date): string {
  return withSuffix(sourceId, `-old-${compactUtc(at)}`, MAX_DB_IDENTIFIER);
}
