/**
 * Schemas shared by the config (validated at synth) and the functions that read config at run
 * time (validated at cold start): the same checks and defaults in both places.
 */
import * as z from 'zod';
// The health checks' address rule lives with the probes that enforce it again at run time.
import { FORBIDDEN_REASON, isForbiddenHost } from '../health-check/forbidden-address.ts';
import { isoDurationSchema } from './retention-policy.ts';

/** A name used in resource ids, metric dimensions and references: lowercase, digits, dashes. */
export const name = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,39}$/,
    'expected a name of 1-40 lowercase letters, digits or dashes, starting with a letter',
  );

export const rdsIdentifier = z
  .string()
  .regex(
    /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,61}[a-zA-Z0-9]?$/,
    'expected an RDS identifier (letters, digits, single dashes)',
  );
export const positiveInt = z.number().int('expected an integer').positive('expected a positive number');

const regexSource = z.string().refine((source) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}, 'expected a valid regular expression');

export const httpCheck = z
  .object({
    name,
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .refine(
        (url) => !URL.canParse(url) || !isForbiddenHost(new URL(url).hostname),
        `the URL's host is ${FORBIDDEN_REASON}`,
      ),
    method: z.enum(['GET', 'HEAD', 'POST', 'OPTIONS']).default('GET'),
    expectedStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]),
    /** A regular expression the response body must match. */
    bodyMatch: regexSource.optional(),
    samples: z.number().int().min(1).max(100).default(5),
    latencyThresholdMs: positiveInt.default(200),
    errorRateThresholdPercent: z.number().min(0).max(100).default(5),
    timeoutMs: positiveInt.max(60_000).default(5000),
    /**
     * CloudWatch anomaly-detection alarms on this check's p95 latency and error rate: they go off
     * when a value leaves the band the model learned (bandWidth standard deviations wide) for
     * evaluationPeriods health periods in a row. Off when absent.
     */
    anomalyDetection: z
      .object({
        bandWidth: z.number().min(0.5).max(10).default(2),
        evaluationPeriods: z.number().int().min(1).max(10).default(3),
      })
      .strict()
      .optional(),
  })
  .strict();

export const tlsCheck = z
  .object({
    name,
    host: z
      .string()
      .min(1)
      .refine((host) => !isForbiddenHost(host), `the host is ${FORBIDDEN_REASON}`),
    port: z.number().int().min(1).max(65535).default(443),
    minDaysLeft: positiveInt.default(30),
    timeoutMs: positiveInt.max(60_000).default(5000),
  })
  .strict();

export const rdsCheck = z
  .object({
    name,
    type: z.enum(['instance', 'cluster']).default('instance'),
    identifier: rdsIdentifier,
  })
  .strict();

export const queryCheck = z
  .object({
    name,
    /** The RDS target (by name) whose endpoint to connect to. */
    rdsTarget: name,
    database: z.string().min(1),
    user: z.string().min(1),
    /** Secrets Manager secret holding the password (never the password itself). */
    passwordSecretArn: z
      .string()
      .regex(
        /^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
        'expected a Secrets Manager secret ARN',
      ),
    query: z
      .string()
      .min(1)
      .refine(
        (sql) => /^\s*(select|with|show)\b/i.test(sql),
        'expected a read-only query (SELECT, WITH or SHOW)',
      ),
    minRows: z.number().int().min(0).default(1),
    timeoutMs: positiveInt.max(60_000).default(5000),
  })
  .strict();

