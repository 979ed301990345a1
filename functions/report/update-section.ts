/**
 * The `update` section of a run record: what the Update flow was asked to do, its rollback point,
 * whether the change was applied, health before and after, and what the rollback did (and, for a
 * restore, which writes it could not keep). statemachines/update.asl.json assembles it; findings
 * and the Markdown report read it.
 */
import * as z from 'zod';

const isoTime = z.iso.datetime({ offset: true });
const stepFailure = z.object({ step: z.string(), error: z.string(), cause: z.string().optional() });

export const UPDATE_OUTCOMES = [
  /** Applied and healthy through the stabilisation window (or every canary step). */
  'succeeded',
  /** Not started, nothing changed: health was already unhealthy, or no rollback point could be taken. */
  'aborted',
  /** Failed after the rollback point, but nothing the update asked for had taken effect. */
  'nothing-to-roll-back',
  /** Failed, and rolled back. */
  'rolled-back',
  /** Failed, and not rolled back because someone else changed the target meanwhile. */
  'rollback-refused',
  /** Failed, and the rollback failed too: a person must finish it. */
  'rollback-failed',
] as const;

export type UpdateOutcome = (typeof UPDATE_OUTCOMES)[number];

/** The section, with the report's own schema of a health run (run-record.ts passes it in). */
export const updateSectionOf = <Health extends z.ZodType>(health: Health) =>
  z.object({
    kind: z.enum(['rds', 'lambda']),
    /** What was asked, as planned (defaults applied). */
    request: z.object({
      /** The RDS target's name, or the function's ARN. */
      target: z.string(),
      identifier: z.string().optional(),
      type: z.enum(['instance', 'cluster']).optional(),
      change: z.record(z.string(), z.unknown()).optional(),
      stabilizationMinutes: z.number().nonnegative().optional(),
      alias: z.string().optional(),
      targetVersion: z.string().optional(),
      steps: z.array(z.number()).optional(),
      bakeMinutes: z.number().nonnegative().optional(),
      healthChecks: z.array(z.string()).default([]),
    }),
    outcome: z.enum(UPDATE_OUTCOMES),
    /** What failed (absent when the update succeeded). */
    failure: stepFailure.nullish(),
    rollbackPoint: z
      .object({
        takenAt: isoTime,
        /** RDS: the rollback snapshot. */
        snapshotIdentifier: z.string().nullish(),
        /** RDS: engine version, parameter group and each member's class at the rollback point. */
        settings: z
          .object({
            identifier: z.string(),
            engineVersion: z.string().optional(),
            parameterGroup: z.string().optional(),
            members: z.array(z.object({ identifier: z.string(), instanceClass: z.string().optional() })),
          })
          .optional(),
        /** Lambda: the version the alias served, and its routing in words. */
        originalVersion: z.string().optional(),
        alias: z.string().optional(),
      })
      .nullish(),
    /** Whether the change was sent (RDS) or the alias moved at least once (Lambda). */
    applied: z.boolean(),
    /** The last answer of the apply (RDS) or of the last canary step (Lambda: its `weight`). */
    lastChange: z.record(z.string(), z.unknown()).nullish(),
    health: z.object({
      before: health.nullish(),
      /** The last post-update (or canary step) health run. */
      after: health.nullish(),
      afterRollback: health.nullish(),
    }),
    rollback: z
      .object({
        method: z.enum(['in-place', 'restore', 'alias']),
        status: z.enum(['done', 'not-needed', 'refused', 'failed']),
        /** What the update had changed, and the rollback undid (or would have). */
        changed: z.array(z.string()).default([]),
        /** What someone else changed (a refused rollback). */
        conflicts: z.array(z.string()).default([]),
        /** Commands that put the rollback point back by hand. */
        manualCommands: z.array(z.string()).default([]),
        snapshotIdentifier: z.string().nullish(),
        /** Restore: the copy now serving under the original name (before the switch-over). */
        restoredIdentifier: z.string().nullish(),
        /** Restore: where the failed update is parked, renamed and tagged, never deleted. */
        parkedIdentifier: z.string().nullish(),
        /** Restore: writes to the original in this window are only in the parked instance. */
        writeLossWindow: z.object({ from: isoTime, to: isoTime }).optional(),
        /** The rollback step that failed. */
        error: stepFailure.optional(),
      })
      .nullish(),
  });
