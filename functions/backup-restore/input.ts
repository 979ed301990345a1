/**
 * The backup-restore event: one action, `restore` when `action` is left out.
 *
 * - `restore`: a backup (or the objects under a key prefix) into a target bucket/prefix, in one
 *   function call after call (`continuation`);
 * - `choose`: the backup a disaster-recovery restore starts from (the newest sealed and verified
 *   one, or the one given), and why;
 * - `teardown`: remove what one execution's restore wrote into its target, and nothing else;
 * - the same restore fanned out over the manifest's parts (fan-out.ts, run by the
 *   DisasterRecovery flow's Distributed Maps): `plan`, `verify-range`, `rollback-point`,
 *   `restore-range`, `finish`, and after a failure `rollback-range` and `rolled-back`.
 */
import * as z from 'zod';
import { restoreStateSchema } from '#common/backup/restore';
import {
  restoreRangeCursorSchema,
  restoreRangeSummarySchema,
  rollbackRangeCursorSchema,
  rollbackRangeSummarySchema,
} from '#common/backup/restore-range';
import { rangeCursorSchema, rangeSummarySchema } from '#common/backup/verify-range';
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
  const fanned = fannedOutSchemas(notTheBackupBucket);
  return z.preprocess(
    // `restore` is the original (and default) action: events without `action` stay valid.
    (event) =>
      event && typeof event === 'object' && !Array.isArray(event) && !('action' in event)
        ? { action: 'restore', ...event }
        : event,
    z.discriminatedUnion('action', [
      restore,
      choose,
      teardown,
      fanned.plan,
      fanned.verifyRange,
      fanned.rollbackPoint,
      fanned.restoreRange,
      fanned.finish,
      fanned.rollbackRange,
      fanned.rolledBack,
    ]),
  );
}

const manifestSha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 in hex');
/** The execution's start time: with `executionId` and `set` it names the restore and its rollback point. */
const startedAt = z.iso.datetime({ offset: true });
/** A Catch's error: what failed. */
const caught = z.object({ Error: z.string(), Cause: z.string().nullish() }).strict();

/**
 * The fanned-out restore's actions. Every one names the execution (`executionId`, `startedAt`):
 * the restore id and rollback point id follow from them, as for `restore` and `teardown`.
 */
function fannedOutSchemas(
  notTheBackupBucket: (event: { targetBucket: string }, ctx: z.RefinementCtx) => void,
) {
  const target = { targetBucket: bucketName, targetPrefix: z.string() };
  const execution = { executionId, startedAt };
  /** The backup as the plan fixed it. */
  const planned = {
    set,
    backupId: backupIdSchema,
    /** Restore only objects whose source key starts with this. */
    prefix: z.string().optional(),
    manifestSha256,
  };
  const range = {
    from: z.number().int().min(0),
    to: z.number().int().min(1),
    timeBudgetMs: timeBudgetMs.optional(),
  };
  const fromBeforeTo = (event: { from: number; to: number }, ctx: z.RefinementCtx) => {
    if (event.from >= event.to)
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be greater than from' });
  };
  return {
    /** Authenticates the manifest and chain, fixes backup and target, splits the parts into ranges. */
    plan: z
      .object({
        action: z.literal('plan'),
        set,
        /** The backup to restore; the newest sealed backup of the set when absent (or null). */
        backupId: backupIdSchema.nullish(),
        prefix: z.string().optional(),
        ...target,
        ...execution,
        /** Parts per Distributed Map item (more when the parts would exceed 200 items). */
        partsPerItem: z.number().int().min(1).max(10_000).default(1),
      })
      .strict()
      .superRefine(notTheBackupBucket),
    /** Reads back and checks every object of one range before anything is written. */
    verifyRange: z
      .object({
        action: z.literal('verify-range'),
        ...planned,
        ...range,
        /** Null on the first call; then the `cursor` the previous call returned. */
        cursor: rangeCursorSchema.nullish(),
        executionId,
      })
      .strict()
      .superRefine(fromBeforeTo),
    /** Refuses the backup if any range found a problem; else takes the rollback point of the target. */
    rollbackPoint: z
      .object({
        action: z.literal('rollback-point'),
        ...planned,
        ...target,
        ...execution,
        /** The verify Map's result: one summary per range. */
        verified: z.array(rangeSummarySchema),
        timeBudgetMs: timeBudgetMs.optional(),
      })
      .strict()
      .superRefine(notTheBackupBucket),
    /** Restores one range, call after call. */
    restoreRange: z
      .object({
        action: z.literal('restore-range'),
        ...planned,
        ...target,
        ...execution,
        ...range,
        cursor: restoreRangeCursorSchema.nullish(),
      })
      .strict()
      .superRefine(notTheBackupBucket)
      .superRefine(fromBeforeTo),
    /** Adds the ranges up (every part once) into the restore's result. */
    finish: z
      .object({
        action: z.literal('finish'),
        ...planned,
        ...target,
        ...execution,
        /** When the plan ran: the restore's start. */
        plannedAt: startedAt,
        /** The restore Map's result: one summary per range. */
        results: z.array(restoreRangeSummarySchema),
      })
      .strict()
      .superRefine(notTheBackupBucket),
    /** Undoes what the restore may have written for one range, call after call. */
    rollbackRange: z
      .object({
        action: z.literal('rollback-range'),
        ...planned,
        ...target,
        ...execution,
        ...range,
        cursor: rollbackRangeCursorSchema.nullish(),
      })
      .strict()
      .superRefine(notTheBackupBucket)
      .superRefine(fromBeforeTo),
    /** Adds the rollback up and fails with what failed, what was rolled back and what was left alone. */
    rolledBack: z
      .object({
        action: z.literal('rolled-back'),
        set,
        backupId: backupIdSchema,
        ...target,
        ...execution,
        parts: z.number().int().min(0),
        /** The restore's failure, as the Catch caught it. */
        failure: caught,
        /** The rollback Map's result; null when the rollback itself failed (`rollbackFailure`). */
        results: z.array(rollbackRangeSummarySchema).nullish(),
        rollbackFailure: caught.nullish(),
      })
      .strict()
      .superRefine(notTheBackupBucket),
  };
}

export type BackupRestoreEvent = z.output<ReturnType<typeof restoreEventSchema>>;
export type RestoreEvent = Extract<BackupRestoreEvent, { action: 'restore' }>;
export type ChooseEvent = Extract<BackupRestoreEvent, { action: 'choose' }>;
export type TeardownEvent = Extract<BackupRestoreEvent, { action: 'teardown' }>;
export type PlanEvent = Extract<BackupRestoreEvent, { action: 'plan' }>;
export type VerifyRangeEvent = Extract<BackupRestoreEvent, { action: 'verify-range' }>;
export type RollbackPointEvent = Extract<BackupRestoreEvent, { action: 'rollback-point' }>;
export type RestoreRangeEvent = Extract<BackupRestoreEvent, { action: 'restore-range' }>;
export type FinishEvent = Extract<BackupRestoreEvent, { action: 'finish' }>;
export type RollbackRangeEvent = Extract<BackupRestoreEvent, { action: 'rollback-range' }>;
export type RolledBackEvent = Extract<BackupRestoreEvent, { action: 'rolled-back' }>;
