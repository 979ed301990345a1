import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../functions/common/runtime/errors.ts';
import { parseOrThrow } from '../../../../functions/common/runtime/validation.ts';
import { checkSetSchema, eventSchema, resolvePlan } from '../../../../functions/health-check/check-set.ts';

const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:orders-AbCdEf';
const query = {
  name: 'orders-rows',
  rdsTarget: 'orders',
  database: 'app',
  user: 'monitor',
  passwordSecretArn: SECRET,
  query: 'SELECT 1',
};

const configured = parseOrThrow(checkSetSchema, {
  http: [{ name: 'api', url: 'https://api.example.com/health' }],
  tls: [{ name: 'api-cert', host: 'api.example.com' }],
  rds: [{ name: 'orders-db', identifier: 'orders-prod' }],
  queries: [query],
  backupSets: [{ name: 'uploads', rpo: 'PT26H' }],
  rdsTargets: [{ name: 'orders', type: 'cluster', identifier: 'orders-aurora', rpo: 'P1D' }],
});

describe('the configured check set (HEALTH_CHECKS)', () => {
  it('applies the config defaults to each check', () => {
    expect(configured.http[0]).toMatchObject({
      method: 'GET',
      expectedStatus: [200],
      samples: 5,
      latencyThresholdMs: 200,
      errorRateThresholdPercent: 5,
      timeoutMs: 5000,
    });
    expect(configured.tls[0]).toMatchObject({ port: 443, minDaysLeft: 30 });
    expect(configured.backupFreshness).toBe(true);
  });

  it('accepts full backup sets and RDS targets, keeping only what freshness needs', () => {
    // Act
    const set = parseOrThrow(checkSetSchema, {
      backupSets: [{ name: 'uploads', sourceBucket: 'src', prefix: '', retention: 'std', rpo: 'PT6H' }],
    });

    // Assess
    expect(set.backupSets).toEqual([{ name: 'uploads', rpo: 'PT6H' }]);
  });

  it('refuses a configured HTTP check whose URL spells the metadata address in hexadecimal', () => {
    // Act
    const problems = problemsOf(() =>
      parseOrThrow(checkSetSchema, { http: [{ name: 'imds', url: 'http://0xa9fea9fe/latest/' }] }),
    );

    // Assess
    expect(problems.map((p) => p.path)).toEqual(['http[0].url']);
  });

  it('lists every bad field with its path', () => {
    // Act
    const attempt = () =>
      parseOrThrow(checkSetSchema, {
        http: [{ name: 'api', url: 'ftp://x', samples: 0 }],
        queries: [{ ...query, rdsTarget: 'nope' }],
      });

    // Assess
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/http\[0\]\.url: .*http:\/\/ or https:\/\/.*http\[0\]\.samples/);
    expect(attempt).toThrow(/queries\[0\]\.rdsTarget: unknown RDS target "nope"/);
  });
});

