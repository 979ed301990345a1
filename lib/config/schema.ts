/**
 * The Caretaker configuration: one typed document per environment (DESIGN §3).
 *
 * Objects are strict, so a misspelt field is reported instead of silently ignored. Defaults follow
 * the operators' maintenance calendar (DESIGN §1). Cross-field rules (unique names, references to
 * retention policies) are checked in {@link configSchema}'s refinement so every problem is listed
 * at once with its path.
 */
import * as z from 'zod';
import {
  awsRegion,
  backupSet,
  disasterRecovery,
  healthChecks,
  name,
  positiveInt,
  rdsTarget,
} from '../../functions/common/config/config-sections.ts';
import {
  capacityConfig,
  databaseMaintenanceTarget,
  securityMaintenanceConfig,
} from '../../functions/common/maintenance/maintenance-config.ts';
import {
  enforceableRetentionPolicySchema,
  timeZoneSchema,
} from '../../functions/common/retention/retention-policy.ts';
import { maintenanceWindowSchema } from '../../functions/common/time/maintenance-window.ts';
import { isValidTimeZone } from '../../functions/common/time/time-zone.ts';
import { bucketProblems } from './bucket-rules.ts';
import type { ConfigIssue } from './config-issue.ts';
import { maintenanceProblems } from './maintenance-rules.ts';
import { scheduleExpressionProblem } from './schedule-expression.ts';
import { scheduleRuleProblems } from './schedule-rules.ts';

const SEVERITIES = ['info', 'warning', 'critical'] as const;

