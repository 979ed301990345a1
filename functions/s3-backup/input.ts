/**
 * The s3-backup event. The set is the config's own backup-set schema (the section
 * lib/config/schema.ts is built from), so an event is validated exactly as the config was at
 * synth time — without bundling the whole config schema and its schedule rules (cron-parser and
 * luxon) into the function.
 */
import * as z from 'zod';
import { isBackupId } from '#common/backup/layout';
import { backupSet as backupSetSchema } from '#common/config/config-sections';

/** The parts of a backup set the backup needs (other config fields are ignored). */
export const backupSetSpec = backupSetSchema
  .pick({ name: true, sourceBucket: true, prefix: true, mode: true, fullEvery: true })
  .strip();

export const backupIdSchema = z.string().refine(isBackupId, 'expected a backupId (yyyyMMddTHHmmssZ-<8 hex>)');

/**
 * The event schema for a function whose backup bucket is `backupBucket` (env BACKUP_BUCKET): a set
 * whose source is the backup bucket itself is refused, since backing the backups up into their
 * own bucket grows without end and mixes copies of backups with the backups.
 */
export function backupEventSchema(backupBucket: string) {
  return z
    .object({
      /**
       * `run`: the whole backup in this function, looping until `done`; `plan`, `batches`,
       * `finalize`: the Distributed Map flow's steps.
       */
      step: z.enum(['run', 'plan', 'batches', 'finalize']).default('run'),
      set: backupSetSpec,
      /** Continue (or re-run) this backup; derived from `startedAt` and `executionId` when absent or null. */
      backupId: backupIdSchema.nullish().transform((id) => id ?? undefined),
      /** The Step Functions execution id (tagged on everything written). */
      executionId: z.string().min(1).max(2048).default('manual'),
      /** The execution's start time: with `executionId` it fixes the backupId across retries. */
      startedAt: z.iso.datetime({ offset: true }).optional(),
      /** Take a full backup whatever the set's mode (starts a new chain). */
      forceFull: z.boolean().default(false),
      /** The batches a Distributed Map child processes (step `batches`). */
      batches: z.array(z.number().int().min(1)).min(1).optional(),
      /** Stop starting new work after this many milliseconds (the Lambda timeout still bounds it). */
      timeBudgetMs: z
        .number()
        .int()
        .min(1)
        .max(900_000)
        .nullish()
        .transform((ms) => ms ?? undefined),
    })
    .strict()
    .superRefine((event, ctx) => {
      if (event.set.sourceBucket === backupBucket) {
        ctx.addIssue({
          code: 'custom',
          path: ['set', 'sourceBucket'],
          message: 'is the backup bucket itself: backups are never taken of the backup bucket',
        });
      }
      if (event.step === 'batches' && !event.batches) {
        ctx.addIssue({ code: 'custom', path: ['batches'], message: 'required for step "batches"' });
      }
      if ((event.step === 'batches' || event.step === 'finalize') && !event.backupId) {
        ctx.addIssue({ code: 'custom', path: ['backupId'], message: `required for step "${event.step}"` });
      }
    });
}

export type BackupEvent = z.output<ReturnType<typeof backupEventSchema>>;