describe('the event', () => {
  const schema = eventSchema(['orders']);

  it('accepts an empty event (the schedule) and runs the configured checks', () => {
    // Act
    const plan = resolvePlan(configured, parseOrThrow(schema, {}).checks);

    // Assess
    expect(plan.http.map((c) => c.name)).toEqual(['api']);
    expect(plan.backupSets.map((s) => s.name)).toEqual(['uploads']);
    expect(plan.queries[0]).toMatchObject({ type: 'cluster', identifier: 'orders-aurora' });
  });

  it('runs exactly the override checks, without freshness unless asked for', () => {
    // Act
    const event = parseOrThrow(schema, {
      checks: { http: [{ name: 'restored', url: 'https://restored.example.com/health', samples: 1 }] },
      label: 'post-restore',
      failOn: 'unhealthy',
    });
    const plan = resolvePlan(configured, event.checks);

    // Assess
    expect(plan.http.map((c) => c.name)).toEqual(['restored']);
    expect(
      [plan.tls, plan.rds, plan.queries, plan.backupSets, plan.rdsTargets].every((l) => l.length === 0),
    ).toBe(true);
  });

  it('points an override query at a restored instance by identifier', () => {
    // Act
    const event = parseOrThrow(schema, {
      checks: {
        queries: [{ ...query, rdsTarget: undefined, identifier: 'orders-restored-1' }],
        backupFreshness: true,
      },
    });
    const plan = resolvePlan(configured, event.checks);

    // Assess
    expect(plan.queries[0]).toMatchObject({ type: 'instance', identifier: 'orders-restored-1' });
    expect(plan.rdsTargets.map((t) => t.name)).toEqual(['orders']);
  });

  it("points override checks at a restored copy in another region, or the function's own with null", () => {
    // Act
    const event = parseOrThrow(schema, {
      checks: {
        rds: [
          { name: 'orders', identifier: 'orders-prod-r1a2b3c4d', region: 'eu-west-1' },
          { name: 'billing', identifier: 'billing-r1a2b3c4d', region: null },
        ],
        queries: [
          { ...query, rdsTarget: undefined, identifier: 'orders-prod-r1a2b3c4d', region: 'eu-west-1' },
        ],
      },
    });
    const plan = resolvePlan(configured, event.checks);

    // Assess
    expect(plan.rds.map((c) => [c.identifier, c.region])).toEqual([
      ['orders-prod-r1a2b3c4d', 'eu-west-1'],
      ['billing-r1a2b3c4d', null],
    ]);
    expect(plan.queries[0]).toMatchObject({ identifier: 'orders-prod-r1a2b3c4d', region: 'eu-west-1' });
    expect(
      problemsOf(() =>
        parseOrThrow(schema, { checks: { rds: [{ name: 'x', identifier: 'x', region: 'moon' }] } }),
      ).map((p) => p.path),
    ).toEqual(['checks.rds[0].region']);
  });

  it('rejects unknown fields and bad values, naming each', () => {
    // Act
    const problems = problemsOf(() =>
      parseOrThrow(schema, { failOn: 'sometimes', lable: 'typo', checks: { http: [{ name: 'x' }] } }),
    );

    // Assess
    expect(problems.map((p) => p.path)).toEqual(['checks.http[0].url', 'failOn', 'lable']);
  });

  it('refuses an override HTTP check against the instance metadata address, naming the URL', () => {
    // Act
    const problems = problemsOf(() =>
      parseOrThrow(schema, {
        checks: { http: [{ name: 'imds', url: 'http://169.254.169.254/latest/meta-data/iam/' }] },
      }),
    );

    // Assess
    expect(problems).toEqual([
      { path: 'checks.http[0].url', message: expect.stringMatching(/^the URL's host is a link-local/) },
    ]);
  });

  it('refuses an override TLS check against an IPv6 link-local host', () => {
    // Act
    const problems = problemsOf(() =>
      parseOrThrow(schema, { checks: { tls: [{ name: 'local', host: 'fe80::1' }] } }),
    );

    // Assess
    expect(problems.map((p) => p.path)).toEqual(['checks.tls[0].host']);
  });

  it('keeps loopback allowed for override checks (tests and the sandbox drill serve there)', () => {
    // Act
    const event = parseOrThrow(schema, {
      checks: {
        http: [{ name: 'local', url: 'http://127.0.0.1:8080/health' }],
        tls: [{ name: 'local6', host: '::1' }],
      },
    });

    // Assess
    expect(event.checks?.http[0]?.url).toBe('http://127.0.0.1:8080/health');
  });

  it('rejects an override query naming an RDS target that is not configured', () => {
    // Act
    const problems = problemsOf(() =>
      parseOrThrow(schema, { checks: { queries: [{ ...query, rdsTarget: 'billing' }] } }),
    );

    // Assess
    expect(problems).toEqual([
      { path: 'checks.queries[0].rdsTarget', message: 'unknown RDS target "billing" (configured: orders)' },
    ]);
  });
});

function problemsOf(act: () => unknown): ValidationError['problems'] {
  try {
    act();
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ValidationError');
}
