/**
 * The rds-restore event: one of four actions on a configured RDS target, each idempotent per
 * execution (a re-run continues where the last call stopped).
 *
 * - `choose`: the snapshot a disaster-recovery restore starts from (the newest available managed
 *   one, or the one given), and the identifier `restore` will create;
 * - `restore`: a new instance/cluster from a snapshot, with the settings recorded with it;
 * - `status`: where a restored (or any) instance/cluster stands, for polling;
 * - `delete`: tear down what this execution restored (never the original), with a final
 *   snapshot when it ever held the production name.
 *
 * Switch-over and its undo are rds-switch-over's (functions/rds-switch-over/input.ts).
 */
import * as z from 'zod';
import { isValidIdentifier, MAX_DB_IDENTIFIER, MAX_SNAPSHOT_IDENTIFIER } from '#common/rds/rds-names';
import { type RdsTarget, targetNameSchema } from '#common/rds/rds-targets';

const executionId = z.string().min(1).max(2048);
const dbIdentifier = z
  .string()
  .refine(
    (text) => isValidIdentifier(text, MAX_DB_IDENTIFIER),
    'expected a DB identifier (1-63 letters, digits, single hyphens, starting with a letter)',
  );
const snapshotIdentifier = z
  .string()
  .refine(
    (text) => isValidIdentifier(text, MAX_SNAPSHOT_IDENTIFIER),
    'expected a DB snapshot identifier (letters, digits, single hyphens, starting with a letter)',
  );
const region = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'expected an AWS region');
const instanceClass = z
  .string()
  .regex(/^db\.[a-z0-9]+(\.[a-z0-9]+)?$/, 'expected an instance class such as db.r6g.large');
const groupName = z.string().min(1).max(255);

/** Settings to use instead of the recorded ones (e.g. a smaller class, or the DR region's groups). */
export const overridesSchema = z
  .object({
    instanceClass: instanceClass.optional(),
    multiAZ: z.boolean().optional(),
    parameterGroup: groupName.optional(),
    instanceParameterGroup: groupName.optional(),
    optionGroup: groupName.optional(),
    subnetGroup: groupName.optional(),
    securityGroups: z
      .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'expected a security group id such as sg-0123abcd'))
      .min(1)
      .optional(),
    port: z.number().int().min(1150).max(65535).optional(),
    /**
     * Only `false` (make the copy private whatever the source was): a restored copy holds the
     * source's data, and a drill or rollback has no reason to put it on the internet.
     */
    publiclyAccessible: z
      .boolean()
      .refine(
        (value) => value === false,
        'a restored database must not be publicly accessible (it holds the source data); leave it out or set false',
      )
      .optional(),
  })
  .strict();

/** The event schema for the configured targets (an unknown target fails validation). */
export function restoreEventSchema(targets: readonly RdsTarget[]) {
  const target = targetNameSchema(targets);
  return z.discriminatedUnion('action', [
    z
      .object({
        action: z.literal('choose'),
        target,
        executionId,
        /** Look in this region (the DR copies); null or absent: the stack's region. */
        region: region.nullish(),
        /** The snapshot to use; null or absent: the newest available managed one. */
        snapshotIdentifier: snapshotIdentifier.nullish(),
      })
      .strict(),
    z
      .object({
        action: z.literal('restore'),
        target,
        executionId,
        snapshotIdentifier,
        /** Restore in this region (a DR copy); null or absent: the stack's region. */
        region: region.nullish(),
        /** The new identifier; null or absent: `<source>-r<8 hex of the execution>`. */
        identifier: dbIdentifier.nullish(),
        kind: z.enum(['drill', 'rollback-point']).default('drill'),
        overrides: overridesSchema.default({}),
      })
      .strict(),
    z
      .object({ action: z.literal('status'), target, identifier: dbIdentifier, region: region.nullish() })
      .strict(),
    z
      .object({
        action: z.literal('delete'),
        target,
        executionId,
        identifier: dbIdentifier,
        region: region.nullish(),
      })
      .strict(),
  ]);
}

export type RestoreEvent = z.output<ReturnType<typeof restoreEventSchema>>;
export type ChooseAction = Extract<RestoreEvent, { action: 'choose' }>;
export type RestoreAction = Extract<RestoreEvent, { action: 'restore' }>;
export type StatusAction = Extract<RestoreEvent, { action: 'status' }>;
export type DeleteAction = Extract<RestoreEvent, { action: 'delete' }>;
