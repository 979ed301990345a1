import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../../lib/config/load.ts';

const example = JSON.parse(readFileSync('config/example.json', 'utf8')) as Record<string, unknown>;

/** A deep copy of the example with `mutate` applied. */
function variant(mutate: (config: Record<string, any>) => void): Record<string, unknown> {
  const copy = structuredClone(example) as Record<string, any>;
  mutate(copy);
  return copy;
}

/** The problems reported for a config, as `path: message` strings. */
function problemsOf(document: unknown): string[] {
  try {
    parseConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('config schema', () => {
  it('accepts the committed example and applies defaults', () => {
    const config = loadConfig('config/example.json');

    expect(config.environment.name).toBe('example');
    expect(config.healthChecks.http[0]?.method).toBe('GET');
    expect(config.healthChecks.http[0]?.timeoutMs).toBe(5000);
    expect(config.quotas.manualSnapshots).toBe(100);
    expect(config.retentionPolicies.standard?.keepDaily).toBe(7);
  });

  it('fills the maintenance calendar defaults when schedules are omitted', () => {
    const config = parseConfig({ environment: { name: 'min' } });

    expect(config.schedules.health.expression).toBe('rate(5 minutes)');
    expect(config.schedules.routineMaintenance.expression).toBe('cron(0 2 * * ? *)');
    expect(config.schedules.cleanup.expression).toBe('cron(0 3 ? * SUN *)');
    expect(config.schedules.drDrill.expression).toBe('cron(0 5 1 1,4,7,10 ? *)');
    expect(config.environment.timeZone).toBe('UTC');
  });

  it('reports a wrong type with the path and what was expected', () => {
    const problems = problemsOf(variant((c) => (c.backupSets[0].prefix = 42)));

    expect(problems).toEqual(['backupSets[0].prefix: expected string, received number']);
  });

  it('reports a missing required field', () => {
    const problems = problemsOf(variant((c) => delete c.backupSets[0].sourceBucket));

    expect(problems).toEqual([
      'backupSets[0].sourceBucket: expected string, received nothing (the field is missing)',
    ]);
  });

  it('reports a misspelt field instead of ignoring it', () => {
    const problems = problemsOf(variant((c) => (c.backupSets[0].prefx = 'x/')));

    expect(problems).toEqual(['backupSets[0].prefx: unknown field']);
  });

  it('reports a value outside an enumeration with the allowed values', () => {
    const problems = problemsOf(variant((c) => (c.backupSets[0].mode = 'differential')));

    expect(problems).toEqual(['backupSets[0].mode: expected one of "full", "incremental"']);
  });

  it.each([
    [
      'an invalid bucket name',
      (c: any) => (c.backupSets[0].sourceBucket = 'Bad_Bucket'),
      'backupSets[0].sourceBucket',
    ],
    ['an invalid time zone', (c: any) => (c.environment.timeZone = 'Mars/Olympus'), 'environment.timeZone'],
    ['an invalid ISO duration', (c: any) => (c.backupSets[0].rpo = '26 hours'), 'backupSets[0].rpo'],
    [
      'an invalid cron expression',
      (c: any) => (c.schedules.cleanup.expression = 'cron(0 3 * * SUN *)'),
      'schedules.cleanup.expression',
    ],
    [
      'an invalid rate expression',
      (c: any) => (c.schedules.health.expression = 'rate(5 minute)'),
      'schedules.health.expression',
    ],
    [
      'an email endpoint that is not an address',
      (c: any) => (c.alerts.subscriptions[0].endpoint = 'oncall'),
      'alerts.subscriptions[0].endpoint',
    ],
    [
      'an http (not https) endpoint',
      (c: any) => (c.alerts.subscriptions[1].endpoint = 'http://chat.example.com'),
      'alerts.subscriptions[1].endpoint',
    ],
    [
      'a URL health check without a scheme',
      (c: any) => (c.healthChecks.http[0].url = 'api.example.com/health'),
      'healthChecks.http[0].url',
    ],
    [
      'a body match that is not a regular expression',
      (c: any) => (c.healthChecks.http[0].bodyMatch = '(unclosed'),
      'healthChecks.http[0].bodyMatch',
    ],
    [
      'a verify subset with n > t',
      (c: any) => (c.backupSets[0].verifySubset = '8/7'),
      'backupSets[0].verifySubset',
    ],
    ['a log retention CloudWatch does not offer', (c: any) => (c.logRetentionDays = 31), 'logRetentionDays'],
    [
      'a retention policy without any keep option',
      (c: any) => (c.retentionPolicies.standard = { minKeep: 2 }),
      'retentionPolicies.standard',
    ],
    [
      'a negative retention count other than -1',
      (c: any) => (c.retentionPolicies.standard.keepDaily = -2),
      'retentionPolicies.standard.keepDaily',
    ],
    [
      'a reference to an undefined retention policy',
      (c: any) => (c.rdsTargets[0].retention = 'gold'),
      'rdsTargets[0].retention',
    ],
    [
      'a DR copy key in another region than the copy',
      (c: any) => (c.rdsTargets[0].crossRegionCopy.region = 'eu-central-1'),
      'rdsTargets[0].crossRegionCopy.kmsKeyArn',
    ],
    [
      'a duplicate backup set name',
      (c: any) => c.backupSets.push({ ...c.backupSets[0] }),
      'backupSets[1].name',
    ],
    [
      'a retention policy with minKeep 0',
      (c: any) => (c.retentionPolicies.standard.minKeep = 0),
      'retentionPolicies.standard.minKeep',
    ],
    [
      'a retention policy whose only option is a zero keepWithin',
      (c: any) => (c.retentionPolicies.standard = { keepWithin: 'PT0S' }),
      'retentionPolicies.standard.keepWithin',
    ],
    [
      'an HTTP health check against the instance metadata address',
      (c: any) => (c.healthChecks.http[0].url = 'http://169.254.169.254/latest/meta-data/'),
      'healthChecks.http[0].url',
    ],
    [
      'a TLS health check against the IPv6 metadata address',
      (c: any) => (c.healthChecks.tls[0].host = 'fd00:ec2::254'),
      'healthChecks.tls[0].host',
    ],
    [
      'a DR restore into the source of a whole-bucket backup set',
      (c: any) => (c.backupSets[0].prefix = ''),
      'disasterRecovery.restorePrefix',
    ],
    [
      'a DR restore bucket and prefix inside a backup source',
      (c: any) =>
        Object.assign(c.disasterRecovery, {
          restoreBucket: 'example-app-uploads',
          restorePrefix: 'uploads/dr/',
        }),
      'disasterRecovery.restoreBucket',
    ],
    [
      'a DR restore bucket named like a Caretaker backup bucket',
      (c: any) =>
        (c.disasterRecovery.restoreBucket = 'caretaker-example-storagebackups0a1b2c3d-1q2w3e4r5t6y'),
      'disasterRecovery.restoreBucket',
    ],
    [
      'a cleanup schedule more often than hourly',
      (c: any) => (c.schedules.cleanup.expression = 'rate(15 minutes)'),
      'schedules.cleanup.expression',
    ],
    [
      'a DR drill cron firing several times an hour',
      (c: any) => (c.schedules.drDrill.expression = 'cron(*/10 5 1 1,4,7,10 ? *)'),
      'schedules.drDrill.expression',
    ],
    [
      'a cron Scheduler would refuse (day-of-week 0)',
      (c: any) => (c.schedules.cleanup.expression = 'cron(0 3 ? * 0 *)'),
      'schedules.cleanup.expression',
    ],
    [
      'a one-time schedule in the past',
      (c: any) => (c.schedules.drDrill.expression = 'at(2020-01-01T05:00:00)'),
      'schedules.drDrill.expression',
    ],
    [
      'a cron that never fires again',
      (c: any) => (c.schedules.routineMaintenance.expression = 'cron(0 2 * * ? 2020)'),
      'schedules.routineMaintenance.expression',
    ],
  ])('rejects %s, naming %s', (_label, mutate, path) => {
    const problems = problemsOf(variant(mutate));

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${path.replace(/[[\].]/g, '\\$&')}: `));
  });

  it('lists every problem at once, each with its path', () => {
    const problems = problemsOf(
      variant((c) => {
        c.environment.name = 'Prod Env';
        c.backupSets[0].prefix = 7;
        c.healthChecks.tls[0].port = 70000;
      }),
    );

    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'environment.name',
      'healthChecks.tls[0].port',
      'backupSets[0].prefix',
    ]);
  });

  it('refuses a __proto__ key nested in the config, naming its path, before any schema check', () => {
    // Prepare: JSON.parse keeps "__proto__" as an own key, as reading a config file does.
    const text = JSON.stringify(example).replace(
      '"uploads/",',
      '"uploads/", "__proto__": {"polluted": true},',
    );
    const document = JSON.parse(text) as unknown;

    // Act
    const problems = problemsOf(document);

    // Assess
    expect(problems).toEqual([
      'backupSets[0].__proto__: "__proto__" is not allowed as a key (it reaches the object prototype when copied or merged)',
    ]);
  });

  it('judges an at() against the synth time it is given', () => {
    // Prepare
    const config = variant((c) => (c.schedules.drDrill.expression = 'at(2030-01-01T05:00:00)'));

    // Act
    const before = () => parseConfig(config, '<inline>', { now: new Date('2029-12-31T00:00:00Z') });
    const after = () => parseConfig(config, '<inline>', { now: new Date('2030-01-02T00:00:00Z') });

    // Assess
    expect(before).not.toThrow();
    expect(after).toThrow(
      /schedules\.drDrill\.expression: at\(2030-01-01T05:00:00\) in Europe\/Berlin is already past/,
    );
  });

  it('names the file when it cannot be read or parsed', () => {
    expect(() => loadConfig('config/does-not-exist.json')).toThrow(/cannot read .*does-not-exist\.json/);
    expect(() => loadConfig('test/fixtures/config/not-json.json')).toThrow(/not valid JSON/);
  });
});

describe('backupBucket.breakGlassPrincipalArn', () => {
  it('accepts an IAM role or user ARN', () => {
    // Prepare
    const config = variant((c) => {
      c.backupBucket.breakGlassPrincipalArn = 'arn:aws:iam::111122223333:role/backup-break-glass';
    });

    // Act
    const parsed = parseConfig(config);

    // Assess
    expect(parsed.backupBucket.breakGlassPrincipalArn).toBe(
      'arn:aws:iam::111122223333:role/backup-break-glass',
    );
  });

  it('refuses anything else, naming the field', () => {
    // Prepare
    const config = variant((c) => {
      c.backupBucket.breakGlassPrincipalArn = 'arn:aws:iam::111122223333:root';
    });

    // Act
    const problems = problemsOf(config);

    // Assess
    expect(problems).toEqual([
      'backupBucket.breakGlassPrincipalArn: expected an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)',
    ]);
  });
});