const ENDPOINT_PATTERNS = {
  email: [/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an email address'],
  https: [/^https:\/\/[^\s]+$/, 'an https:// URL'],
  sms: [/^\+[1-9]\d{6,14}$/, 'a phone number in E.164 form (+4915112345678)'],
  sqs: [/^arn:aws[\w-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]+(\.fifo)?$/, 'an SQS queue ARN'],
  lambda: [/^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/, 'a Lambda function ARN'],
} as const satisfies Record<string, readonly [RegExp, string]>;

const checkEndpoint = (
  sub: { protocol: keyof typeof ENDPOINT_PATTERNS; endpoint: string },
  ctx: z.RefinementCtx,
) => {
  const [pattern, expected] = ENDPOINT_PATTERNS[sub.protocol];
  if (!pattern.test(sub.endpoint)) {
    ctx.addIssue({
      code: 'custom',
      path: ['endpoint'],
      message: `expected ${expected} for protocol ${sub.protocol}`,
    });
  }
};

const PROTOCOLS = ['email', 'https', 'sms', 'sqs', 'lambda'] as const;
const protocol = z.enum(PROTOCOLS).describe('delivery protocol');
const endpoint = z
  .string()
  .describe(
    'email address, `https://` URL, E.164 phone number, SQS queue ARN or Lambda function ARN (checked per protocol)',
  );

const subscription = z
  .object({
    protocol,
    endpoint,
    minSeverity: z
      .enum(SEVERITIES)
      .default('info')
      .describe('SNS filter policy on the `severity` attribute: deliver this severity and above'),
  })
  .strict()
  .superRefine(checkEndpoint);

/** A subscriber of an escalation level: paged by protocol and endpoint, whatever the severity filter. */
const escalationSubscription = z.object({ protocol, endpoint }).strict().superRefine(checkEndpoint);

/**
 * Escalation of unresolved critical incidents (DESIGN §11): level 1 gets every critical alert at
 * once; when an incident is still open after level 1's time, level 2 is paged, and so on, one
 * message per level; resolving the incident stops it.
 */
const escalation = z
  .object({
    levels: z
      .array(
        z
          .object({
            respondWithinMinutes: z
              .number()
              .int()
              .min(1)
              .max(10_080)
              .describe('minutes this level has to resolve the incident before the next level is paged'),
            subscriptions: z
              .array(escalationSubscription)
              .min(1)
              .describe('who this level pages (protocols and endpoints as `alerts.subscriptions`)'),
          })
          .strict(),
      )
      .min(1)
      .max(5)
      .describe('the escalation levels, level 1 first'),
    checkEveryMinutes: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(5)
      .describe('how often open incidents are looked at, in minutes: a level is paged at most this late'),
  })
  .strict()
  .describe('escalation of critical incidents nobody resolves; without it nothing escalates');

const schedule = (expression: string, starts: string) =>
  z
    .object({
      expression: z
        .string()
        .default(expression)
        .superRefine((text, ctx) => {
          const problem = scheduleExpressionProblem(text);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .meta({
          title: 'schedule expression',
          description: '`rate(…)`, `cron(…)` or `at(…)`, in `environment.timeZone`',
        }),
      enabled: z.boolean().default(true).describe('`false` creates the schedule disabled'),
      flexibleWindowMinutes: z
        .number()
        .int()
        .min(0)
        .max(1440)
        .default(0)
        .describe('Scheduler may start the run up to this many minutes late, to spread load; 0: on time'),
    })
    .strict()
    .default({ expression, enabled: true, flexibleWindowMinutes: 0 })
    .describe(starts);

/** Defaults from the operators' maintenance calendar (DESIGN §1). */
export const DEFAULT_SCHEDULES = {
  health: 'rate(5 minutes)',
  routineMaintenance: 'cron(0 2 * * ? *)',
  cleanup: 'cron(0 3 ? * SUN *)',
  drDrill: 'cron(0 5 1 1,4,7,10 ? *)',
} as const;

const schedules = z
  .object({
    health: schedule(DEFAULT_SCHEDULES.health, 'health checks (every 5 minutes)'),
    routineMaintenance: schedule(
      DEFAULT_SCHEDULES.routineMaintenance,
      'the RoutineMaintenance flow with `{"scheduled": true}` (daily 02:00): health for the report, every backup set (the Backup flow, nested: back up, verify) and every RDS target (snapshot, cross-region copy) in parallel, one report',
    ),
    cleanup: schedule(
      DEFAULT_SCHEDULES.cleanup,
      'the Cleanup flow with `{"dryRun": false}` (weekly, Sunday 03:00): retention over managed snapshots and backups, then a report; at most once an hour',
    ),
    drDrill: schedule(
      DEFAULT_SCHEDULES.drDrill,
      'the DisasterRecovery flow with `{"mode": "drill"}` (quarterly, first day of Jan/Apr/Jul/Oct 05:00); not created when no RDS target or backup set is configured; at most once an hour',
    ),
  })
  .strict();

const updates = z
  .object({
    lambdaFunctions: z
      .array(
        z
          .string()
          .regex(
            /^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+$/,
            'expected an unqualified Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)',
          )
          .meta({ title: 'Lambda function ARN' }),
      )
      .default([])
      .describe(
        'unqualified Lambda function ARNs whose aliases the Update flow may shift in canary steps; the update function may read and update the aliases of these functions only',
      ),
  })
  .strict();

const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const backupBucket = z
  .object({
    objectLock: z
      .object({
        mode: z
          .enum(['GOVERNANCE', 'COMPLIANCE'])
          .describe('GOVERNANCE: `breakGlassPrincipalArn` may bypass it; COMPLIANCE: no one can'),
        retentionDays: positiveInt.max(36_500).describe('days each object version is locked'),
      })
      .strict()
      .optional()
      .describe(
        'write-once backups: S3 Object Lock with a default retention. Can only be set when the bucket is first created',
      ),
    noncurrentVersionDays: positiveInt
      .default(30)
      .describe('days a replaced or deleted backup object version is kept before it expires'),
    accessLogDays: positiveInt.default(90).describe('days S3 server access logs are kept'),
    breakGlassPrincipalArn: z
      .string()
      .regex(
        /^arn:aws[\w-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/,
        'expected an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)',
      )
      .optional()
      .meta({
        title: 'IAM role or user ARN',
        description:
          'the one IAM role or user that may delete or shorten Object Lock GOVERNANCE retention (`s3:BypassGovernanceRetention`); the bucket policy denies it to everyone else. Absent: no one. See [security.md](security.md#enabling-the-break-glass-principal)',
      }),
  })
  .strict();

const quotas = z
  .object({
    manualSnapshots: positiveInt
      .default(100)
      .describe("manual DB snapshots allowed per region (your account's quota; the AWS default is 100)"),
    snapshotWarnPercent: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(80)
      .describe('warn when manual snapshots reach this percentage of the quota'),
    maxConcurrentCopies: positiveInt
      .max(20)
      .default(5)
      .describe(
        'cross-region snapshot copies in flight per destination region (AWS allows 20, 5 for encrypted copies)',
      ),
  })
  .strict();

const baseSchema = z
  .object({
    $schema: z
      .string()
      .optional()
      .describe(
        'the JSON Schema this file follows, for editors: `./caretaker.schema.json` beside it, or `./node_modules/caretaker/config/caretaker.schema.json` in your app; Caretaker ignores it',
      ),
    environment: z
      .object({
        name: name.describe(
          'environment name; the stack is `Caretaker-<name>`, the key alias `alias/caretaker/<name>`',
        ),
        timeZone: timeZoneSchema.default('UTC').describe('time zone of every schedule'),
        account: z
          .string()
          .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
          .optional()
          .meta({
            title: '12 digits',
            description: 'pin the stack to an account (leave out for an environment-agnostic template)',
          }),
        region: awsRegion.optional().describe('pin the stack to a region'),
      })
      .strict()
      .describe('which environment this is'),
    alerts: z
      .object({
        subscriptions: z
          .array(subscription)
          .default([])
          .describe('who gets the alerts, each from a minimum severity on'),
        escalation: escalation.optional(),
      })
      .strict()
      .default({ subscriptions: [] })
      .describe('where alerts go: subscriptions of the alert topic'),
    healthChecks: healthChecks
      .default({
        http: [],
        tls: [],
        rds: [],
        queries: [],
        logs: [],
        backupFreshness: true,
      })
      .describe('what the health checks probe, every 5 minutes and in routine maintenance'),
    backupSets: z
      .array(backupSet)
      .default([])
      .describe('S3 data to back up: bucket and prefix, full or incremental, client-side encrypted'),
    rdsTargets: z
      .array(rdsTarget)
      .default([])
      .describe('RDS instances and Aurora clusters to snapshot (and restore in DR)'),
    retentionPolicies: z
      .record(name, enforceableRetentionPolicySchema)
      .default({})
      .describe('named retention policies, referenced by backup sets and RDS targets'),
    schedules: schedules
      .default({
        health: { expression: DEFAULT_SCHEDULES.health, enabled: true, flexibleWindowMinutes: 0 },
        routineMaintenance: {
          expression: DEFAULT_SCHEDULES.routineMaintenance,
          enabled: true,
          flexibleWindowMinutes: 0,
        },
        cleanup: { expression: DEFAULT_SCHEDULES.cleanup, enabled: true, flexibleWindowMinutes: 0 },
        drDrill: { expression: DEFAULT_SCHEDULES.drDrill, enabled: true, flexibleWindowMinutes: 0 },
      })
      .describe('when the scheduled flows run, evaluated by EventBridge Scheduler in `environment.timeZone`'),
    disasterRecovery: disasterRecovery
      .default({
        rtoTargetMinutes: 60,
        rpoTargetMinutes: 1440,
        teardownAfterDrill: true,
        restorePrefix: 'dr-restore/',
      })
      .describe('how the DisasterRecovery flow restores, and what its report measures against'),
    backupBucket: backupBucket
      .default({ noncurrentVersionDays: 30, accessLogDays: 90 })
      .describe('the backup bucket Caretaker creates'),
    updates: updates.default({ lambdaFunctions: [] }).describe('what the Update flow may change'),
    quotas: quotas
      .default({ manualSnapshots: 100, snapshotWarnPercent: 80, maxConcurrentCopies: 5 })
      .describe('RDS quotas routine maintenance keeps within and reports on'),
    logRetentionDays: z
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `expected one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30)
      .meta({
        title: 'days',
        description: `days function and flow logs are kept: one of CloudWatch's retention periods (${LOG_RETENTION_DAYS.join(', ')})`,
      }),
    maintenanceWindow: maintenanceWindowSchema
      .optional()
      .describe(
        'when scheduled maintenance may work and updates may start; scheduled runs start no task that cannot finish in it. Without it nothing has a deadline',
      ),
    capacity: capacityConfig
      .default({
        lookbackDays: 14,
        warnDays: 30,
        criticalDays: 7,
        minDataPoints: 3,
        auroraLimitGiB: 131_072,
      })
      .describe('storage forecasts of the RDS targets, in routine maintenance'),
    securityMaintenance: securityMaintenanceConfig
      .default({ kmsKeys: [] })
      .describe('pending RDS maintenance and key rotation, reported by routine maintenance'),
    databaseMaintenance: z
      .array(databaseMaintenanceTarget)
      .default([])
      .describe('databases routine maintenance runs ANALYZE (and VACUUM) on and inspects'),
  })
  .strict();

type BaseConfig = z.output<typeof baseSchema>;

function checkUnique(ctx: z.RefinementCtx, items: readonly { name: string }[], path: string): void {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const first = seen.get(item.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [path, index, 'name'],
        message: `duplicate name "${item.name}" (also ${path}[${first}])`,
      });
    } else seen.set(item.name, index);
  });
}

