/** The backup-restore event. */
import * as z from 'zod';
import { restoreStateSchema } from '#common/backup/restore';
import { backupIdSchema } from '../s3-backup/input.ts';

const bucketName = z
  .string()
  .regex(
    /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'expected an S3 bucket name (3-63 lowercase characters)',
  );

/**
 * The event schema for a function whose backup bucket is `backupBucket` (env BACKUP_BUCKET): a
 * restore into the backup bucket is refused, since it could overwrite the backups themselves.
 */
export function restoreEventSchema(backupBucket: string) {
  return z
    .object({
      set: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'expected a backup set name'),
      /** The backup to restore; the newest complete backup of the set when absent. */
      backupId: backupIdSchema.optional(),
      /** Restore only objects whose source key starts with this. */
      prefix: z.string().optional(),
      targetBucket: bucketName,
      /** Prefix the objects are restored under (their keys relative to the backup's source prefix follow it). */
      targetPrefix: z.string(),
      /** `objects` (default): read back and check every object before writing any; `manifest`: only the manifest and chain. */
      verifyFirst: z.enum(['objects', 'manifest']).default('objects'),
      executionId: z.string().min(1).max(2048).default('manual'),
      /** The execution's start time: with `executionId` it fixes the restore id across retries. */
      startedAt: z.iso.datetime({ offset: true }).optional(),
      /** The `continuation` a previous call returned. */
      continuation: z
        .object({ backupId: backupIdSchema, rollbackPointId: backupIdSchema, state: restoreStateSchema })
        .strict()
        .optional(),
      timeBudgetMs: z.number().int().min(1).max(900_000).optional(),
    })
    .strict()
    .superRefine((event, ctx) => {
      if (event.targetBucket === backupBucket) {
        ctx.addIssue({
          code: 'custom',
          path: ['targetBucket'],
          message: 'is the backup bucket itself: restoring into it could overwrite the backups',
        });
      }
    });
}

export type RestoreEvent = z.output<ReturnType<typeof restoreEventSchema>>;
