/** The cleanup event and the retention configuration the stack hands the function. */
import * as z from 'zod';
import { name } from '#common/config-sections';
import { retentionPolicySchema } from '#common/retention-policy';

/** `BACKUP_SETS`: the config's backup sets (only their names and policies matter here). */
export const backupSetsSchema = z.array(z.object({ name, retention: name }).strip());

/** `RETENTION_POLICIES`: the config's `retentionPolicies`. */
export const retentionPoliciesSchema = z.record(name, retentionPolicySchema);

export function cleanupEventSchema(knownTargets: readonly string[]) {
  return z
    .object({
      /** Report what would be deleted and why; delete nothing. */
      dryRun: z.boolean().default(false),
      /** Only these RDS targets / backup sets (default: all). */
      targets: z
        .array(
          z.string().refine((target) => knownTargets.includes(target), {
            message: `expected a configured RDS target or backup set (${knownTargets.join(', ') || 'none configured'})`,
          }),
        )
        .min(1)
        .optional(),
      executionId: z.string().min(1).max(2048).optional(),
      /** Plan as of this time (default: now); for dry runs and rehearsals. */
      now: z.iso.datetime({ offset: true }).optional(),
    })
    .strict();
}

export type CleanupEvent = z.output<ReturnType<typeof cleanupEventSchema>>;
