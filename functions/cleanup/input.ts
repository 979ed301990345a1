/** The cleanup event and the retention configuration the stack hands the function. */
import * as z from 'zod';
import { isBackupId } from '#common/backup/layout';
import { name } from '#common/config/config-sections';
import { enforceableRetentionPolicySchema } from '#common/retention/retention-policy';
import { cleanupSection } from '../report/run-record.ts';

/** `BACKUP_SETS`: the config's backup sets (only their names and policies matter here). */
export const backupSetsSchema = z.array(z.object({ name, retention: name }).strip());

/**
 * `RETENTION_POLICIES`: the config's `retentionPolicies`, held to the same rule as at synth (a
 * policy must keep something), so a hand-edited variable cannot make cleanup delete everything.
 */
export const retentionPoliciesSchema = z.record(name, enforceableRetentionPolicySchema);

/** The fields of a whole cleanup (and of its `plan` step): what to clean up, and whether to delete. */
function runFields(knownTargets: readonly string[]) {
  return {
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
  };
}

/** `now` moves the minAge floor: a time in the future would make every point old enough to delete. */
const nowOnlyInDryRuns = {
  path: ['now'],
  message:
    'allowed only with dryRun: true (planning as of another time moves the minAge floor, so a real cleanup always plans as of now)',
  // Judged even when other fields are wrong (a missing dryRun is no dry run), unless `now` itself is malformed.
  when: (payload: z.core.ParsePayload) => !payload.issues.some((issue) => issue.path?.[0] === 'now'),
};

const backupId = z.string().refine(isBackupId, 'expected a backupId (yyyyMMddTHHmmssZ-<8 hex>)');
const count = z.number().int().nonnegative();

/**
 * A folder the Distributed Map empties (statemachines/cleanup.asl.json, EmptyFolders), as the
 * `plan` step returns it: `backup` is a complete backup whose sealed manifest the plan checked
 * and deleted (its objects are Caretaker's); `remnant` is a folder without manifest whose objects
 * are each checked for the managed tag (`TAG.managed`). `reasons` and `deleted` (objects the plan's
 * first step deleted: verification records and manifest) are for the finish step's report.
 */
export const folderItemSchema = z
  .object({
    set: name,
    id: backupId,
    kind: z.enum(['backup', 'remnant']),
    reasons: z.array(z.string()),
    deleted: count,
  })
  .strict();
export type FolderItem = z.output<typeof folderItemSchema>;

/** Where emptying a folder stands between calls: the last key handled, and the counts so far. */
export const folderCursorSchema = z
  .object({
    startAfter: z.string().min(1),
    objectsDeleted: count,
    objectsReferenced: count,
    objectsUnmanaged: count,
  })
  .strict();
export type FolderCursor = z.output<typeof folderCursorSchema>;

/** What emptying a folder did, the output of its Distributed Map child. */
export const folderSummarySchema = z
  .object({
    set: name,
    id: backupId,
    objectsDeleted: count,
    objectsReferenced: count,
    objectsUnmanaged: count,
    /** Why the folder was left alone (it holds a manifest or work in progress again). */
    skipped: z.string().optional(),
  })
  .strict();
export type FolderSummary = z.output<typeof folderSummarySchema>;

/**
 * Any cleanup event. Without `step` (or with `whole`): the whole cleanup in one call, as before.
 * The Cleanup flow fans a real cleanup of backup data out (docs/backup-scaling.md): `plan`
 * (snapshots, the retention plan and the first step of each backup going; returns the folders to
 * empty), `folder` (one Distributed Map child, call after call until `done`), `finish` (the
 * children's counts added into the report, and the run's verdict).
 */
export function cleanupEventSchema(knownTargets: readonly string[], backupSets: readonly string[] = []) {
  const configuredSet = z.string().refine((set) => backupSets.includes(set), {
    message: `expected a configured backup set (${backupSets.join(', ') || 'none configured'})`,
  });
  const run = runFields(knownTargets);
  return z.preprocess(
    (event) =>
      event && typeof event === 'object' && !Array.isArray(event) && !('step' in event)
        ? { step: 'whole', ...event }
        : event,
    z.discriminatedUnion('step', [
      z
        .object({ step: z.literal('whole'), ...run })
        .strict()
        .refine((event) => event?.now === undefined || event.dryRun === true, nowOnlyInDryRuns),
      z
        .object({ step: z.literal('plan'), ...run })
        .strict()
        .refine((event) => event?.now === undefined || event.dryRun === true, nowOnlyInDryRuns),
      z
        .object({
          step: z.literal('folder'),
          set: configuredSet,
          id: backupId,
          kind: folderItemSchema.shape.kind,
          /** Null on the first call; then the `cursor` the previous call returned. */
          cursor: folderCursorSchema.nullish(),
          executionId: z.string().min(1).max(2048).optional(),
          /** A shorter budget per call than the Lambda's (tests; a flow wanting frequent checkpoints). */
          timeBudgetMs: z.number().int().min(1).max(900_000).optional(),
        })
        .strict(),
      z
        .object({
          step: z.literal('finish'),
          /** The plan's report. */
          report: cleanupSection.extend({ now: z.iso.datetime({ offset: true }) }),
          /** The plan's folders, and the Distributed Map's result: one summary per folder, in order. */
          folders: z.array(folderItemSchema),
          results: z.array(folderSummarySchema),
          executionId: z.string().min(1).max(2048).optional(),
        })
        .strict(),
    ]),
  );
}

export type CleanupStepEvent = z.output<ReturnType<typeof cleanupEventSchema>>;
export type CleanupEvent = Omit<Extract<CleanupStepEvent, { step: 'whole' }>, 'step'>;
export type FolderEvent = Extract<CleanupStepEvent, { step: 'folder' }>;
export type FinishEvent = Extract<CleanupStepEvent, { step: 'finish' }>;
