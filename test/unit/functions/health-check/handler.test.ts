import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HealthResult } from '../../../../functions/health-check/evaluate.ts';
import {
  closedPort,
  selfSignedCertificate,
  startTestServer,
  type TestServer,
} from '../../../support/https-server.ts';
import { fakeContext } from '../../../support/lambda-context.ts';

const s3Mock = mockClient(S3Client);
const rdsMock = mockClient(RDSClient);
let api: TestServer;
let refusedUrl: string;

beforeAll(async () => {
  api = await startTestServer({ body: '{"status":"ok"}' });
  refusedUrl = `http://127.0.0.1:${await closedPort()}/health`;
});
afterAll(async () => {
  await api.close();
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
  s3Mock.reset();
  rdsMock.reset();
});

/** Loads the handler module fresh with HEALTH_CHECKS (and other env) set, as a cold start would. */
async function coldStart(checks: unknown, env: Record<string, string> = {}) {
  vi.stubEnv('HEALTH_CHECKS', JSON.stringify(checks));
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return import('../../../../functions/health-check/handler.ts');
}

const httpCheck = (name: string, url: string) => ({ name, url, samples: 2, timeoutMs: 1000 });

describe('health-check handler', () => {
  it('returns healthy with every configured check and its evidence', async () => {
    // Prepare
    const { handler } = await coldStart({ http: [httpCheck('api', api.url)], backupFreshness: false });

    // Act
    const result = (await handler({}, fakeContext())) as HealthResult;

    // Assess
    expect(result.status).toBe('healthy');
    expect(result.checks).toHaveLength(1);
    expect(result.checks[0]).toMatchObject({
      name: 'api',
      kind: 'http',
      status: 'pass',
      evidence: { okSamples: 2 },
    });
    expect(Date.parse(result.checkedAt)).not.toBeNaN();
  });

  it('reports a failing endpoint as unhealthy, naming it and the measured value', async () => {
    // Prepare
    const { handler } = await coldStart({
      http: [httpCheck('api', api.url), httpCheck('payments', refusedUrl)],
    });

    // Act
    const result = (await handler({}, fakeContext())) as HealthResult;

    // Assess
    expect(result.status).toBe('unhealthy');
    const failing = result.checks.find((check) => check.status === 'fail');
    expect(failing?.name).toBe('payments');
    expect(failing?.summary).toContain(`GET ${refusedUrl}: 0/2 ok, error rate 100% (threshold 5%)`);
    expect(failing?.summary).toContain('ECONNREFUSED');
  });

  it('reports degraded for a self-signed certificate expiring in 10 days against a 30-day threshold', async () => {
    // Prepare
    const https = await startTestServer({ certificate: await selfSignedCertificate({ daysValid: 10 }) });
    const { handler } = await coldStart({ tls: [{ name: 'api-cert', host: '127.0.0.1', port: https.port }] });

    // Act
    const result = (await handler({}, fakeContext())) as HealthResult;
    await https.close();

    // Assess
    expect(result.status).toBe('degraded');
    expect(result.checks[0]).toMatchObject({
      name: 'api-cert',
      kind: 'tls',
      status: 'warn',
      evidence: { minDaysLeft: 30, authorized: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
    });
  });

  it('checks backup freshness of the configured sets and targets in the same run', async () => {
    // Prepare: one backup folder without manifest (in progress), no snapshot
    const recent = new Date(Date.now() - 3_600_000);
    const id = `${recent.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z-0000abcd`;
    s3Mock
      .on(ListObjectsV2Command, { Delimiter: '/' })
      .resolves({ CommonPrefixes: [{ Prefix: `backups/uploads/${id}/` }] });
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' }));
    s3Mock.on(ListObjectVersionsCommand).resolves({});
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    const { handler } = await coldStart(
      {
        backupSets: [{ name: 'uploads', rpo: 'PT26H' }],
        rdsTargets: [{ name: 'orders', identifier: 'orders-prod', rpo: 'PT26H' }],
      },
      {
        BACKUP_BUCKET: 'caretaker-backups',
        BACKUP_KEY_ARN: 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000',
      },
    );

    // Act
    const result = (await handler({}, fakeContext())) as HealthResult;

    // Assess
    expect(result.checks.map((c) => [c.name, c.kind, c.status])).toEqual([
      ['backup-set:uploads', 'freshness', 'fail'],
      ['rds-target:orders', 'freshness', 'fail'],
    ]);
    expect(result.checks[0]?.summary).toContain('backup set uploads: no verified backup among 1');
    expect(result.status).toBe('unhealthy');
  });

  it('throws UnhealthyError naming the failing check when the flow step sets failOn', async () => {
    // Prepare
    const { handler } = await coldStart({ http: [httpCheck('payments', refusedUrl)] });

    // Act
    const attempt = handler({ failOn: 'unhealthy', executionId: 'exec-1' }, fakeContext());

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'UnhealthyError',
      details: { result: { status: 'unhealthy' } },
    });
    await expect(handler({ failOn: 'unhealthy' }, fakeContext())).rejects.toThrow(
      /^Health is unhealthy: FAIL http payments: GET http:\/\/127\.0\.0\.1:\d+\/health: 0\/2 ok, error rate 100%/,
    );
  });

  it('returns a degraded result without throwing when failOn is unhealthy', async () => {
    // Prepare
    const slow = await startTestServer({ delayMs: 60 });
    const { handler } = await coldStart({
      http: [{ ...httpCheck('api', slow.url), latencyThresholdMs: 20 }],
    });

    // Act
    const result = (await handler({ failOn: 'unhealthy' }, fakeContext())) as HealthResult;
    await slow.close();

    // Assess
    expect(result.status).toBe('degraded');
  });

  it('runs the event override against a given endpoint instead of the configured checks, with its label', async () => {
    // Prepare
    const { handler } = await coldStart({ http: [httpCheck('payments', refusedUrl)] });

    // Act
    // A generous latency threshold: this test is about which checks run, not about speed on a busy machine.
    const restored = { ...httpCheck('restored', api.url), latencyThresholdMs: 5000 };
    const result = (await handler(
      { checks: { http: [restored] }, label: 'post-restore' },
      fakeContext(),
    )) as HealthResult;

    // Assess
    expect(result).toMatchObject({ status: 'healthy', label: 'post-restore' });
    expect(result.checks.map((c) => c.name)).toEqual(['restored']);
  });

  it('rejects a bad event with a ValidationError naming each field, before probing anything', async () => {
    // Prepare
    const { handler } = await coldStart({ http: [httpCheck('api', api.url)] });
    const before = api.requests;

    // Act
    const attempt = handler(
      { failOn: 'always', checks: { http: [{ name: 'x', url: 'not a url' }] } },
      fakeContext(),
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(
      handler({ failOn: 'always', checks: { http: [{ name: 'x', url: 'not a url' }] } }, fakeContext()),
    ).rejects.toThrow(/checks\.http\[0\]\.url: .*failOn: expected one of "unhealthy", "degraded"/);
    expect(api.requests).toBe(before);
  });

  it('fails the cold start naming the bad field when HEALTH_CHECKS is invalid', async () => {
    // Act
    const attempt = coldStart({ http: [{ name: 'api', url: 'https://x.example.com', samples: 1000 }] });

    // Assess
    await expect(attempt).rejects.toThrow(
      /^Invalid HEALTH_CHECKS environment variable: http\[0\]\.samples: /,
    );
  });

  it('fails the cold start when HEALTH_CHECKS is not JSON', async () => {
    // Prepare
    vi.stubEnv('HEALTH_CHECKS', '{http: []}');

    // Act
    const attempt = import('../../../../functions/health-check/handler.ts');

    // Assess
    await expect(attempt).rejects.toThrow(/^Environment variable HEALTH_CHECKS is not valid JSON/);
  });

  it('fails the cold start when backup sets are configured without BACKUP_BUCKET', async () => {
    // Act
    const attempt = coldStart({ backupSets: [{ name: 'uploads', rpo: 'PT26H' }] });

    // Assess
    await expect(attempt).rejects.toThrow('Environment variable BACKUP_BUCKET is required but not set');
  });
});
