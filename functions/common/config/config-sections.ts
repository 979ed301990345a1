/**
 * Schemas shared by the config (validated at synth) and the functions that read config at run
 * time (validated at cold start): the same checks and defaults in both places.
 */
import * as z from 'zod';
// The health checks' address rule lives with the probes that enforce it again at run time.
import { FORBIDDEN_REASON, isForbiddenHost } from '../../health-check/forbidden-address.ts';
import { isoDurationSchema } from '../retention/retention-policy.ts';

/** A name used in resource ids, metric dimensions and references: lowercase, digits, dashes. */
export const name = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,39}$/,
    'expected a name of 1-40 lowercase letters, digits or dashes, starting with a letter',
  )
  .meta({ title: 'name' });

export const rdsIdentifier = z
  .string()
  .regex(
    /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,61}[a-zA-Z0-9]?$/,
    'expected an RDS identifier (letters, digits, single dashes)',
  )
  .meta({ title: 'RDS identifier' });
export const positiveInt = z.number().int('expected an integer').positive('expected a positive number');

/** Whether JavaScript compiles `source` as a regular expression. */
function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

const regexSource = z
  .string()
  .refine(compiles, 'expected a valid regular expression')
  .meta({ title: 'regular expression' });

export const httpCheck = z
  .object({
    name: name.describe("the check's name, unique among `http` checks; a metric dimension"),
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .refine(
        (url) => !URL.canParse(url) || !isForbiddenHost(new URL(url).hostname),
        `the URL's host is ${FORBIDDEN_REASON}`,
      )
      .meta({
        title: 'URL',
        description:
          'the http:// or https:// URL to probe; a link-local or instance-metadata host is refused',
        examples: ['https://api.example.com/health'],
      }),
    method: z.enum(['GET', 'HEAD', 'POST', 'OPTIONS']).default('GET').describe('HTTP method of each probe'),
    expectedStatus: z
      .array(z.number().int().min(100).max(599))
      .min(1)
      .default([200])
      .describe('status codes that count as a success'),
    bodyMatch: regexSource.optional().describe('a regular expression the response body must match'),
    samples: z.number().int().min(1).max(100).default(5).describe('probes per run; latency is their p95'),
    latencyThresholdMs: positiveInt
      .default(200)
      .describe('degraded when the p95 latency of the samples is above this many milliseconds'),
    errorRateThresholdPercent: z
      .number()
      .min(0)
      .max(100)
      .default(5)
      .describe('degraded when more than this share of the samples fail'),
    timeoutMs: positiveInt.max(60_000).default(5000).describe('time each probe may take, in milliseconds'),
    anomalyDetection: z
      .object({
        bandWidth: z
          .number()
          .min(0.5)
          .max(10)
          .default(2)
          .describe('width of the expected band, in standard deviations'),
        evaluationPeriods: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(3)
          .describe('health periods in a row outside the band before the alarm goes off'),
      })
      .strict()
      .optional()
      .describe(
        "CloudWatch anomaly-detection alarms on the check's p95 latency and error rate (see [alerts.md](alerts.md#anomaly-alarms)); off when absent",
      ),
  })
  .strict();

export const tlsCheck = z
  .object({
    name: name.describe("the check's name, unique among `tls` checks"),
    host: z
      .string()
      .min(1)
      .refine((host) => !isForbiddenHost(host), `the host is ${FORBIDDEN_REASON}`)
      .meta({
        title: 'host name',
        description: 'host whose certificate to check; a link-local or instance-metadata address is refused',
        examples: ['api.example.com'],
      }),
    port: z.number().int().min(1).max(65535).default(443).describe('TCP port of the TLS service'),
    minDaysLeft: positiveInt
      .default(30)
      .describe('degraded when the certificate expires in fewer days than this'),
    timeoutMs: positiveInt.max(60_000).default(5000).describe('time the handshake may take, in milliseconds'),
  })
  .strict();

export const rdsCheck = z
  .object({
    name: name.describe("the check's name, unique among `rds` checks"),
    type: z.enum(['instance', 'cluster']).default('instance').describe('DB instance or Aurora cluster'),
    identifier: rdsIdentifier.describe('the instance or cluster identifier whose status to check'),
  })
  .strict();

