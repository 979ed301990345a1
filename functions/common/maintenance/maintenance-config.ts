/**
 * Config sections of the maintenance beyond backups (DESIGN §11), shared by the config schema
 * (validated at synth) and the functions that read them at run time (validated at cold start):
 * capacity forecasts, security maintenance, database maintenance (the log analysis check is a
 * health check: config-sections.ts).
 */
import * as z from 'zod';
import { kmsKeyArn, name, positiveInt } from '../config/config-sections.ts';

/** The `capacity` config section: storage forecasts of the RDS targets. */
export const capacityConfig = z
  .object({
    lookbackDays: z
      .number()
      .int()
      .min(3)
      .max(455)
      .default(14)
      .describe('days of CloudWatch history the growth is fitted over, one point a day'),
    warnDays: positiveInt
      .default(30)
      .describe('a warning when storage is predicted full within this many days'),
    criticalDays: positiveInt
      .default(7)
      .describe(
        'a failure of the run (critical alert) when storage is predicted full within this many days; below `warnDays`',
      ),
    minDataPoints: z.number().int().min(2).default(3).describe('fewer daily points give no forecast'),
    auroraLimitGiB: positiveInt
      .default(131_072)
      .describe("what an Aurora cluster volume can grow to, in GiB (128 TiB, the engine's limit)"),
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
    kmsKeys: z
      .array(kmsKeyArn)
      .default([])
      .describe(
        "KMS keys whose automatic rotation the report shows, besides the stack's own key and every `crossRegionCopy.kmsKeyArn`",
      ),
  })
  .strict();

/** One database the maintenance task connects to (`databaseMaintenance[]`). */
export const databaseMaintenanceTarget = z
  .object({
    rdsTarget: name.describe(
      'the RDS target (an `rdsTargets[].name`) whose database to maintain; at most one entry each',
    ),
    queryCheck: name
      .optional()
      .describe(
        'connect as this query check (a `healthChecks.queries[].name` of the same `rdsTarget`) does: its database, user and secret',
      ),
    database: z
      .string()
      .min(1)
      .optional()
      .describe("database to connect to (overrides the query check's; required without `queryCheck`)"),
    user: z
      .string()
      .min(1)
      .optional()
      .describe("user to connect as (overrides the query check's; required without `queryCheck`)"),
    passwordSecretArn: z
      .string()
      .regex(
        /^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
        'expected a Secrets Manager secret ARN',
      )
      .optional()
      .meta({
        title: 'secret ARN',
        description:
          "Secrets Manager secret holding the user's password (overrides the query check's; required without `queryCheck`)",
      }),
    analyze: z.boolean().default(true).describe('run `ANALYZE` (planner statistics)'),
    vacuum: z
      .boolean()
      .default(false)
      .describe(
        'run `VACUUM (ANALYZE)` instead: reclaims dead rows; longer, and needs table ownership (or `pg_maintain`)',
      ),
    longQuerySeconds: positiveInt.default(300).describe('queries running longer than this are reported'),
    bloatWarnPercent: z
      .number()
      .min(1)
      .max(100)
      .default(20)
      .describe('tables whose dead rows exceed this share (and are at least 100) are reported as bloated'),
    largestTables: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(5)
      .describe('how many of the largest tables the report lists'),
    statementTimeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(14)
      .default(10)
      .describe('the server cancels a maintenance statement running longer than this many minutes'),
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
