/** The cleanup event and the retention configuration the stack hands the function. */
import * as z from 'zod';
import { name } from '#common/config/config-sections';
import { enforceableRetentionPolicySchema } from '#common/retention/retention-policy';

/** `BACKUP_SETS`: the config's backup sets (only their names and policies matter here). */
export const backupSetsSchema = z.array(z.object({ name, retention: name }).strip());

/**
 * `RETENTION_POLICIES`: the config's `retentionPolicies`, held to the same rule as at synth (a
 * policy must keep something), so a hand-edited variable cannot make cleanup delete everything.
 */
export const retentionPoliciesSchema = z.record(name, enforceableRetentionPolicySchema);

export function cleanupEventSchema(knownTargets: readonly string[]) {
  return z
    .object({
      /**
       * Required, no default: `true` reports what would be deleted and why and deletes nothing;
       * `false` deletes. An event that says neither must not be taken for a real cleanup.
       */
      dryRun: z.boolean(),
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
      /** Plan as of this time (default: now); dry runs only. */
      now: z.iso.datetime({ offset: true }).optional(),
    })
    .strict()
    .refine((event) => event?.now === undefined || event.dryRun === true, {
      path: ['now'],
      // `now` moves the minAge floor: a time in the future would make every point old enough to delete.
      message:
        'allowed only with dryRun: true (planning as of another time moves the minAge floor, so a real cleanup always plans as of now)',
      // Judged even when other fields are wrong (a missing dryRun is no dry run), unless `now` itself is malformed.
      when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'now'),
    });
}

export type CleanupEvent = z.output<ReturnType<typeof cleanupEventSchema>>;
