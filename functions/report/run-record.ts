/**
 * The run record: what a flow hands to `report` at its end — every step's outcome, as collected
 * by the flow. Steps that did not run are simply absent. This schema is the contract between the
 * flows and the report.
 */
import * as z from 'zod';
import { FLOWS } from '#common/alerts/alert-schema';
import {
  capacityResult,
  databaseMaintenanceEntry,
  orUnavailable,
  securityResult,
  statisticsResult,
} from '#common/maintenance/maintenance-results';
import { skippedSchema, windowPlanSchema } from '#common/time/maintenance-window';
import { updateSectionOf } from './update-section.ts';

const isoTime = z.iso.datetime({ offset: true });
const errorInfo = z.object({ name: z.string(), message: z.string() });
/** A step's error as a Catch hands it over (`Error`, `Cause`). */
const stepError = z.object({ step: z.string(), error: z.string(), cause: z.string().optional() });

const healthCheck = z.object({
  name: z.string(),
  kind: z.string(),
  status: z.enum(['pass', 'warn', 'fail']),
  summary: z.string(),
  evidence: z.record(z.string(), z.unknown()).default({}),
  durationMs: z.number().nonnegative().optional(),
});

export const healthSection = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  checkedAt: isoTime.optional(),
  label: z.string().optional(),
  checks: z.array(healthCheck),
});

export const backupEntry = z.object({
  set: z.string(),
  /** `skipped`: not started, the maintenance window had no time left for it (`skipped` says why). */
  status: z.enum(['succeeded', 'failed', 'skipped']),
  skipped: skippedSchema.optional(),
  backupId: z.string().optional(),
  mode: z.enum(['full', 'incremental']).optional(),
  objects: z.number().int().nonnegative().optional(),
  bytes: z.number().nonnegative().optional(),
  copiedObjects: z.number().int().nonnegative().optional(),
  copiedBytes: z.number().nonnegative().optional(),
  durationMs: z.number().nonnegative().optional(),
  location: z.string().optional(),
  verification: z
    .object({
      ok: z.boolean(),
      subset: z.string().optional(),
      objectsChecked: z.number().int().nonnegative().optional(),
      error: errorInfo.optional(),
    })
    .optional(),
  error: errorInfo.optional(),
});

export const snapshotEntry = z.object({
  target: z.string(),
  status: z.enum(['succeeded', 'failed', 'skipped']),
  skipped: skippedSchema.optional(),
  snapshotId: z.string().optional(),
  type: z.enum(['instance', 'cluster']).optional(),
  allocatedStorageGiB: z.number().nonnegative().optional(),
  durationMs: z.number().nonnegative().optional(),
  copy: z
    .object({
      region: z.string(),
      status: z.string(),
      snapshotId: z.string().optional(),
      error: errorInfo.optional(),
    })
    .optional(),
  quota: z
    .object({
      used: z.number().int().nonnegative(),
      limit: z.number().int().positive(),
      warnPercent: z.number(),
    })
    .optional(),
  notes: z.array(z.string()).default([]),
  error: errorInfo.optional(),
});

const decision = z.object({
  id: z.string(),
  action: z.enum(['keep', 'delete']),
  reasons: z.array(z.string()),
});

/** The cleanup function's result (functions/cleanup/report.ts), as the flow passes it on. */
export const cleanupSection = z.object({
  dryRun: z.boolean(),
  targets: z.array(
    z.object({
      name: z.string(),
      resource: z.enum(['rds-snapshots', 'backups']),
      region: z.string().optional(),
      policy: z.string(),
      status: z.enum(['done', 'incomplete', 'refused', 'failed']),
      reason: z.string().optional(),
      points: z.number().int().nonnegative(),
      kept: z.number().int().nonnegative(),
      decisions: z.array(decision),
      decisionsNotListed: z.number().int().nonnegative().optional(),
      deletions: z.array(
        z.object({
          id: z.string(),
          reasons: z.array(z.string()),
          outcome: z.enum(['deleted', 'already-gone', 'would-delete', 'partial', 'skipped']),
          detail: z.string().optional(),
          objectsDeleted: z.number().int().nonnegative().optional(),
          objectsReferenced: z.number().int().nonnegative().optional(),
        }),
      ),
      notes: z.array(z.string()).default([]),
      /** Forged or altered objects cleanup found and ignored (docs/security.md). */
      tampering: z
        .array(
          z.object({
            kind: z.string(),
            key: z.string(),
            backupId: z.string().optional(),
            detail: z.string().optional(),
          }),
        )
        .optional(),
      tamperingCount: z.number().int().nonnegative().optional(),
    }),
  ),
});

export const drillSection = z.object({
  rtoSeconds: z.number().nonnegative(),
  rpoSeconds: z.number().nonnegative(),
  rtoTargetSeconds: z.number().positive().optional(),
  rpoTargetSeconds: z.number().positive().optional(),
  recoveryPoint: z.string().optional(),
  tornDown: z.boolean().optional(),
});

const skippedPoint = z.object({ id: z.string(), kind: z.string().optional(), why: z.string() });
const chosenPoint = z.object({
  snapshotIdentifier: z.string().optional(),
  backupId: z.string().optional(),
  createdAt: isoTime,
  verifiedAt: isoTime.nullable().optional(),
  source: z.enum(['newest-verified', 'given']),
  managed: z.boolean().optional(),
  reason: z.string(),
  skipped: z.array(skippedPoint).default([]),
  skippedCount: z.number().int().nonnegative().default(0),
  restoredIdentifier: z.string().optional(),
});
const removalError = errorInfo.partial({ message: true });

