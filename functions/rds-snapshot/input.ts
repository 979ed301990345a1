/**
 * The rds-snapshot event: one of three actions on a configured RDS target.
 *
 * - `create`: a manual snapshot tagged for this execution (a re-run returns the same snapshot);
 * - `status`: the snapshot's status for polling (in the DR region with `region`);
 * - `copy`: a copy in the target's DR region, re-encrypted under the DR key.
 */
import * as z from 'zod';
import { isValidIdentifier, MAX_SNAPSHOT_IDENTIFIER } from '#common/rds/rds-names';
import { type RdsTarget, targetNameSchema } from '#common/rds/rds-targets';

const executionId = z.string().min(1).max(2048);
const snapshotIdentifier = z
  .string()
  .refine(
    (text) => isValidIdentifier(text, MAX_SNAPSHOT_IDENTIFIER),
    'expected a DB snapshot identifier (letters, digits, single hyphens, starting with a letter)',
  );
const region = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'expected an AWS region');

/** The event schema for the configured targets (an unknown target fails validation). */
export function snapshotEventSchema(targets: readonly RdsTarget[]) {
  const target = targetNameSchema(targets);
  return z.discriminatedUnion('action', [
    z
      .object({
        action: z.literal('create'),
        target,
        executionId,
        /** What the snapshot is for: routine (`snapshot`), before an update (`rollback-point`), a DR `drill`. */
        kind: z.enum(['snapshot', 'rollback-point', 'drill']).default('snapshot'),
      })
      .strict(),
    z.object({ action: z.literal('status'), target, snapshotIdentifier, region: region.optional() }).strict(),
    z.object({ action: z.literal('copy'), target, executionId, snapshotIdentifier }).strict(),
  ]);
}

export type SnapshotEvent = z.output<ReturnType<typeof snapshotEventSchema>>;
export type CreateEvent = Extract<SnapshotEvent, { action: 'create' }>;
export type StatusEvent = Extract<SnapshotEvent, { action: 'status' }>;
export type CopyEvent = Extract<SnapshotEvent, { action: 'copy' }>;
