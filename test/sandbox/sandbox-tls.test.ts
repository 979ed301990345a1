/**
 * The sandbox's HTTPS: one port speaking HTTP and HTTPS, a certificate for 127.0.0.1 and localhost
 * signed by a CA the sandbox keeps in its data directory (the same CA after a restart), the
 * transport seen by requests; and the core's refusal to let a service answer a role session it did
 * not authorize.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check } from '../../sandbox/core/access/checks.ts';
import { startSandbox } from '../../sandbox/core/server.ts';
import { prepareTls } from '../../sandbox/core/tls/authority.ts';
import type { SandboxService } from '../../sandbox/core/types.ts';
import { type IamRegistry, iamRegistryService } from '../../sandbox/iam-registry/index.ts';

const root = mkdtempSync(join(tmpdir(), 'caretaker-tls-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Answer {
  readonly status: number;
  readonly body: string;
}

function get(url: string, options: { ca?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      { headers: options.headers ?? {}, ...(options.ca ? { ca: options.ca } : {}) },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A service that tells the transport it saw, and authorizes only when asked to. */
const probe = (): SandboxService => ({
  signingName: 'probe',
  protocol: 'json',
  async handle(req, res) {
    if (req.url.searchParams.has('authorize'))
      req.authorize([check('s3:ListBucket', 'arn:aws:s3:::probe')], 'Probe');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ secure: req.secureTransport, tls: req.tlsVersion ?? null, caller: req.caller.kind }),
    );
  },
});

const signed = (accessKeyId: string, token?: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20261205/us-east-1/probe/aws4_request, SignedHeaders=host, Signature=0`,
  ...(token ? { 'x-amz-security-token': token } : {}),
});

describe('the CA and the server certificate', () => {
  it('makes a CA that may sign certificates, and a server certificate it signed for 127.0.0.1 and localhost', () => {
    const tls = prepareTls(join(root, 'certs'));
    const ca = new X509Certificate(tls.caCertificate);
    const server = new X509Certificate(tls.certificate);

    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkHost('example.com')).toBeUndefined();
    expect(readFileSync(tls.caPath, 'utf8')).toBe(tls.caCertificate);
  });

  it('keeps the CA across starts on the same data directory, with a new server certificate each time', () => {
    const dir = join(root, 'kept');
    const first = prepareTls(dir);
    const second = prepareTls(dir);

    expect(second.caCertificate).toBe(first.caCertificate);
    expect(new X509Certificate(second.certificate).serialNumber).not.toBe(
      new X509Certificate(first.certificate).serialNumber,
    );
  });
});

describe('one port, HTTP and HTTPS', () => {
  it('serves both, HTTPS trusted only through the sandbox CA, and tells requests which transport they came by', async () => {
    const sandbox = await startSandbox({ dataDir: join(root, 'both'), services: [probe] });
    try {
      const ca = readFileSync(sandbox.caPath, 'utf8');

      const plain = await get(`${sandbox.url}/`, { headers: signed('sandbox') });
      const secure = await get(`${sandbox.httpsUrl}/`, { ca, headers: signed('sandbox') });
      const byName = await get(`${sandbox.httpsUrl.replace('127.0.0.1', 'localhost')}/`, {
        ca,
        headers: signed('sandbox'),
      });
      const untrusted = get(`${sandbox.httpsUrl}/`, { headers: signed('sandbox') });

      expect(new URL(sandbox.httpsUrl).port).toBe(new URL(sandbox.url).port);
      expect(JSON.parse(plain.body)).toEqual({ secure: false, tls: null, caller: 'administrator' });
      expect(JSON.parse(secure.body)).toEqual({ secure: true, tls: 'TLSv1.3', caller: 'administrator' });
      expect(byName.status).toBe(200);
      await expect(untrusted).rejects.toThrow(/certificate/);
    } finally {
      await sandbox.stop();
    }
  });
});

describe('answers to role sessions', () => {
  it('fail with an internal error when a service answers one without authorizing it; authorized ones are decided', async () => {
    const sandbox = await startSandbox({
      dataDir: join(root, 'guard'),
      services: [probe, iamRegistryService],
      settings: { iam: { enforcement: 'enforce' } },
    });
    try {
      const roleArn = 'arn:aws:iam::000000000000:role/Prober';
      sandbox.context.service<IamRegistry>('iam')?.putRole({
        arn: roleArn,
        name: 'Prober',
        roleId: 'AROAPROBERPROBERPRO',
        path: '/',
        source: 'Prober',
        trustPolicy: {},
        managedPolicyArns: [],
      });
      const keys = sandbox.context.access.credentials.issue(roleArn, 'probe');
      const headers = signed(keys.accessKeyId, keys.sessionToken);

      const unauthorized = await get(`${sandbox.url}/`, { headers });
      const denied = await get(`${sandbox.url}/?authorize`, { headers });

      expect(unauthorized.status).toBe(500);
      expect(unauthorized.body).toContain('without authorizing it');
      expect(denied.status).toBe(400);
      expect(JSON.parse(denied.body)).toMatchObject({ __type: 'AccessDeniedException' });
      expect(sandbox.denials()).toHaveLength(1);
    } finally {
      await sandbox.stop();
    }
  });

  it('lists the denials at /_sandbox/iam/denials, with the enforcement mode', async () => {
    const sandbox = await startSandbox({
      dataDir: join(root, 'listed'),
      services: [probe, iamRegistryService],
    });
    try {
      const roleArn = 'arn:aws:iam::000000000000:role/Reporter';
      sandbox.context.service<IamRegistry>('iam')?.putRole({
        arn: roleArn,
        name: 'Reporter',
        roleId: 'AROAREPORTERREPORTE',
        path: '/',
        source: 'Reporter',
        trustPolicy: {},
        managedPolicyArns: [],
      });
      const keys = sandbox.context.access.credentials.issue(roleArn, 'report');

      const allowedThrough = await get(`${sandbox.url}/?authorize`, {
        headers: signed(keys.accessKeyId, keys.sessionToken),
      });
      const listed = JSON.parse((await get(`${sandbox.url}/_sandbox/iam/denials`)).body);

      // startSandbox only reports: the call went through, and is recorded as one IAM would refuse.
      expect(allowedThrough.status).toBe(200);
      expect(listed.enforcement).toBe('report');
      expect(listed.denials).toEqual([
        expect.objectContaining({
          principal: 'arn:aws:sts::000000000000:assumed-role/Reporter/report',
          action: 's3:ListBucket',
          resources: ['arn:aws:s3:::probe'],
          operation: 'Probe',
          enforced: false,
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        }),
      ]);
    } finally {
      await sandbox.stop();
    }
  });
});