/**
 * What a DisasterRecovery run did, step by step (statemachines/disaster-recovery.asl.json): a
 * step that did not run is null. The report derives RTO/RPO (and for drills the `drill` section)
 * from it.
 */
export const disasterRecoverySection = z.object({
  mode: z.enum(['drill', 'failover']),
  /** The region databases were restored in; null: the stack's. */
  region: z.string().nullable(),
  teardown: z.boolean(),
  objectives: z.object({ rtoSeconds: z.number().positive(), rpoSeconds: z.number().positive() }),
  chosen: z
    .object({
      databases: z.array(z.object({ target: z.string(), region: z.string().nullable(), point: chosenPoint })),
      backups: z.array(
        z.object({ set: z.string(), targetBucket: z.string(), targetPrefix: z.string(), point: chosenPoint }),
      ),
    })
    .nullable(),
  restored: z
    .object({
      databases: z.array(
        z.object({
          target: z.string(),
          type: z.enum(['instance', 'cluster']),
          region: z.string(),
          identifier: z.string(),
          snapshotIdentifier: z.string(),
          settingsSource: z.string().optional(),
          notes: z.array(z.string()).default([]),
          verification: healthSection.extend({ durationMs: z.number().nonnegative() }),
        }),
      ),
      backups: z.array(
        z.object({
          set: z.string(),
          backupId: z.string(),
          target: z.object({ bucket: z.string(), prefix: z.string() }),
          restoreId: z.string(),
          rollbackPointId: z.string(),
          verified: z.enum(['objects', 'manifest']),
          objects: z.number().int().nonnegative(),
          bytes: z.number().nonnegative(),
          completedAt: isoTime,
          durationMs: z.number().nonnegative(),
        }),
      ),
    })
    .nullable(),
  switchOverStarted: z.boolean().optional(),
  switchOver: z
    .array(
      z.object({
        target: z.string(),
        sourceIdentifier: z.string(),
        oldIdentifier: z.string(),
        restoredIdentifier: z.string(),
        phase: z.string(),
      }),
    )
    .nullable(),
  recheck: healthSection.nullable(),
  removal: z
    .object({
      databases: z.array(
        z.object({
          target: z.string(),
          identifier: z.string(),
          region: z.string().nullable(),
          removed: z.boolean(),
          switchOverUndone: z.boolean(),
          error: removalError.optional(),
        }),
      ),
      backups: z.array(
        z.object({
          set: z.string(),
          target: z.object({ bucket: z.string(), prefix: z.string() }),
          restoreId: z.string().optional(),
          removed: z.boolean(),
          deleted: z.number().int().nonnegative().optional(),
          putBack: z.number().int().nonnegative().optional(),
          kept: z.number().int().nonnegative().optional(),
          error: removalError.optional(),
        }),
      ),
    })
    .nullable(),
  failure: z.object({ step: z.string(), error: z.string(), cause: z.string().optional() }).nullable(),
  /** Filled by the report, not the flow: RTO and RPO once everything was restored and verified. */
  measured: z
    .object({
      verifiedAt: isoTime,
      rtoSeconds: z.number().nonnegative(),
      rpoSeconds: z.number().nonnegative(),
    })
    .optional(),
});

export type DisasterRecoverySection = z.output<typeof disasterRecoverySection>;

export const runRecordSchema = z
  .object({
    flow: z.enum(FLOWS),
    executionArn: z.string().optional(),
    executionId: z.string().optional(),
    startedAt: isoTime,
    finishedAt: isoTime.optional(),
    health: healthSection.optional(),
    backups: z.array(backupEntry).default([]),
    snapshots: z.array(snapshotEntry).default([]),
    cleanup: cleanupSection.optional(),
    drill: drillSection.optional(),
    /** The Update flow's section: what was asked, the rollback point, health, the rollback. */
    update: updateSectionOf(healthSection).optional(),
    disasterRecovery: disasterRecoverySection.optional(),
    /** Routine maintenance: the maintenance window the run kept to, with each kind of task's deadline. */
    window: windowPlanSchema.optional(),
    /** Routine maintenance: storage forecasts of the RDS targets. */
    capacity: orUnavailable(capacityResult).optional(),
    /** Routine maintenance: pending RDS maintenance and key rotation. */
    security: orUnavailable(securityResult).optional(),
    /** Routine maintenance: ANALYZE/VACUUM, bloat and long queries, per database. */
    databaseMaintenance: z.array(databaseMaintenanceEntry).optional(),
    /** Routine maintenance: per-task statistics of every flow over the last days. */
    statistics: orUnavailable(statisticsResult).optional(),
    /** Steps that failed outright (Catch branches), with the error the flow caught. */
    failures: z
      .array(z.object({ step: z.string(), error: z.string(), cause: z.string().optional() }))
      .default([]),
    /** Steps that could not run but whose absence does not fail the run (reported as warnings). */
    unavailable: z.array(stepError).default([]),
    /** What the run's rollback branch undid, one line each; absent when nothing was rolled back. */
    rolledBack: z.array(z.string()).default([]),
  })
  .strict();

export type RunRecord = z.output<typeof runRecordSchema>;
