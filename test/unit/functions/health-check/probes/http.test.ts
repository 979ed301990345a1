import type { LookupFunction } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpCheck } from '../../../../../functions/health-check/check-set.ts';
import { evaluateHttp, probeHttp, sendSample } from '../../../../../functions/health-check/probes/http.ts';
import {
  closedPort,
  failingLookup,
  selfSignedCertificate,
  startSilentServer,
  startTestServer,
} from '../../../../support/https-server.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});

async function server(options: Parameters<typeof startTestServer>[0] = {}) {
  const started = await startTestServer(options);
  cleanups.push(started.close);
  return started;
}

function check(url: string, overrides: Partial<HttpCheck> = {}): HttpCheck {
  return {
    name: 'api',
    url,
    method: 'GET',
    expectedStatus: [200],
    samples: 3,
    latencyThresholdMs: 200,
    errorRateThresholdPercent: 5,
    timeoutMs: 2000,
    ...overrides,
  };
}

describe('probeHttp against loopback servers', () => {
  it('passes a fast endpoint with the expected status, reporting p50/p95 latency', async () => {
    // Prepare
    const api = await server();

    // Act
    const outcome = await probeHttp(check(api.url));

    // Assess
    expect(outcome.status).toBe('pass');
    expect(outcome.evidence).toMatchObject({
      samples: 3,
      okSamples: 3,
      errorRatePercent: 0,
      statusCodes: { '200': 3 },
    });
    expect(outcome.evidence.latency).toMatchObject({ count: 3 });
    expect(api.requests).toBe(3);
  });

  it('degrades when p95 latency exceeds the threshold, naming the measured value', async () => {
    // Prepare
    const api = await server({ delayMs: 300 });

    // Act
    const outcome = await probeHttp(check(api.url, { samples: 2 }));

    // Assess
    expect(outcome.status).toBe('warn');
    const p95 = (outcome.evidence.latency as { p95Ms: number }).p95Ms;
    expect(p95).toBeGreaterThanOrEqual(300);
    expect(outcome.summary).toContain(`p95 ${p95} ms (threshold 200 ms)`);
    expect(outcome.summary).toContain(api.url);
  });

  it('fails on a wrong status, naming the status received and the one expected', async () => {
    // Prepare
    const api = await server({ status: 503 });

    // Act
    const outcome = await probeHttp(check(api.url));

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('0/3 ok');
    expect(outcome.summary).toContain('status 503 (expected 200) ×3');
    expect(outcome.evidence).toMatchObject({ errorRatePercent: 100, statusCodes: { '503': 3 } });
  });

  it('accepts any status in the expected list', async () => {
    // Prepare
    const api = await server({ status: 204, body: '' });

    // Act
    const outcome = await probeHttp(check(api.url, { expectedStatus: [200, 204] }));

    // Assess
    expect(outcome.status).toBe('pass');
  });

  it('fails when the body does not match the configured expression', async () => {
    // Prepare
    const api = await server({ body: '{"status":"starting"}' });

    // Act
    const outcome = await probeHttp(check(api.url, { bodyMatch: '"status":\\s*"ok"' }));

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('body did not match /"status":\\s*"ok"/');
  });

  it('passes when the body matches the configured expression', async () => {
    // Prepare
    const api = await server({ body: '{"status": "ok"}' });

    // Act
    const outcome = await probeHttp(check(api.url, { bodyMatch: '"status":\\s*"ok"' }));

    // Assess
    expect(outcome.status).toBe('pass');
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    // Prepare
    const url = `http://127.0.0.1:${await closedPort()}/health`;

    // Act
    const outcome = await probeHttp(check(url, { samples: 2 }));

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toMatch(/0\/2 ok, error rate 100% \(threshold 5%\), no response .*ECONNREFUSED/);
    expect(outcome.evidence.latency).toBeNull();
  });

  it('fails with a timeout when the endpoint answers later than timeoutMs', async () => {
    // Prepare
    const api = await server({ delayMs: 5000 });

    // Act
    const outcome = await probeHttp(check(api.url, { samples: 1, timeoutMs: 200 }));

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('TimeoutError: no answer within 200 ms');
  });

  it('fails with ENOTFOUND on a DNS failure, without sending a DNS query', async () => {
    // Act
    const outcome = await probeHttp(check('http://api.example.invalid/health', { samples: 1 }), {
      lookup: failingLookup,
    });

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('ENOTFOUND: getaddrinfo ENOTFOUND api.example.invalid');
  });

  it('refuses a host name that resolves to a link-local address, without connecting', async () => {
    // Prepare: fe80::1 without a zone cannot be connected to, so even a broken guard sends nothing.
    const linkLocal: LookupFunction = (_hostname, options, callback) =>
      options.all ? callback(null, [{ address: 'fe80::1', family: 6 }]) : callback(null, 'fe80::1', 6);

    // Act
    const outcome = await probeHttp(check('http://internal.example.test/health', { samples: 1 }), {
      lookup: linkLocal,
    });

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain(
      'EFORBIDDENADDRESS: internal.example.test resolves to fe80::1, a link-local or instance-metadata address',
    );
  });

  it('refuses a literal link-local address in the URL, without connecting', async () => {
    // Act
    const outcome = await probeHttp(check('http://[fe80::1]:8080/health', { samples: 1 }));

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain(
      'EFORBIDDENADDRESS: fe80::1 is a link-local or instance-metadata address',
    );
  });

  it('degrades (not fails) when some samples fail but fewer than half', async () => {
    // Prepare
    const api = await server({ status: 500 });
    const flaky = check(api.url, { samples: 4 });
    const samples = [await sendSample(flaky)];
    api.behave({ status: 200 });
    for (let i = 0; i < 3; i++) samples.push(await sendSample(flaky));

    // Act
    const outcome = evaluateHttp(flaky, samples);

    // Assess
    expect(outcome.status).toBe('warn');
    expect(outcome.summary).toContain('3/4 ok, error rate 25% (threshold 5%)');
  });

  it('fails an HTTPS endpoint whose self-signed certificate is not trusted', async () => {
    // Prepare
    const api = await server({ certificate: await selfSignedCertificate({ daysValid: 90 }) });

    // Act
    const outcome = await probeHttp(check(api.url, { samples: 1 }));

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toMatch(/DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED/);
  });

  it('passes an HTTPS endpoint whose certificate is trusted', async () => {
    // Prepare
    const certificate = await selfSignedCertificate({ daysValid: 90 });
    const api = await server({ certificate });

    // Act
    const outcome = await probeHttp(check(api.url, { samples: 1 }), { ca: certificate.cert });

    // Assess
    expect(outcome.status).toBe('pass');
  });

  it('stops between samples once the check is cancelled', async () => {
    // Prepare
    const silent = await startSilentServer();
    cleanups.push(silent.close);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 100);

    // Act
    const outcome = await probeHttp(check(`http://127.0.0.1:${silent.port}/`, { samples: 5 }), {
      signal: controller.signal,
    });

    // Assess
    expect(outcome.evidence.samples).toBe(1);
    expect(outcome.status).toBe('fail');
  });
});

