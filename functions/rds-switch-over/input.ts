/**
 * The rds-switch-over event: `switch-over` (park the original as `<id>-old-<time>`, give the
 * restored copy its name, promote it) or `undo-switch-over` (the reverse), one step per call.
 *
 * Only the execution id is needed: the restored copy's name is derived from it unless given, and
 * the parking name is journaled in tags the first call writes (switch-over.ts). `startedAt`, when
 * given, names the parking identifier of a switch-over not yet journaled.
 */
import * as z from 'zod';
import { isValidIdentifier, MAX_DB_IDENTIFIER } from '#common/rds/rds-names';
import { type RdsTarget, targetNameSchema } from '#common/rds/rds-targets';

const dbIdentifier = z
  .string()
  .refine(
    (text) => isValidIdentifier(text, MAX_DB_IDENTIFIER),
    'expected a DB identifier (1-63 letters, digits, single hyphens, starting with a letter)',
  );

/** The event schema for the configured targets (an unknown target fails validation). */
export function switchEventSchema(targets: readonly RdsTarget[]) {
  const fields = {
    target: targetNameSchema(targets),
    executionId: z.string().min(1).max(2048),
    /** The copy this execution restored; null or absent: `<source>-r<8 hex of the execution>`. */
    restoredIdentifier: dbIdentifier.nullish(),
    /** The execution's start time: names `<id>-old-<time>` for a switch-over not journaled yet. */
    startedAt: z.iso.datetime({ offset: true }).nullish(),
  };
  return z.discriminatedUnion('action', [
    z.object({ action: z.literal('switch-over'), ...fields }).strict(),
    z.object({ action: z.literal('undo-switch-over'), ...fields }).strict(),
  ]);
}

export type SwitchAction = z.output<ReturnType<typeof switchEventSchema>>;
