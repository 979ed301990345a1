/**
 * What the maintenance tasks beyond backups return (DESIGN §11), as the routine-maintenance flow
 * hands them to `report`: the contract between the capacity, security-maintenance, db-maintenance
 * and task-statistics functions and the report, defined once. A task the flow could not run is
 * reported as `{ unavailable: { step, error, cause } }` (its Catch branch).
 */
import * as z from 'zod';

const isoTime = z.iso.datetime({ offset: true });
const errorInfo = z.object({ name: z.string(), message: z.string() });

/** A task that could not run: the Catch branch's step, error and cause. */
export const unavailableSection = z.object({
  unavailable: z.object({ step: z.string(), error: z.string(), cause: z.string().optional() }),
});

/** One RDS target's storage forecast. */
export const capacityEntry = z.object({
  target: z.string(),
  type: z.enum(['instance', 'cluster']),
  identifier: z.string(),
  /** `FreeStorageSpace` (instances) or `VolumeBytesUsed` (Aurora clusters). */
  metric: z.string(),
  /** What storage can grow to: allocated (or the autoscaling maximum) for instances, the Aurora limit for clusters. */
  capacityBytes: z.number().nonnegative().optional(),
  usedBytes: z.number().nonnegative().optional(),
  freeBytes: z.number().optional(),
  /** Fitted growth of the used storage per day (negative: shrinking). */
  growthBytesPerDay: z.number().optional(),
  /** Days until full at the fitted growth; null when storage is not growing. */
  daysUntilFull: z.number().nonnegative().nullable().optional(),
  /** Daily points the fit used. */
  points: z.number().int().nonnegative(),
  status: z.enum(['ok', 'warning', 'critical', 'unknown']),
  summary: z.string(),
  error: errorInfo.optional(),
});

export const capacityResult = z.object({
  computedAt: isoTime,
  lookbackDays: z.number().int().positive(),
  warnDays: z.number().positive(),
  criticalDays: z.number().positive(),
  targets: z.array(capacityEntry),
  /** The target predicted to fill first, when any is growing. */
  bottleneck: z.object({ target: z.string(), daysUntilFull: z.number().nonnegative() }).nullable(),
});

export type CapacityEntry = z.output<typeof capacityEntry>;
export type CapacityResult = z.output<typeof capacityResult>;

/** One pending RDS maintenance action (DescribePendingMaintenanceActions). */
export const pendingAction = z.object({
  action: z.string(),
  description: z.string().optional(),
  /** A security patch (OS or system update, certificate rotation): listed first. */
  security: z.boolean(),
  autoAppliedAfter: isoTime.optional(),
  forcedApplyDate: isoTime.optional(),
  currentApplyDate: isoTime.optional(),
  optInStatus: z.string().optional(),
});

export const securityResult = z.object({
  checkedAt: isoTime,
  pendingMaintenance: z.array(
    z.object({
      target: z.string(),
      type: z.enum(['instance', 'cluster']),
      identifier: z.string(),
      /** The instance's or cluster's ARN, as apply-pending-maintenance-action takes it. */
      resourceArn: z.string().optional(),
      actions: z.array(pendingAction),
      error: errorInfo.optional(),
    }),
  ),
  keys: z.array(
    z.object({
      keyArn: z.string(),
      region: z.string(),
      /** Why the key is looked at: the stack's own key, a DR copy key, or one named in the config. */
      role: z.enum(['stack', 'dr-copy', 'configured']),
      rotationEnabled: z.boolean().nullable(),
      rotationPeriodDays: z.number().int().positive().optional(),
      nextRotationDate: isoTime.optional(),
      error: errorInfo.optional(),
    }),
  ),
});

export type PendingAction = z.output<typeof pendingAction>;
export type SecurityResult = z.output<typeof securityResult>;

const tableName = z.string();

/** One database's maintenance (an iteration of the flow's map, or its skip or failure). */
export const databaseMaintenanceEntry = z.object({
  target: z.string(),
  status: z.enum(['succeeded', 'failed', 'skipped']),
  identifier: z.string().optional(),
  database: z.string().optional(),
  analyzed: z.boolean().optional(),
  vacuumed: z.boolean().optional(),
  /** How long ANALYZE/VACUUM took. */
  maintenanceMs: z.number().nonnegative().optional(),
  durationMs: z.number().nonnegative().optional(),
  largestTables: z
    .array(
      z.object({
        table: tableName,
        totalBytes: z.number().nonnegative(),
        liveRows: z.number().nonnegative(),
        deadRows: z.number().nonnegative(),
      }),
    )
    .default([]),
  bloatedTables: z
    .array(
      z.object({
        table: tableName,
        liveRows: z.number().nonnegative(),
        deadRows: z.number().nonnegative(),
        deadPercent: z.number().nonnegative(),
      }),
    )
    .default([]),
  invalidIndexes: z.array(z.object({ index: z.string(), table: tableName })).default([]),
  longQueries: z
    .array(
      z.object({
        pid: z.number().int(),
        user: z.string().optional(),
        state: z.string().optional(),
        seconds: z.number().nonnegative(),
        query: z.string(),
      }),
    )
    .default([]),
  thresholds: z
    .object({ longQuerySeconds: z.number().positive(), bloatWarnPercent: z.number().positive() })
    .optional(),
  /** What the server said while maintaining (tables skipped for lack of ownership). */
  notes: z.array(z.string()).default([]),
  skipped: z.object({ at: isoTime, deadline: z.string(), reason: z.string() }).optional(),
  error: errorInfo.optional(),
});

export type DatabaseMaintenanceEntry = z.input<typeof databaseMaintenanceEntry>;

/** Per task of a flow, over the statistics window. */
export const taskStatistics = z.object({
  task: z.string(),
  runs: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  retries: z.number().int().nonnegative(),
  meanMs: z.number().nonnegative().nullable(),
  maxMs: z.number().nonnegative().nullable(),
});

export const statisticsResult = z.object({
  days: z.number().int().positive(),
  since: isoTime,
  until: isoTime,
  flows: z.array(
    z.object({
      flow: z.string(),
      executions: z.number().int().nonnegative(),
      /** More executions than were read (the newest were). */
      truncated: z.boolean(),
      tasks: z.array(taskStatistics),
      error: errorInfo.optional(),
    }),
  ),
});

export type TaskStatistics = z.output<typeof taskStatistics>;
export type StatisticsResult = z.output<typeof statisticsResult>;

/** A section the flow ran, or could not. */
export const orUnavailable = <T extends z.ZodType>(section: T) => z.union([section, unavailableSection]);
