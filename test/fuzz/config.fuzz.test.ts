/**
 * Mutations of config/example.json: every harmful config the synth-time rules know, plus generic
 * breakage (wrong types, missing and unknown fields, prototype keys anywhere), each refused with
 * its path; and harmless variations that must still parse.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lib/config/load.ts';
import { configSchema } from '../../lib/config/schema.ts';
import {
  forbiddenKey,
  type Mutation,
  missing,
  objectPaths,
  type Path,
  unknownField,
  valueAt,
  wrongType,
} from './json-mutations.ts';

const COMMITTED = JSON.parse(readFileSync('config/example.json', 'utf8')) as Record<string, any>;
const SECRET = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:orders-maintenance';

/**
 * The committed example with every config section set, those of the maintenance beyond backups
 * too (window, log checks, anomaly alarms, escalation, capacity, security and database
 * maintenance) and the break-glass principal, so the mutations reach every field.
 */
const EXAMPLE: Record<string, any> = (() => {
  const c = structuredClone(COMMITTED);
  c.maintenanceWindow = {
    start: '01:30',
    durationMinutes: 240,
    timeZone: 'Europe/Berlin',
    days: ['MON', 'TUE', 'WED', 'THU', 'FRI'],
    expectedMinutes: { backup: 60, snapshot: 30, databaseMaintenance: 20 },
  };
  c.healthChecks.http[0].anomalyDetection = { bandWidth: 3, evaluationPeriods: 3 };
  c.healthChecks.logs = [
    {
      name: 'api-logs',
      logGroups: ['/aws/lambda/orders-api'],
      errorPattern: 'ERROR|FATAL',
      caseSensitive: false,
      messageField: 'message',
      windowMinutes: 15,
      errorRateThresholdPercent: 5,
      minEvents: 20,
      topMessages: 5,
    },
  ];
  c.healthChecks.queries = [
    {
      name: 'orders-rows',
      rdsTarget: 'orders',
      database: 'orders',
      user: 'reader',
      passwordSecretArn: SECRET,
      query: 'SELECT count(*) FROM orders',
    },
  ];
  c.databaseMaintenance = [
    {
      rdsTarget: 'orders',
      queryCheck: 'orders-rows',
      vacuum: true,
      longQuerySeconds: 300,
      bloatWarnPercent: 20,
      largestTables: 5,
      statementTimeoutMinutes: 10,
    },
  ];
  c.alerts.escalation = {
    levels: [
      { respondWithinMinutes: 15, subscriptions: [{ protocol: 'sms', endpoint: '+4915112345678' }] },
      { respondWithinMinutes: 30, subscriptions: [{ protocol: 'email', endpoint: 'lead@example.com' }] },
    ],
    checkEveryMinutes: 5,
  };
  c.capacity = { lookbackDays: 14, warnDays: 30, criticalDays: 7, minDataPoints: 3, auroraLimitGiB: 131_072 };
  c.securityMaintenance = {
    kmsKeys: ['arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
  };
  c.backupBucket.breakGlassPrincipalArn = 'arn:aws:iam::111122223333:role/backup-break-glass';
  c.quotas = { manualSnapshots: 100, snapshotWarnPercent: 80, maxConcurrentCopies: 5 };
  return c;
})();
/** Synth time for the rules that depend on the clock. */
const NOW = new Date('2026-06-01T00:00:00Z');

function variant(mutate: (config: Record<string, any>) => void): Record<string, unknown> {
  const copy = structuredClone(EXAMPLE);
  mutate(copy);
  return copy;
}

/** The paths a config is refused at, or [] when it parses. */
function refusedPaths(document: unknown): string[] {
  try {
    parseConfig(document, '<fuzz>', { now: NOW });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((problem) => problem.path);
    throw error;
  }
}

/** Configs that would cause harm, each with the field it must be refused at. */
const HARMFUL: readonly (readonly [string, (config: Record<string, any>) => void, string])[] = [
  [
    'a DR restore into a whole-bucket backup source',
    (c) => (c.backupSets[0].prefix = ''),
    'disasterRecovery.restorePrefix',
  ],
  [
    'a DR restore bucket and prefix inside a backup source',
    (c) =>
      Object.assign(c.disasterRecovery, { restoreBucket: 'example-app-uploads', restorePrefix: 'uploads/' }),
    'disasterRecovery.restoreBucket',
  ],
  [
    'a DR restore prefix above a backup source',
    (c) => Object.assign(c.disasterRecovery, { restoreBucket: 'example-app-uploads', restorePrefix: '' }),
    'disasterRecovery.restoreBucket',
  ],
  [
    'a DR restore into a Caretaker backup bucket',
    (c) => (c.disasterRecovery.restoreBucket = 'caretaker-example-storagebackups5f2a9c1e-1abcdefghij2'),
    'disasterRecovery.restoreBucket',
  ],
  [
    'a backup of a Caretaker backup bucket',
    (c) => (c.backupSets[0].sourceBucket = 'caretaker-prod-storagebackups5f2a9c1e-1abcdefghij2'),
    'backupSets[0].sourceBucket',
  ],
  ['minKeep 0', (c) => (c.retentionPolicies.standard.minKeep = 0), 'retentionPolicies.standard.minKeep'],
  [
    'a policy whose only option is a zero keepWithin',
    (c) => (c.retentionPolicies.standard = { keepWithin: 'P0D', minKeep: 1 }),
    'retentionPolicies.standard.keepWithin',
  ],
  [
    'a policy with every count off',
    (c) => (c.retentionPolicies.standard = { keepLast: 0, keepDaily: 0 }),
    'retentionPolicies.standard',
  ],
  [
    'cleanup every 30 minutes',
    (c) => (c.schedules.cleanup.expression = 'rate(30 minutes)'),
    'schedules.cleanup.expression',
  ],
  [
    'cleanup every minute',
    (c) => (c.schedules.cleanup.expression = 'rate(1 minute)'),
    'schedules.cleanup.expression',
  ],
  [
    'cleanup twice an hour by cron',
    (c) => (c.schedules.cleanup.expression = 'cron(0,30 3 ? * SUN *)'),
    'schedules.cleanup.expression',
  ],
  [
    'a DR drill every 10 minutes by cron',
    (c) => (c.schedules.drDrill.expression = 'cron(0/10 5 1 1,4,7,10 ? *)'),
    'schedules.drDrill.expression',
  ],
  [
    'a DR drill every 45 minutes',
    (c) => (c.schedules.drDrill.expression = 'rate(45 minutes)'),
    'schedules.drDrill.expression',
  ],
  [
    'a cron with day-of-week 0',
    (c) => (c.schedules.cleanup.expression = 'cron(0 3 ? * 0 *)'),
    'schedules.cleanup.expression',
  ],
  [
    'a cron with both day fields set',
    (c) => (c.schedules.routineMaintenance.expression = 'cron(0 2 1 * MON *)'),
    'schedules.routineMaintenance.expression',
  ],
  [
    'a cron with five fields',
    (c) => (c.schedules.routineMaintenance.expression = 'cron(0 2 * * ?)'),
    'schedules.routineMaintenance.expression',
  ],
  [
    'a cron hour of 24',
    (c) => (c.schedules.routineMaintenance.expression = 'cron(0 24 * * ? *)'),
    'schedules.routineMaintenance.expression',
  ],
  [
    'a cron with two # expressions',
    (c) => (c.schedules.drDrill.expression = 'cron(0 5 ? * 2#1,2#3 *)'),
    'schedules.drDrill.expression',
  ],
  [
    'a plural rate of 1',
    (c) => (c.schedules.health.expression = 'rate(1 minutes)'),
    'schedules.health.expression',
  ],
  [
    'a singular rate above 1',
    (c) => (c.schedules.health.expression = 'rate(5 minute)'),
    'schedules.health.expression',
  ],
  [
    'a rate in seconds',
    (c) => (c.schedules.health.expression = 'rate(30 seconds)'),
    'schedules.health.expression',
  ],
  [
    'an at() on a day that does not exist',
    (c) => (c.schedules.drDrill.expression = 'at(2027-02-29T05:00:00)'),
    'schedules.drDrill.expression',
  ],
  [
    'an at() already past at synth time',
    (c) => (c.schedules.drDrill.expression = 'at(2026-05-31T05:00:00)'),
    'schedules.drDrill.expression',
  ],
  [
    'a cron whose years are past',
    (c) => (c.schedules.routineMaintenance.expression = 'cron(0 2 * * ? 2020-2025)'),
    'schedules.routineMaintenance.expression',
  ],
  [
    'a cron on 30 February',
    (c) => (c.schedules.routineMaintenance.expression = 'cron(0 2 30 2 ? *)'),
    'schedules.routineMaintenance.expression',
  ],
  [
    'an HTTP check against instance metadata',
    (c) => (c.healthChecks.http[0].url = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'),
    'healthChecks.http[0].url',
  ],
  [
    'an HTTP check against instance metadata in decimal',
    (c) => (c.healthChecks.http[0].url = 'http://2852039166/latest/'),
    'healthChecks.http[0].url',
  ],
  [
    'an HTTP check against the IPv6 metadata address',
    (c) => (c.healthChecks.http[0].url = 'http://[fd00:ec2::254]/latest/'),
    'healthChecks.http[0].url',
  ],
  [
    'a TLS check against IPv6 link-local',
    (c) => (c.healthChecks.tls[0].host = 'fe80::1'),
    'healthChecks.tls[0].host',
  ],
  [
    'a TLS check against the ECS credentials address',
    (c) => (c.healthChecks.tls[0].host = '169.254.170.2'),
    'healthChecks.tls[0].host',
  ],
  [
    'a maintenance window opening at 24:00',
    (c) => (c.maintenanceWindow.start = '24:00'),
    'maintenanceWindow.start',
  ],
  [
    'a maintenance window of 5 minutes',
    (c) => (c.maintenanceWindow.durationMinutes = 5),
    'maintenanceWindow.durationMinutes',
  ],
  [
    'a maintenance window longer than a day',
    (c) => (c.maintenanceWindow.durationMinutes = 1441),
    'maintenanceWindow.durationMinutes',
  ],
  [
    'a maintenance window on Monday twice',
    (c) => (c.maintenanceWindow.days = ['MON', 'MON']),
    'maintenanceWindow.days',
  ],
  [
    'a maintenance window in a time zone that does not exist',
    (c) => (c.maintenanceWindow.timeZone = 'Europe/Atlantis'),
    'maintenanceWindow.timeZone',
  ],
  [
    'a task expected to take no time',
    (c) => (c.maintenanceWindow.expectedMinutes.backup = 0),
    'maintenanceWindow.expectedMinutes.backup',
  ],
  [
    'a capacity critical threshold at or above the warning one',
    (c) => (c.capacity.criticalDays = 30),
    'capacity.criticalDays',
  ],
  ['a growth fitted over two days', (c) => (c.capacity.lookbackDays = 2), 'capacity.lookbackDays'],
  [
    'maintenance of a database that is no RDS target',
    (c) => (c.databaseMaintenance[0].rdsTarget = 'payments'),
    'databaseMaintenance[0].rdsTarget',
  ],
  [
    'maintenance of the same database twice',
    (c) => c.databaseMaintenance.push({ rdsTarget: 'orders', queryCheck: 'orders-rows' }),
    'databaseMaintenance[1].rdsTarget',
  ],
  [
    'database maintenance with no way to connect',
    (c) => delete c.databaseMaintenance[0].queryCheck,
    'databaseMaintenance[0].passwordSecretArn',
  ],
  [
    'database maintenance through a query check that does not exist',
    (c) => (c.databaseMaintenance[0].queryCheck = 'payments-rows'),
    'databaseMaintenance[0].queryCheck',
  ],
  [
    'a maintenance statement allowed past the Lambda limit',
    (c) => (c.databaseMaintenance[0].statementTimeoutMinutes = 15),
    'databaseMaintenance[0].statementTimeoutMinutes',
  ],
  [
    'escalation with six levels',
    (c) =>
      (c.alerts.escalation.levels = Array.from({ length: 6 }, () => ({
        respondWithinMinutes: 15,
        subscriptions: [{ protocol: 'email', endpoint: 'lead@example.com' }],
      }))),
    'alerts.escalation.levels',
  ],
  [
    'an escalation level with no time to respond',
    (c) => (c.alerts.escalation.levels[0].respondWithinMinutes = 0),
    'alerts.escalation.levels[0].respondWithinMinutes',
  ],
  [
    'an escalation level paging a phone number not in E.164 form',
    (c) => (c.alerts.escalation.levels[0].subscriptions[0].endpoint = '0151 12345678'),
    'alerts.escalation.levels[0].subscriptions[0].endpoint',
  ],
  [
    'a log check with an inline-flag pattern Logs Insights reads otherwise',
    (c) => (c.healthChecks.logs[0].errorPattern = '(?i)error'),
    'healthChecks.logs[0].errorPattern',
  ],
  [
    'a log check over no log group',
    (c) => (c.healthChecks.logs[0].logGroups = []),
    'healthChecks.logs[0].logGroups',
  ],
  [
    'a log check reading more than a week per run',
    (c) => (c.healthChecks.logs[0].windowMinutes = 20_000),
    'healthChecks.logs[0].windowMinutes',
  ],
  [
    'two log checks of one name',
    (c) => c.healthChecks.logs.push({ ...c.healthChecks.logs[0] }),
    'healthChecks.logs[1].name',
  ],
  [
    'an anomaly band of no width',
    (c) => (c.healthChecks.http[0].anomalyDetection.bandWidth = 0),
    'healthChecks.http[0].anomalyDetection.bandWidth',
  ],
  [
    'a key to watch that is not a KMS key ARN',
    (c) => (c.securityMaintenance.kmsKeys = ['alias/orders']),
    'securityMaintenance.kmsKeys[0]',
  ],
  [
    'the account root as break-glass principal',
    (c) => (c.backupBucket.breakGlassPrincipalArn = 'arn:aws:iam::111122223333:root'),
    'backupBucket.breakGlassPrincipalArn',
  ],
];

/** Harmless variations of the example that must keep parsing. */
const HARMLESS: readonly (readonly [string, (config: Record<string, any>) => void])[] = [
  ['the example with every section set', () => {}],
  [
    'the example as committed (no maintenance section)',
    (c) => {
      for (const key of Object.keys(c)) delete c[key];
      Object.assign(c, structuredClone(COMMITTED));
    },
  ],
  [
    'a window across midnight',
    (c) => Object.assign(c.maintenanceWindow, { start: '23:00', durationMinutes: 300 }),
  ],
  ['one escalation level', (c) => c.alerts.escalation.levels.pop()],
  ['cleanup hourly', (c) => (c.schedules.cleanup.expression = 'rate(1 hour)')],
  ['cleanup at minute 15 of every hour', (c) => (c.schedules.cleanup.expression = 'cron(15 * * * ? *)')],
  ['a one-time DR drill in the future', (c) => (c.schedules.drDrill.expression = 'at(2026-09-01T05:00:00)')],
  [
    'a drill on the last Friday of the quarter',
    (c) => (c.schedules.drDrill.expression = 'cron(0 5 ? 3,6,9,12 6L *)'),
  ],
  ['a health check on loopback', (c) => (c.healthChecks.http[0].url = 'http://127.0.0.1:8080/health')],
  ['a TLS check on IPv6 loopback', (c) => (c.healthChecks.tls[0].host = '::1')],
  [
    'a DR restore into a bucket of its own',
    (c) => Object.assign(c.disasterRecovery, { restoreBucket: 'example-dr-scratch', restorePrefix: '' }),
  ],
  ['a policy of keepWithin alone', (c) => (c.retentionPolicies.standard = { keepWithin: 'P30D' })],
  ['leap day in a leap year', (c) => (c.schedules.drDrill.expression = 'cron(0 5 29 2 ? 2028)')],
];

/** Fields whose value has one JSON type: any other type is wrong there. */
const TYPED: readonly Path[] = objectPaths(EXAMPLE)
  .flatMap((at) => Object.keys(valueAt(EXAMPLE, at) as object).map((key): Path => [...at, key]))
  .concat(
    (EXAMPLE.healthChecks.http[0].expectedStatus as number[]).map(
      (_, i): Path => ['healthChecks', 'http', 0, 'expectedStatus', i],
    ),
  );

/** Fields a config cannot do without. */
const REQUIRED: readonly Path[] = [
  ['environment'],
  ['environment', 'name'],
  ['alerts', 'subscriptions', 0, 'protocol'],
  ['alerts', 'subscriptions', 0, 'endpoint'],
  ['healthChecks', 'http', 0, 'name'],
  ['healthChecks', 'http', 0, 'url'],
  ['healthChecks', 'tls', 0, 'host'],
  ['healthChecks', 'rds', 0, 'identifier'],
  ['backupSets', 0, 'name'],
  ['backupSets', 0, 'sourceBucket'],
  ['backupSets', 0, 'prefix'],
  ['backupSets', 0, 'retention'],
  ['rdsTargets', 0, 'identifier'],
  ['rdsTargets', 0, 'retention'],
  ['rdsTargets', 0, 'crossRegionCopy', 'kmsKeyArn'],
  ['backupBucket', 'objectLock', 'mode'],
  ['maintenanceWindow', 'start'],
  ['maintenanceWindow', 'durationMinutes'],
  ['healthChecks', 'logs', 0, 'name'],
  ['healthChecks', 'logs', 0, 'logGroups'],
  ['databaseMaintenance', 0, 'rdsTarget'],
  ['alerts', 'escalation', 'levels'],
  ['alerts', 'escalation', 'levels', 0, 'respondWithinMinutes'],
  ['alerts', 'escalation', 'levels', 0, 'subscriptions'],
];

/** Every object of the example except the policy map, whose keys are names, not fields. */
const STRICT: readonly Path[] = objectPaths(EXAMPLE).filter((at) => at.join('.') !== 'retentionPolicies');

const GENERIC_RUNS = 120;

describe('config mutations', () => {
  it('covers at least 35 mutations', () => {
    expect(HARMFUL.length + HARMLESS.length + GENERIC_RUNS).toBeGreaterThanOrEqual(35);
  });

  it('reaches every top-level section of the config schema', () => {
    // Act
    const sections = Object.keys(configSchema.shape);

    // Assess: a section added to the schema needs a value here, or no mutation reaches it.
    expect(sections.length).toBeGreaterThan(10);
    expect(sections.filter((section) => !(section in EXAMPLE))).toEqual([]);
  });

  it.each(HARMFUL)('refuses %s, naming %s', (_label, mutate, path) => {
    // Act
    const paths = refusedPaths(variant(mutate));

    // Assess
    expect(paths).toContain(path);
  });

  it.each(HARMLESS)('still parses %s', (_label, mutate) => {
    // Act
    const paths = refusedPaths(variant(mutate));

    // Assess
    expect(paths).toEqual([]);
  });

  it(`refuses ${GENERIC_RUNS} generic breakages (types, missing and unknown fields, prototype keys) at their path`, () => {
    let runs = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          wrongType(EXAMPLE, TYPED),
          missing(EXAMPLE, REQUIRED),
          unknownField(EXAMPLE, STRICT),
          forbiddenKey(EXAMPLE),
        ),
        (mutation: Mutation) => {
          // Prepare
          runs++;

          // Act
          const paths = refusedPaths(mutation.document);

          // Assess
          expect(paths, `${mutation.kind} at ${mutation.path}`).toContain(mutation.path);
        },
      ),
      { numRuns: GENERIC_RUNS },
    );
    expect(runs).toBeGreaterThanOrEqual(GENERIC_RUNS);
  });
});