export const queryCheck = z
  .object({
    name: name.describe("the check's name, unique among `queries` checks"),
    rdsTarget: name.describe('the RDS target (an `rdsTargets[].name`) whose endpoint to connect to'),
    database: z.string().min(1).describe('database to connect to'),
    user: z.string().min(1).describe('user to connect as'),
    passwordSecretArn: z
      .string()
      .regex(
        /^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
        'expected a Secrets Manager secret ARN',
      )
      .meta({
        title: 'secret ARN',
        description: 'Secrets Manager secret holding the password (never the password itself)',
      }),
    query: z
      .string()
      .min(1)
      .refine(
        (sql) => /^\s*(select|with|show)\b/i.test(sql),
        'expected a read-only query (SELECT, WITH or SHOW)',
      )
      .meta({ title: 'SQL', description: 'a read-only query: must start with SELECT, WITH or SHOW' }),
    minRows: z.number().int().min(0).default(1).describe('unhealthy when the query returns fewer rows'),
    timeoutMs: positiveInt.max(60_000).default(5000).describe('time the query may take, in milliseconds'),
  })
  .strict();

/** A CloudWatch Logs log group name. */
export const logGroupName = z
  .string()
  .regex(/^[\w\-/.#]{1,512}$/, 'expected a CloudWatch Logs log group name such as /aws/lambda/orders-api')
  .meta({ title: 'log group name' });

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
  .refine(compiles, 'expected a valid regular expression')
  .meta({ title: 'regular expression' });

/**
 * A log analysis check (`healthChecks.logs[]`): error count and error rate of log groups over a
 * window, from a CloudWatch Logs Insights query, with the most frequent error messages as evidence.
 */
export const logsCheck = z
  .object({
    name: name.describe("the check's name, unique among `logs` checks"),
    logGroups: z
      .array(logGroupName)
      .min(1)
      .max(50)
      .describe('the log groups to read; one Logs Insights query spans them all'),
    errorPattern: portablePattern
      .default('ERROR|FATAL|Exception')
      .describe(
        'what makes an event an error: a regular expression matched against `messageField` (no inline flags, no lookbehind)',
      ),
    caseSensitive: z.boolean().default(true).describe('`false` matches the pattern whatever the case'),
    messageField: z
      .string()
      .regex(/^@?[A-Za-z_][\w.]{0,99}$/, 'expected a log field name such as @message or message')
      .default('@message')
      .describe(
        'the field the pattern is matched against and errors are grouped by (`message` for JSON logs)',
      ),
    windowMinutes: positiveInt
      .max(10_080)
      .default(15)
      .describe('minutes of logs each scheduled check reads (routine maintenance reads 24 h for its report)'),
    errorRateThresholdPercent: z
      .number()
      .min(0)
      .max(100)
      .default(5)
      .describe('degraded above this share of errors among the events; failing from 50 %'),
    minEvents: z
      .number()
      .int()
      .min(0)
      .default(20)
      .describe(
        'fewer events in the window give no rate verdict (counts are still reported): one error of two events is not a 50 % spike',
      ),
    topMessages: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(5)
      .describe('how many of the most frequent error messages the evidence lists'),
    timeoutMs: positiveInt
      .max(60_000)
      .default(20_000)
      .describe("the check's time for its three queries, in milliseconds"),
  })
  .strict();

/** The `healthChecks` config section, also read by health-check at run time. */
export const healthChecks = z
  .object({
    http: z.array(httpCheck).default([]).describe('HTTP(S) endpoints: status, latency, body'),
    tls: z.array(tlsCheck).default([]).describe('TLS certificates: days until they expire'),
    rds: z.array(rdsCheck).default([]).describe('RDS instances and clusters: status and pending maintenance'),
    queries: z
      .array(queryCheck)
      .default([])
      .describe('a read-only SQL query against an RDS target, with a minimum row count'),
    logs: z
      .array(logsCheck)
      .default([])
      .describe('log analysis: error count and rate of CloudWatch Logs log groups'),
    backupFreshness: z
      .boolean()
      .default(true)
      .describe(
        'check that each backup set and RDS target has a verified recovery point younger than its `rpo`',
      ),
  })
  .strict();

export const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'expected an AWS region such as eu-west-1')
  .meta({ title: 'region', examples: ['eu-central-1'] });
export const kmsKeyArn = z
  .string()
  .regex(
    /^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:(key\/[\w-]+|alias\/[\w/-]+)$/,
    'expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)',
  )
  .meta({ title: 'KMS key ARN' });
export const bucketName = z
  .string()
  .regex(
    /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'expected an S3 bucket name (3-63 lowercase characters)',
  )
  .meta({ title: 'bucket name' });

/** One backup set of the config. */
export const backupSet = z
  .object({
    name: name.describe('unique among backup sets'),
    sourceBucket: bucketName.describe('bucket to back up; not the backup bucket'),
    prefix: z.string().describe('key prefix to back up (`""` for the whole bucket)'),
    mode: z
      .enum(['full', 'incremental'])
      .default('incremental')
      .describe('incremental copies only changed objects; every manifest still lists the full set'),
    fullEvery: positiveInt
      .default(7)
      .describe('with incremental mode, a full backup after this many incrementals'),
    retention: name.describe("this set's retention policy: a key of `retentionPolicies`"),
    rpo: isoDurationSchema
      .default('PT26H')
      .describe(
        'recovery-point objective: the newest verified backup must be younger, checked by health and alarms',
      ),
    verifySubset: z
      .string()
      .regex(/^(all|\d+\/\d+)$/, 'expected "all" or a subset "n/t" such as 1/7')
      .refine((text) => {
        if (text === 'all') return true;
        const [n, t] = text.split('/').map(Number) as [number, number];
        return t >= 1 && n >= 1 && n <= t;
      }, 'expected 1 <= n <= t in "n/t"')
      .default('all')
      .meta({
        title: '`all` | `n/t`',
        description:
          "what routine verification reads back: `all`, or `n/t`, a rotating 1/t of the objects (restic's `--read-data-subset`)",
        examples: ['1/7'],
      }),
  })
  .strict();

/** One RDS target of the config. */
export const rdsTarget = z
  .object({
    name: name.describe('unique among RDS targets'),
    type: z.enum(['instance', 'cluster']).default('instance').describe('DB instance or Aurora cluster'),
    identifier: rdsIdentifier.describe('the instance or cluster identifier'),
    retention: name.describe("this target's retention policy: a key of `retentionPolicies`"),
    rpo: isoDurationSchema
      .default('PT26H')
      .describe('recovery-point objective: the newest snapshot must be younger'),
    crossRegionCopy: z
      .object({
        region: awsRegion.describe('region to copy to; must differ from `environment.region`'),
        kmsKeyArn: kmsKeyArn.describe('key in that region the copy is re-encrypted with'),
      })
      .strict()
      .optional()
      .describe("copy each snapshot to another region, re-encrypted under that region's key"),
  })
  .strict();

/** The `disasterRecovery` config section, also read by flow-input to plan DisasterRecovery runs. */
export const disasterRecovery = z
  .object({
    region: awsRegion
      .optional()
      .describe(
        "where drills restore the databases, from the cross-region copies (default: the stack's region); every RDS target a drill restores must have `crossRegionCopy.region` equal to it. A failover always restores in the stack's region",
      ),
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'expected an instance class such as db.r6g.large')
      .optional()
      .meta({
        title: 'instance class',
        description:
          "instance class of restored databases (a cluster: its writer), for drills and failovers; default: the source's class",
        examples: ['db.t4g.medium'],
      }),
    rtoTargetMinutes: positiveInt
      .default(60)
      .describe('recovery time objective: a run whose restore and verification took longer warns'),
    rpoTargetMinutes: positiveInt
      .default(1440)
      .describe('recovery point objective: a run whose oldest recovery point was older at its start warns'),
    teardownAfterDrill: z
      .boolean()
      .default(true)
      .describe(
        'delete what a drill restored once it is measured; `false` leaves the copies for inspection (delete them yourself)',
      ),
    restoreBucket: bucketName
      .optional()
      .describe("bucket backup sets are restored into (default: each set's source bucket)"),
    restorePrefix: z
      .string()
      .default('dr-restore/')
      .describe('prefix the data of set `<name>` is restored under: `<restorePrefix><name>/`'),
  })
  .strict();
