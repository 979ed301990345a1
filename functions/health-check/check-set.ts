/**
 * What health-check checks: the configured set (env `HEALTH_CHECKS`, written by the stack from the
 * config) and the optional per-invocation override a flow step passes in its event.
 *
 * The per-check schemas are the config's own (functions/common/config/config-sections.ts), so a check is
 * validated the same way at synth time and at run time, with the same defaults.
 */
import * as z from 'zod';
import {
  awsRegion,
  healthChecks,
  httpCheck as httpCheckSchema,
  logsCheck as logsCheckSchema,
  name,
  queryCheck as queryCheckSchema,
  rdsCheck as rdsCheckSchema,
  rdsIdentifier,
  tlsCheck as tlsCheckSchema,
} from '#common/config/config-sections';
import { isoDurationSchema } from '#common/retention/retention-policy';

const healthChecksSection = healthChecks;
const backupSetSchema = z.object({ name, rpo: isoDurationSchema.default('PT26H') });
const rdsTargetSchema = z.object({
  name,
  type: z.enum(['instance', 'cluster']).default('instance'),
  identifier: rdsIdentifier,
  rpo: isoDurationSchema.default('PT26H'),
});

export type HttpCheck = z.output<typeof httpCheckSchema>;
export type TlsCheck = z.output<typeof tlsCheckSchema>;
export type RdsCheck = z.output<typeof rdsCheckSchema>;
export type QueryCheck = z.output<typeof queryCheckSchema>;
export type LogsCheck = z.output<typeof logsCheckSchema>;

/** A query check with the database it runs against resolved (from its RDS target, or given directly). */
export type ResolvedQueryCheck = Omit<QueryCheck, 'rdsTarget'> & {
  readonly rdsTarget?: string;
  readonly type: 'instance' | 'cluster';
  readonly identifier: string;
  /** Overrides only: the database is in this region (a restored copy in the DR region); null: the function's. */
  readonly region?: string | null;
};

/** An RDS check; an override's may name another region (a restored copy in the DR region). */
export type RegionalRdsCheck = RdsCheck & { readonly region?: string | null };

/** An override RDS check: the config's, optionally in another region (null: the function's). */
const overrideRdsSchema = rdsCheckSchema.extend({ region: awsRegion.nullish() });

/**
 * `HEALTH_CHECKS`: the config's `healthChecks` section plus the backup sets and RDS targets whose
 * freshness to check (extra fields of a full backup set / RDS target are ignored).
 */
export const checkSetSchema = healthChecksSection
  .extend({
    backupSets: z.array(backupSetSchema.strip()).default([]),
    rdsTargets: z.array(rdsTargetSchema.strip()).default([]),
  })
  .superRefine((set, ctx) => {
    const targets = set.rdsTargets.map((target) => target.name);
    set.queries.forEach((query, index) => {
      if (!targets.includes(query.rdsTarget)) {
        ctx.addIssue({
          code: 'custom',
          path: ['queries', index, 'rdsTarget'],
          message: `unknown RDS target "${query.rdsTarget}" (known: ${targets.join(', ') || 'none'})`,
        });
      }
    });
  });

export type CheckSet = z.output<typeof checkSetSchema>;
export type CheckSetInput = z.input<typeof checkSetSchema>;

/** An override query check: a configured RDS target by name, or an instance/cluster identifier (a restored copy). */
const overrideQuerySchema = queryCheckSchema
  .omit({ rdsTarget: true })
  .extend({
    rdsTarget: queryCheckSchema.shape.rdsTarget.optional(),
    identifier: rdsCheckSchema.shape.identifier.optional(),
    type: rdsCheckSchema.shape.type,
    /** With `identifier`: the database is in this region (null or absent: the function's). */
    region: awsRegion.nullish(),
  })
  .refine((query) => query.rdsTarget !== undefined || query.identifier !== undefined, {
    message: 'expected rdsTarget (a configured RDS target) or identifier (a DB instance or cluster)',
    path: ['rdsTarget'],
  });

