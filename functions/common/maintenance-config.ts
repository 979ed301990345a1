/**
 * Config sections of the maintenance beyond backups (DESIGN §11), shared by the config schema
 * (validated at synth) and the functions that read them at run time (validated at cold start):
 * capacity forecasts, security maintenance, database maintenance (the log analysis check is a
 * health check: config-sections.ts).
 */
import * as z from 'zod';
import { kmsKeyArn, name, positiveInt } from './config-sections.ts';

/** The `capacity` config section: storage forecasts of the RDS targets. */
export const capacityConfig = z
  .object({
    /** Days of CloudWatch history the growth is fitted over (one point a day). */
    lookbackDays: z.number().int().min(3).max(455).default(14),
    /** Warn when storage is predicted full within this many days. */
    warnDays: positiveInt.default(30),
    /** Critical (a failure of the run) when predicted full within this many days. */
    criticalDays: positiveInt.default(7),
    /** Fewer daily points than this give no forecast. */
    minDataPoints: z.number().int().min(2).default(3),
    /** Aurora cluster volumes grow up to this many GiB (128 TiB, the engine's limit). */
    auroraLimitGiB: positiveInt.default(131_072),
  })
  .strict()
  .refine((capacity) => capacity.criticalDays < capacity.warnDays, {
    message: 'expected criticalDays below warnDays',
    path: ['criticalDays'],
  });

export type CapacityConfig = z.output<typeof capacityConfig>;

/** The `securityMaintenance` config section. */
export const securityMaintenanceConfig = z
  .object({
    /** KMS keys whose rotation to report, besides the stack's own key and the DR copy keys. */
    kmsKeys: z.array(kmsKeyArn).default([]),
  })
  .strict();

/** One database the maintenance task connects to (`databaseMaintenance[]`). */
export const databaseMaintenanceTarget = z
  .object({
    /** The RDS target (by name) whose database to maintain. */
    rdsTarget: name,
    /** Connect as this query check does (`healthChecks.queries[].name`): database, user, secret. */
    queryCheck: name.optional(),
    /** Or connect with these (each overrides the query check's). */
    database: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    passwordSecretArn: z
      .string()
      .regex(
        /^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
        'expected a Secrets Manager secret ARN',
      )
      .optional(),
    /** Run ANALYZE (planner statistics) on the database. */
    analyze: z.boolean().default(true),
    /** Run VACUUM (ANALYZE) instead: reclaims dead rows; longer, and needs table ownership. */
    vacuum: z.boolean().default(false),
    /** Queries running longer than this are reported. */
    longQuerySeconds: positiveInt.default(300),
    /** Tables whose dead rows exceed this share of their rows are reported as bloated. */
    bloatWarnPercent: z.number().min(1).max(100).default(20),
    /** How many of the largest tables the report lists. */
    largestTables: z.number().int().min(1).max(50).default(5),
    /** Longest a maintenance statement may run, in minutes (the server cancels it). */
    statementTimeoutMinutes: z.number().int().min(1).max(14).default(10),
  })
  .strict();

export type DatabaseMaintenanceTargetConfig = z.output<typeof databaseMaintenanceTarget>;

/** A maintenance target with its connection resolved (what the db-maintenance function receives). */
export const resolvedDatabaseMaintenance = databaseMaintenanceTarget
  .omit({ queryCheck: true, database: true, user: true, passwordSecretArn: true })
  .extend({
    type: z.enum(['instance', 'cluster']),
    identifier: z.string().min(1),
    database: z.string().min(1),
    user: z.string().min(1),
    passwordSecretArn: z.string().min(1),
  });

export type ResolvedDatabaseMaintenance = z.output<typeof resolvedDatabaseMaintenance>;
