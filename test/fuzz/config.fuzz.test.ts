/**
 * Mutations of config/example.json: every harmful config the synth-time rules know, plus generic
 * breakage (wrong types, missing and unknown fields, prototype keys anywhere), each refused with
 * its path; and harmless variations that must still parse.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lib/config/load.ts';
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

const EXAMPLE = JSON.parse(readFileSync('config/example.json', 'utf8')) as Record<string, any>;
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
];

/** Harmless variations of the example that must keep parsing. */
const HARMLESS: readonly (readonly [string, (config: Record<string, any>) => void])[] = [
  ['the example as committed', () => {}],
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
];

/** Every object of the example except the policy map, whose keys are names, not fields. */
const STRICT: readonly Path[] = objectPaths(EXAMPLE).filter((at) => at.join('.') !== 'retentionPolicies');

const GENERIC_RUNS = 60;

describe('config mutations', () => {
  it('covers at least 35 mutations', () => {
    expect(HARMFUL.length + HARMLESS.length + GENERIC_RUNS).toBeGreaterThanOrEqual(35);
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
