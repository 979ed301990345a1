/**
 * The backup-restore event: one of three actions, `restore` when `action` is left out.
 *
 * - `restore`: a backup (or the objects under a key prefix) into a target bucket/prefix;
 * - `choose`: the backup a disaster-recovery restore starts from (the newest sealed and verified
 *   one, or the one given), and why;
 * - `teardown`: remove what one execution's restore wrote into its target, and nothing else.
 */
import * as z from 'zod';
import { restoreStateSchema } from '#common/backup/restore';
import { backupIdSchema } from '../s3-backup/input.ts';
import { teardownCursorSchema } from './teardown.ts';

const bucketName = z
  .string()
  .regex(
    /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'expected an S3 bucket name (3-63 lowercase characters)',
  );
const set = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'expected a backup set name');
const executionId = z.string().min(1).max(2048);
const timeBudgetMs = z.number().int().min(1).max(900_000);

/**
 * The event schema for a function whose backup bucket is `backupBucket` (env BACKUP_BUCKET): a
 * restore into the backup bucket (or a teardown there) is refused, since it could overwrite or
 * delete the backups themselves.
 */
export function restoreEventSchema(backupBucket: string) {
  const notTheBackupBucket = (event: { targetBucket: string }, ctx: z.RefinementCtx) => {
    if (event.targetBucket === backupBucket) {
      ctx.addIssue({
        code: 'custom',
        path: ['targetBucket'],
        message: 'is the backup bucket itself: restoring into it could overwrite the backups',
      });
    }
  };
  const restore = z
    .object({
      action: z.literal('restore'),
      set,
      /** The backup to restore; the newest complete backup of the set when absent (or null). */
      backupId: backupIdSchema.nullish(),
      /** Restore only objects whose source key starts with this. */
      prefix: z.string().optional(),
      targetBucket: bucketName,
      /** Prefix the objects are restored under (their keys relative to the backup's source prefix follow it). */
      targetPrefix: z.string(),
      /** `objects` (default): read back and check every object before writing any; `manifest`: only the manifest and chain. */
      verifyFirst: z.enum(['objects', 'manifest']).default('objects'),
      executionId: executionId.default('manual'),
      /** The execution's start time: with `executionId` it fixes the restore id across retries. */
      startedAt: z.iso.datetime({ offset: true }).optional(),
      /** The `continuation` a previous call returned. */
      continuation: z
        .object({ backupId: backupIdSchema, rollbackPointId: backupIdSchema, state: restoreStateSchema })
        .strict()
        .optional(),
      timeBudgetMs: timeBudgetMs.optional(),
    })
    .strict()
    .superRefine(notTheBackupBucket);
  const choose = z
    .object({
      action: z.literal('choose'),
      set,
      /** The backup to use; null or absent: the newest sealed and verified one. */
      backupId: backupIdSchema.nullish(),
      executionId: executionId.optional(),
    })
    .strict();
  const teardown = z
    .object({
      action: z.literal('teardown'),
      set,
      targetBucket: bucketName,
      targetPrefix: z.string(),
      executionId,
      /** Required: with `executionId` and `set` it names the restore whose objects go. */
      startedAt: z.iso.datetime({ offset: true }),
      continuation: teardownCursorSchema.optional(),
      timeBudgetMs: timeBudgetMs.optional(),
    })
    .strict()
    .superRefine(notTheBackupBucket);
  return z.preprocess(
    // `restore` is the original (and default) action: events without `action` stay valid.
    (event) =>
      event && typeof event === 'object' && !Array.isArray(event) && !('action' in event)
        ? { action: 'restore', ...event }
        : event,
    z.discriminatedUnion('action', [restore, choose, teardown]),
  );
}

export type BackupRestoreEvent = z.output<ReturnType<typeof restoreEventSchema>>;
export type RestoreEvent = Extract<BackupRestoreEvent, { action: 'restore' }>;
export type ChooseEvent = Extract<BackupRestoreEvent, { action: 'choose' }>;
export type TeardownEvent = Extract<BackupRestoreEvent, { action: 'teardown' }>;
