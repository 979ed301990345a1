import type { LookupFunction } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TlsCheck } from '../../../../../functions/health-check/check-set.ts';
import { daysLeft, evaluateTls, probeTls } from '../../../../../functions/health-check/probes/tls.ts';
import {
  closedPort,
  failingLookup,
  selfSignedCertificate,
  startSilentServer,
  startTestServer,
} from '../../../../support/https-server.ts';

const DAY_MS = 86_400_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});

async function httpsServer(daysValid: number) {
  const certificate = await selfSignedCertificate({ daysValid });
  const server = await startTestServer({ certificate });
  cleanups.push(server.close);
  return server;
}

function check(host: string, port: number, overrides: Partial<TlsCheck> = {}): TlsCheck {
  return { name: 'api-cert', host, port, minDaysLeft: 30, timeoutMs: 2000, ...overrides };
}

describe('probeTls against loopback servers', () => {
  it('degrades on a self-signed certificate expiring in 10 days against a 30-day threshold', async () => {
    // Prepare
    const server = await httpsServer(10);

    // Act
    const outcome = await probeTls(check('127.0.0.1', server.port));

    // Assess
    expect(outcome.status).toBe('warn');
    expect(outcome.evidence.daysLeft).toBeGreaterThanOrEqual(9.9);
    expect(outcome.evidence.daysLeft).toBeLessThanOrEqual(10);
    expect(outcome.summary).toMatch(
      /^127\.0\.0\.1:\d+: certificate (9\.9|10) days left \(threshold 30 days\)/,
    );
  });

  it('measures an untrusted certificate and records why it is not trusted', async () => {
    // Prepare
    const server = await httpsServer(10);

    // Act
    const outcome = await probeTls(check('127.0.0.1', server.port));

    // Assess
    expect(outcome.evidence).toMatchObject({
      authorized: false,
      authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      subject: 'CN=localhost',
      issuer: 'CN=localhost',
      validTo: server.certificate!.validTo.toISOString().replace(/\.\d{3}Z$/, '.000Z'),
    });
    expect(outcome.summary).toContain('not trusted: DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('passes a certificate with more days left than the threshold, trusted when its CA is given', async () => {
    // Prepare
    const server = await httpsServer(90);

    // Act
    const outcome = await probeTls(check('localhost', server.port), {
      ca: server.certificate!.cert,
      lookup: (_host, options, callback) =>
        options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4),
    });

    // Assess
    expect(outcome.status).toBe('pass');
    expect(outcome.evidence).toMatchObject({ authorized: true, minDaysLeft: 30 });
    expect(outcome.evidence).not.toHaveProperty('authorizationError');
  });

  it('records a host name the certificate does not cover as not trusted, still measuring expiry', async () => {
    // Prepare
    const server = await httpsServer(90);

    // Act
    const outcome = await probeTls(check('api.example.test', server.port), {
      ca: server.certificate!.cert,
      lookup: (_host, options, callback) =>
        options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4),
    });

    // Assess
    expect(outcome.status).toBe('pass');
    expect(outcome.evidence).toMatchObject({
      authorized: false,
      authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    // Prepare
    const port = await closedPort();

    // Act
    const outcome = await probeTls(check('127.0.0.1', port));

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(
      `127.0.0.1:${port}: no certificate read (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });

  it('fails with a timeout when the server never completes the handshake', async () => {
    // Prepare
    const silent = await startSilentServer();
    cleanups.push(silent.close);

    // Act
    const outcome = await probeTls(check('127.0.0.1', silent.port, { timeoutMs: 200 }));

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.evidence.error).toBe('TimeoutError: no answer within 200 ms');
  });

  it('refuses a host name that resolves to a link-local address, without connecting', async () => {
    // Prepare: fe80::1 without a zone cannot be connected to, so even a broken guard sends nothing.
    const linkLocal: LookupFunction = (_hostname, options, callback) =>
      options.all ? callback(null, [{ address: 'fe80::1', family: 6 }]) : callback(null, 'fe80::1', 6);

    // Act
    const outcome = await probeTls(check('internal.example.test', 443), { lookup: linkLocal });

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.evidence.error).toMatch(
      /^EFORBIDDENADDRESS: internal\.example\.test resolves to fe80::1, a link-local/,
    );
  });

  it('refuses a literal link-local host, without connecting', async () => {
    // Act
    const outcome = await probeTls(check('fe80::1', 443));

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.evidence.error).toMatch(/^EFORBIDDENADDRESS: fe80::1 is a link-local/);
  });

  it('fails with ENOTFOUND on a DNS failure, without sending a DNS query', async () => {
    // Act
    const outcome = await probeTls(check('api.example.invalid', 443), { lookup: failingLookup });

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.evidence.error).toBe('ENOTFOUND: getaddrinfo ENOTFOUND api.example.invalid');
  });
});

describe('evaluateTls', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const cert = (validTo: Date, validFrom = new Date('2026-01-01T00:00:00Z')) => ({
    subject: 'CN=api.example.com',
    issuer: 'CN=Example CA',
    validFrom,
    validTo,
    authorized: true,
  });
  const config = check('api.example.com', 443);

  it('fails an expired certificate', () => {
    // Act
    const outcome = evaluateTls(config, cert(new Date(now.getTime() - DAY_MS)), now);

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('certificate expired 2026-05-31T00:00:00.000Z');
  });

  it('fails a certificate that is not valid yet', () => {
    // Act
    const outcome = evaluateTls(
      config,
      cert(new Date('2027-01-01T00:00:00Z'), new Date('2026-07-01T00:00:00Z')),
      now,
    );

    // Assess
    expect(outcome.status).toBe('fail');
  });

  it('passes exactly at the threshold and warns just under it', () => {
    // Act
    const atThreshold = evaluateTls(config, cert(new Date(now.getTime() + 30 * DAY_MS)), now);
    const under = evaluateTls(config, cert(new Date(now.getTime() + 30 * DAY_MS - 3_600_000)), now);

    // Assess
    expect(atThreshold.status).toBe('pass');
    expect(under.status).toBe('warn');
  });

  it('counts days left with one decimal, rounded down', () => {
    // Act / Assess
    expect(daysLeft(new Date(now.getTime() + 1.99 * DAY_MS), now)).toBe(1.9);
    expect(daysLeft(new Date(now.getTime() - 0.5 * DAY_MS), now)).toBe(-0.5);
  });
});