/**
 * The event. Every field is optional: `{}` (the schedule's input) runs the configured checks.
 * - `checks`: run exactly these instead (kinds left out are not run; `backupFreshness` defaults
 *   to false here), e.g. health of a restored endpoint after a restore.
 * - `failOn`: throw `UnhealthyError` when the result is at least this bad (flow steps).
 * - `executionId`: the Step Functions execution, for log correlation.
 * - `label`: names the run in the result and as the `label` metric dimension (e.g. `post-restore`).
 */
export function eventSchema(configuredTargets: readonly string[]) {
  return z
    .object({
      checks: z
        .object({
          http: z.array(httpCheckSchema).default([]),
          tls: z.array(tlsCheckSchema).default([]),
          rds: z.array(overrideRdsSchema).default([]),
          queries: z.array(overrideQuerySchema).default([]),
          logs: z.array(logsCheckSchema).default([]),
          backupFreshness: z.boolean().default(false),
        })
        .strict()
        .superRefine((checks, ctx) => {
          checks.queries.forEach((query, index) => {
            if (query.identifier === undefined && !configuredTargets.includes(query.rdsTarget ?? '')) {
              ctx.addIssue({
                code: 'custom',
                path: ['queries', index, 'rdsTarget'],
                message: `unknown RDS target "${query.rdsTarget}" (configured: ${configuredTargets.join(', ') || 'none'})`,
              });
            }
          });
        })
        .optional(),
      failOn: z.enum(['unhealthy', 'degraded']).optional(),
      executionId: z.string().min(1).max(256).optional(),
      label: z
        .string()
        .regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, 'expected 1-64 letters, digits, _ . : or -')
        .optional(),
      /** Read this many minutes of logs in every log analysis check (routine maintenance: a day). */
      logsWindowMinutes: z.number().int().min(1).max(10_080).optional(),
    })
    .strict();
}

export type HealthCheckEvent = z.output<ReturnType<typeof eventSchema>>;

/** The checks one run executes: the event's override, or the configured set. */
export interface RunPlan {
  readonly http: readonly HttpCheck[];
  readonly tls: readonly TlsCheck[];
  readonly rds: readonly RegionalRdsCheck[];
  readonly queries: readonly ResolvedQueryCheck[];
  readonly logs: readonly LogsCheck[];
  readonly backupSets: CheckSet['backupSets'];
  readonly rdsTargets: CheckSet['rdsTargets'];
}

/** Resolves what to run: query checks get their database from the RDS target unless given directly. */
export function resolvePlan(
  configured: CheckSet,
  override?: NonNullable<HealthCheckEvent['checks']>,
  logsWindowMinutes?: number,
): RunPlan {
  const targets = new Map(configured.rdsTargets.map((target) => [target.name, target]));
  const resolveQuery = (query: {
    rdsTarget?: string | undefined;
    identifier?: string | undefined;
    type?: 'instance' | 'cluster';
  }) => {
    const target = query.rdsTarget !== undefined ? targets.get(query.rdsTarget) : undefined;
    return {
      identifier: query.identifier ?? target?.identifier ?? '',
      type: query.identifier !== undefined ? (query.type ?? 'instance') : (target?.type ?? 'instance'),
    };
  };
  const source = override ?? configured;
  const freshness = override ? override.backupFreshness : configured.backupFreshness;
  return {
    http: source.http,
    tls: source.tls,
    rds: source.rds,
    queries: source.queries.map((query) => ({ ...query, ...resolveQuery(query) })),
    logs: source.logs.map((check) =>
      logsWindowMinutes === undefined ? check : { ...check, windowMinutes: logsWindowMinutes },
    ),
    backupSets: freshness ? configured.backupSets : [],
    rdsTargets: freshness ? configured.rdsTargets : [],
  };
}
