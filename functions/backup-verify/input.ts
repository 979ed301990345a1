/** The backup-verify event. */
import * as z from 'zod';
import { parseSubset, type Subset } from '#common/backup/subset';
import { verifyCursorSchema } from '#common/backup/verify';
import { rangeCursorSchema, rangeSummarySchema } from '#common/backup/verify-range';
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

const manifestSha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 in hex');
const subsetText = z.string().refine((text) => typeof parseSubset(text) !== 'string', 'expected all or n/t');

/**
 * The fanned-out verification's steps (statemachines/backup.asl.json, VerifyParts): `plan`
 * authenticates the manifest and chain and returns the ranges of parts; `range` verifies one
 * range, call after call; `finish` adds the ranges up and writes the record (or names the problems).
 */
export const planEventSchema = z
  .object({
    step: z.literal('plan'),
    set: setName,
    backupId: backupIdSchema.optional(),
    subset: subsetSchema.default({ kind: 'all' }),
    rotate: z.boolean().default(false),
    /** Parts per Distributed Map item (more when the parts would exceed the item cap). */
    partsPerItem: z.number().int().min(1).max(10_000).default(1),
    executionId: z.string().min(1).max(2048).default('manual'),
  })
  .strict();

export const rangeEventSchema = z
  .object({
    step: z.literal('range'),
    set: setName,
    backupId: backupIdSchema,
    subset: subsetText,
    manifestSha256,
    from: z.number().int().min(0),
    to: z.number().int().min(1),
    /** Null on the first call; then the `cursor` the previous call returned. */
    cursor: rangeCursorSchema.nullish(),
    executionId: z.string().min(1).max(2048).default('manual'),
    timeBudgetMs: z.number().int().min(1).max(900_000).optional(),
  })
  .strict()
  .refine((event) => event.from < event.to, { path: ['to'], message: 'must be greater than from' });

export const finishEventSchema = z
  .object({
    step: z.literal('finish'),
    set: setName,
    backupId: backupIdSchema,
    subset: subsetText,
    manifestSha256,
    startedAt: z.iso.datetime({ offset: true }),
    chainLinks: z.number().int().min(0),
    /** The Distributed Map's result: one summary per range. */
    results: z.array(rangeSummarySchema),
    executionId: z.string().min(1).max(2048).default('manual'),
  })
  .strict();

/**
 * Any backup-verify event. Without `step` (or with `whole`), the whole verification in one
 * function, call after call with a `continuation`: the original event, still valid.
 */
export const backupVerifyEventSchema = z.preprocess(
  (event) =>
    event && typeof event === 'object' && !Array.isArray(event) && !('step' in event)
      ? { step: 'whole', ...event }
      : event,
  z.discriminatedUnion('step', [
    verifyEventSchema.extend({ step: z.literal('whole') }),
    planEventSchema,
    rangeEventSchema,
    finishEventSchema,
  ]),
);

export type PlanEvent = z.output<typeof planEventSchema>;
export type RangeEvent = z.output<typeof rangeEventSchema>;
export type FinishEvent = z.output<typeof finishEventSchema>;
export type BackupVerifyEvent = z.output<typeof backupVerifyEventSchema>;
