import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import {
  ForbiddenAddressError,
  guardedLookup,
  isForbiddenAddress,
  isForbiddenHost,
  isRuntimeApi,
  literalAddress,
  runtimeApiEndpoint,
} from '../../../../functions/health-check/forbidden-address.ts';
import { probeHttp } from '../../../../functions/health-check/probes/http.ts';
import { startTestServer } from '../../../support/https-server.ts';

/** A lookup that answers every name with `addresses`, sending no DNS query. */
function answering(...addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    process.nextTick(() =>
      options.all ? callback(null, addresses) : callback(null, addresses[0]!.address, addresses[0]!.family),
    );
  };
}

/** Calls a lookup the way net.connect does and returns what it answered. */
function resolve(lookup: LookupFunction, hostname: string, all: boolean) {
  return new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((done) => {
    lookup(hostname, { all }, (error, address, family) => done({ error, address, family }));
  });
}

describe('isForbiddenAddress', () => {
  it.each([
    ['the instance metadata address', '169.254.169.254'],
    ['the ECS credentials address', '169.254.170.2'],
    ['the first IPv4 link-local address', '169.254.0.0'],
    ['the last IPv4 link-local address', '169.254.255.255'],
    ['IPv6 link-local', 'fe80::1'],
    ['IPv6 link-local at the top of fe80::/10', 'febf:ffff::1'],
    ['IPv6 link-local with a zone', 'fe80::1%eth0'],
    ['the IPv6 instance metadata address', 'fd00:ec2::254'],
    ['instance metadata as an IPv4-mapped IPv6 address', '::ffff:169.254.169.254'],
    ['instance metadata through NAT64', '64:ff9b::a9fe:a9fe'],
  ])('refuses %s (%s)', (_label, address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each([
    ['IPv4 loopback', '127.0.0.1'],
    ['IPv6 loopback', '::1'],
    ['a private address', '10.0.0.1'],
    ['the address just below 169.254.0.0/16', '169.253.255.255'],
    ['the address just above 169.254.0.0/16', '169.255.0.0'],
    ['the address just above fe80::/10', 'fec0::1'],
    ['a host name', 'metadata.google.internal'],
  ])('allows %s (%s)', (_label, address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });
});

describe('literalAddress', () => {
  it.each([
    ['2852039166', '169.254.169.254'],
    ['0xa9fea9fe', '169.254.169.254'],
    ['0251.0376.0251.0376', '169.254.169.254'],
    ['169.254.43518', '169.254.169.254'],
    ['[fe80::1]', 'fe80::1'],
  ])('reads %s as the address %s, as resolvers would', (host, address) => {
    expect(literalAddress(host)).toBe(address);
  });

  it('reads a host name as no literal address', () => {
    expect(literalAddress('api.example.com')).toBeUndefined();
  });
});

describe('isForbiddenHost', () => {
  it('refuses a decimal spelling of the metadata address', () => {
    expect(isForbiddenHost('2852039166')).toBe(true);
  });

  it('allows localhost, which names loopback', () => {
    expect(isForbiddenHost('localhost')).toBe(false);
  });
});

describe('guardedLookup', () => {
  it('refuses a name that resolves to the metadata address, naming both', async () => {
    // Prepare
    const lookup = guardedLookup(answering({ address: '169.254.169.254', family: 4 }));

    // Act
    const { error } = await resolve(lookup, 'metadata.example.test', false);

    // Assess
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(error).toMatchObject({
      code: 'EFORBIDDENADDRESS',
      message: expect.stringMatching(/^metadata\.example\.test resolves to 169\.254\.169\.254, a link-local/),
    });
  });

  it('refuses a name when any one of its addresses is forbidden', async () => {
    // Prepare: a rebinding answer that mixes a harmless address with a forbidden one.
    const lookup = guardedLookup(
      answering({ address: '127.0.0.1', family: 4 }, { address: 'fd00:ec2::254', family: 6 }),
    );

    // Act
    const { error } = await resolve(lookup, 'rebind.example.test', true);

    // Assess
    expect(error).toMatchObject({ code: 'EFORBIDDENADDRESS' });
  });

  it('answers a single address when the caller asked for one', async () => {
    // Prepare
    const lookup = guardedLookup(answering({ address: '127.0.0.1', family: 4 }));

    // Act
    const answer = await resolve(lookup, 'api.example.test', false);

    // Assess
    expect(answer).toEqual({ error: null, address: '127.0.0.1', family: 4 });
  });

  it('answers every address when the caller asked for all', async () => {
    // Prepare
    const addresses = [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ];
    const lookup = guardedLookup(answering(...addresses));

    // Act
    const answer = await resolve(lookup, 'api.example.test', true);

    // Assess
    expect(answer).toMatchObject({ error: null, address: addresses });
  });

  it('passes a resolver error through unchanged', async () => {
    // Prepare
    const failure = Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' });
    const lookup = guardedLookup((_hostname, _options, callback) => callback(failure, '', 4));

    // Act
    const { error } = await resolve(lookup, 'x', false);

    // Assess
    expect(error).toBe(failure);
  });
});

describe('the Lambda runtime API', () => {
  const endpoint = { address: '127.0.0.1', port: 9001 };

  it('is its exact address and port, however spelt, and the unspecified address on that port', () => {
    // Act
    const reached = ['127.0.0.1', '::ffff:127.0.0.1', '0.0.0.0', '::', '127.1'].map((address) =>
      isRuntimeApi(address, 9001, endpoint),
    );

    // Assess
    expect(reached).toEqual([true, true, true, true, true]);
  });

  it('is not another port on loopback, nor another loopback address', () => {
    // Act
    const reached = [
      isRuntimeApi('127.0.0.1', 9002, endpoint),
      isRuntimeApi('127.0.0.2', 9001, endpoint),
      isRuntimeApi('::1', 9001, endpoint),
    ];

    // Assess
    expect(reached).toEqual([false, false, false]);
  });

  it('is read from AWS_LAMBDA_RUNTIME_API, and absent outside Lambda', () => {
    // Act
    const inLambda = runtimeApiEndpoint({ AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' });
    const outside = runtimeApiEndpoint({});

    // Assess
    expect(inLambda).toEqual(endpoint);
    expect(outside).toBeUndefined();
  });

  it('is refused when a name resolves to it on its port, before any connection', async () => {
    // Prepare
    vi.stubEnv('AWS_LAMBDA_RUNTIME_API', '127.0.0.1:9001');
    const lookup = guardedLookup(answering({ address: '127.0.0.1', family: 4 }), 9001);

    // Act
    const { error } = await resolve(lookup, 'innocent.example.test', false);
    vi.unstubAllEnvs();

    // Assess
    expect(error?.message).toBe(
      'innocent.example.test resolves to 127.0.0.1:9001, the Lambda runtime API: health checks must not reach it',
    );
  });
});

describe('an HTTP check of the runtime API', () => {
  it('fails without sending a request, while the same server on another port stays reachable', async () => {
    // Prepare: a loopback server standing in for the runtime API
    const runtime = await startTestServer({ body: '{"status":"ok"}' });
    vi.stubEnv('AWS_LAMBDA_RUNTIME_API', `127.0.0.1:${new URL(runtime.url).port}`);
    const check = {
      name: 'runtime',
      url: runtime.url,
      method: 'GET' as const,
      expectedStatus: [200],
      samples: 1,
      timeoutMs: 1000,
      latencyThresholdMs: 1000,
      errorRateThresholdPercent: 5,
    };

    // Act
    const refused = await probeHttp(check);
    const requests = runtime.requests;
    vi.unstubAllEnvs();
    const allowed = await probeHttp(check);
    await runtime.close();

    // Assess
    expect(refused.status).toBe('fail');
    expect(refused.summary).toContain('the Lambda runtime API: health checks must not reach it');
    expect(requests).toBe(0);
    expect(allowed.status).toBe('pass');
  });
});