function crossCheck(config: BaseConfig, ctx: z.RefinementCtx, now: Date): void {
  const report = (issue: ConfigIssue) => ctx.addIssue({ code: 'custom', ...issue, path: [...issue.path] });
  bucketProblems(config).forEach(report);
  // zod runs this refinement even when a field's own refinement failed: without a valid zone
  // (already reported) there is no wall clock to judge the schedules by.
  const zone = config.environment.timeZone;
  if (isValidTimeZone(zone)) {
    for (const [scheduleName, schedule] of Object.entries(config.schedules)) {
      scheduleRuleProblems(scheduleName, schedule.expression, zone, now).forEach(report);
    }
  }
  checkUnique(ctx, config.backupSets, 'backupSets');
  checkUnique(ctx, config.rdsTargets, 'rdsTargets');
  for (const kind of ['http', 'tls', 'rds', 'queries', 'logs'] as const) {
    const checks = config.healthChecks[kind];
    checks.forEach((check, index) => {
      const first = checks.findIndex((other) => other.name === check.name);
      if (first !== index) {
        ctx.addIssue({
          code: 'custom',
          path: ['healthChecks', kind, index, 'name'],
          message: `duplicate name "${check.name}"`,
        });
      }
    });
  }
  const policies = Object.keys(config.retentionPolicies);
  const needPolicy = (ref: string, path: (string | number)[]) => {
    if (!policies.includes(ref)) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `unknown retention policy "${ref}" (defined: ${policies.length ? policies.join(', ') : 'none'})`,
      });
    }
  };
  config.backupSets.forEach((set, i) => {
    needPolicy(set.retention, ['backupSets', i, 'retention']);
  });
  config.rdsTargets.forEach((target, i) => {
    needPolicy(target.retention, ['rdsTargets', i, 'retention']);
    const copy = target.crossRegionCopy;
    if (copy) {
      if (config.environment.region && copy.region === config.environment.region) {
        ctx.addIssue({
          code: 'custom',
          path: ['rdsTargets', i, 'crossRegionCopy', 'region'],
          message: 'must differ from environment.region',
        });
      }
      const keyRegion = copy.kmsKeyArn.split(':')[3];
      if (keyRegion !== copy.region) {
        ctx.addIssue({
          code: 'custom',
          path: ['rdsTargets', i, 'crossRegionCopy', 'kmsKeyArn'],
          message: `the key must be in the copy region ${copy.region}, not ${keyRegion}`,
        });
      }
    }
  });
  maintenanceProblems(config).forEach(report);
  const targets = config.rdsTargets.map((target) => target.name);
  config.healthChecks.queries.forEach((check, i) => {
    if (!targets.includes(check.rdsTarget)) {
      ctx.addIssue({
        code: 'custom',
        path: ['healthChecks', 'queries', i, 'rdsTarget'],
        message: `unknown RDS target "${check.rdsTarget}"`,
      });
    }
  });
}

/**
 * The full config schema with cross-field checks, judging time-dependent rules (an `at()` in the
 * past, a cron that never fires again) against `clock()` at parse time: synth time.
 */
export function configSchemaAt(clock: () => Date = () => new Date()) {
  return baseSchema.superRefine((config, ctx) => crossCheck(config, ctx, clock()));
}

/** The full config schema, with cross-field checks, judged at the time of each parse. */
export const configSchema = configSchemaAt();

/** A validated config with every default applied. */
export type CaretakerConfig = z.output<typeof configSchema>;
/** A config as written in JSON, before defaults. */
export type CaretakerConfigInput = z.input<typeof configSchema>;