/** A CloudWatch Logs log group name. */
export const logGroupName = z
  .string()
  .regex(/^[\w\-/.#]{1,512}$/, 'expected a CloudWatch Logs log group name such as /aws/lambda/orders-api');

/**
 * A regular expression that CloudWatch Logs Insights and JavaScript read alike: no inline flags
 * (case is the `caseSensitive` field), no lookbehind.
 */
const portablePattern = z
  .string()
  .min(1)
  .max(500)
  .refine((source) => !/\(\?[a-z]*[)-:]|\(\?<[=!]/i.test(source), {
    message: 'expected no inline flags or lookbehind (use caseSensitive: false)',
    abort: true,
  })
  .refine((source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  }, 'expected a valid regular expression');

/**
 * A log analysis check (`healthChecks.logs[]`): error count and error rate of log groups over a
 * window, from a CloudWatch Logs Insights query, with the most frequent error messages as evidence.
 */
export const logsCheck = z
  .object({
    name,
    /** The log groups to read (one query spans them all). */
    logGroups: z.array(logGroupName).min(1).max(50),
    /** What makes an event an error: a regular expression matched against `messageField`. */
    errorPattern: portablePattern.default('ERROR|FATAL|Exception'),
    caseSensitive: z.boolean().default(true),
    /** The field the pattern is matched against and messages are grouped by (`message` for JSON logs). */
    messageField: z
      .string()
      .regex(/^@?[A-Za-z_][\w.]{0,99}$/, 'expected a log field name such as @message or message')
      .default('@message'),
    /** Minutes of logs each scheduled check reads, up to the check (routine maintenance reads 24 h). */
    windowMinutes: positiveInt.max(10_080).default(15),
    /** Degraded when errors are more than this share of the events (and fail from 50 %). */
    errorRateThresholdPercent: z.number().min(0).max(100).default(5),
    /** Fewer events than this give no rate verdict (a single error of two events is not a 50 % spike). */
    minEvents: z.number().int().min(0).default(20),
    /** How many of the most frequent error messages the evidence lists. */
    topMessages: z.number().int().min(1).max(20).default(5),
    timeoutMs: positiveInt.max(60_000).default(20_000),
  })
  .strict();

/** The `healthChecks` config section, also read by health-check at run time. */
export const healthChecks = z
  .object({
    http: z.array(httpCheck).default([]),
    tls: z.array(tlsCheck).default([]),
    rds: z.array(rdsCheck).default([]),
    queries: z.array(queryCheck).default([]),
    /** Log analysis: error count and rate of CloudWatch Logs groups (DESIGN §11). */
    logs: z.array(logsCheck).default([]),
    /** Check that every backup set and RDS target has a verified recovery point younger than its RPO. */
    backupFreshness: z.boolean().default(true),
  })
  .strict();

export const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'expected an AWS region such as eu-west-1');
export const kmsKeyArn = z
  .string()
  .regex(
    /^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:(key\/[\w-]+|alias\/[\w/-]+)$/,
    'expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)',
  );
export const bucketName = z
  .string()
  .regex(
    /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'expected an S3 bucket name (3-63 lowercase characters)',
  );

/** One backup set of the config. */
export const backupSet = z
  .object({
    name,
    sourceBucket: bucketName,
    /** Key prefix to back up; empty for the whole bucket. */
    prefix: z.string(),
    mode: z.enum(['full', 'incremental']).default('incremental'),
    /** With incremental mode, take a full backup after this many incrementals. */
    fullEvery: positiveInt.default(7),
    /** Name of the retention policy (in `retentionPolicies`) for this set's backups. */
    retention: name,
    /** Recovery-point objective: the newest verified backup must be younger than this. */
    rpo: isoDurationSchema.default('PT26H'),
    /** What routine verification reads back: `all`, or a rotating subset `n/t` (restic's --read-data-subset). */
    verifySubset: z
      .string()
      .regex(/^(all|\d+\/\d+)$/, 'expected "all" or a subset "n/t" such as 1/7')
      .refine((text) => {
        if (text === 'all') return true;
        const [n, t] = text.split('/').map(Number) as [number, number];
        return t >= 1 && n >= 1 && n <= t;
      }, 'expected 1 <= n <= t in "n/t"')
      .default('all'),
  })
  .strict();

/** One RDS target of the config. */
export const rdsTarget = z
  .object({
    name,
    type: z.enum(['instance', 'cluster']).default('instance'),
    identifier: rdsIdentifier,
    retention: name,
    rpo: isoDurationSchema.default('PT26H'),
    /** Copy each snapshot to another region, re-encrypted under that region's key. */
    crossRegionCopy: z.object({ region: awsRegion, kmsKeyArn }).strict().optional(),
  })
  .strict();

/** The `disasterRecovery` config section, also read by flow-input to plan DisasterRecovery runs. */
export const disasterRecovery = z
  .object({
    /** Region to restore into; defaults to the stack's region. */
    region: awsRegion.optional(),
    /** Instance class for restored databases; defaults to the source's class. */
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'expected an instance class such as db.r6g.large')
      .optional(),
    rtoTargetMinutes: positiveInt.default(60),
    rpoTargetMinutes: positiveInt.default(1440),
    /** Delete what a drill restored once it has been measured. */
    teardownAfterDrill: z.boolean().default(true),
    /** Bucket (and prefix) that DR restores S3 data into; defaults to each set's source. */
    restoreBucket: bucketName.optional(),
    restorePrefix: z.string().default('dr-restore/'),
  })
  .strict();
