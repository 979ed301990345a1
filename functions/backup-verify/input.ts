/** The backup-verify event. */
import * as z from 'zod';
import { parseSubset, type Subset } from '#common/backup/subset';
import { verifyCursorSchema } from '#common/backup/verify';
import { backupIdSchema } from '../s3-backup/input.ts';

const setName = z.string().regex(/^(_rollback-points|[a-z][a-z0-9-]{0,39})$/, 'expected a backup set name');

const subsetSchema = z.string().transform((text, ctx): Subset => {
  const parsed = parseSubset(text);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

export const verifyEventSchema = z
  .object({
    set: setName,
    /** The backup to verify; the newest complete backup of the set when absent. */
    backupId: backupIdSchema.optional(),
    /** `all`, or `n/t`: read group n of t (restic's --read-data-subset). */
    subset: subsetSchema.default({ kind: 'all' }),
    /** With `n/t`, shift the group by the day number so t daily runs read everything. */
    rotate: z.boolean().default(false),
    executionId: z.string().min(1).max(2048).default('manual'),
    /** The `continuation` a previous call returned. */
    continuation: z
      .object({ backupId: backupIdSchema, subset: z.string(), cursor: verifyCursorSchema })
      .strict()
      .optional(),
    timeBudgetMs: z.number().int().min(1).max(900_000).optional(),
  })
  .strict();

export type VerifyEvent = z.output<typeof verifyEventSchema>;