describe('evaluateHttp', () => {
  const config = check('http://api.internal/health', { samples: 5, latencyThresholdMs: 200 });

  it('passes when every sample is fast and expected', () => {
    // Act
    const outcome = evaluateHttp(
      config,
      [10, 20, 30, 40, 50].map((ms) => ({ ms, status: 200 })),
    );

    // Assess
    expect(outcome.status).toBe('pass');
    expect(outcome.evidence.latency).toMatchObject({ p50Ms: 30, p95Ms: 50 });
  });

  it('degrades when only the slowest sample breaches the latency threshold (p95 of 5 is the slowest)', () => {
    // Act
    const outcome = evaluateHttp(
      config,
      [10, 20, 30, 40, 250].map((ms) => ({ ms, status: 200 })),
    );

    // Assess
    expect(outcome.status).toBe('warn');
  });

  it('fails at an error rate of 50% or more', () => {
    // Act
    const outcome = evaluateHttp(check('http://x/', { samples: 2 }), [
      { ms: 10, status: 200 },
      { ms: 10, status: 500, error: 'status 500 (expected 200)' },
    ]);

    // Assess
    expect(outcome.status).toBe('fail');
  });

  it('fails when no sample was taken at all', () => {
    // Act
    const outcome = evaluateHttp(config, []);

    // Assess
    expect(outcome.status).toBe('fail');
  });
});
