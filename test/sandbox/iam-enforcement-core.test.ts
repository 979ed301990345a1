/**
 * The enforcer's parts, in process (sandbox/core/access/): who a key belongs to, how a decision
 * reads the registry's policies and builds the request's global condition keys, the record of
 * denials, and AWS's wording of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AccessControl, type RequestFacts } from '../../sandbox/core/access/access-control.ts';
import { check } from '../../sandbox/core/access/checks.ts';
import { CredentialIssuer, sessionNameOf } from '../../sandbox/core/access/credentials.ts';
import { denialLine } from '../../sandbox/core/access/denials.ts';
import { accessDeniedMessage } from '../../sandbox/core/access/messages.ts';
import type { SandboxContext } from '../../sandbox/core/server.ts';
import { type IamRegistry, iamRegistryService } from '../../sandbox/iam-registry/index.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'caretaker-access-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const ROLE = 'arn:aws:iam::000000000000:role/backup';
const BUCKET = 'arn:aws:s3:::backups';
const KEY = 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555';

function registryWith(statements: unknown[], resourcePolicies: Record<string, unknown[]> = {}): IamRegistry {
  const registry = iamRegistryService({ dataDir: mkdtempSync(join(dataDir, 'r-')) } as SandboxContext);
  registry.putRole({
    arn: ROLE,
    name: 'backup',
    roleId: 'AROAEXAMPLEEXAMPLE12',
    path: '/',
    source: 'Role',
    trustPolicy: {},
    managedPolicyArns: [],
  });
  registry.putRolePolicy(ROLE, {
    name: 'Inline',
    source: 'Policy',
    document: { Version: '2012-10-17', Statement: statements },
  });
  for (const [arn, statementsOfResource] of Object.entries(resourcePolicies)) {
    registry.putResourcePolicy({
      resourceArn: arn,
      source: 'ResourcePolicy',
      document: { Version: '2012-10-17', Statement: statementsOfResource },
    });
  }
  return registry;
}

function control(registry: IamRegistry, mode: 'enforce' | 'report' = 'enforce') {
  return new AccessControl({ accountId: '000000000000', mode, registry: () => registry });
}

const facts = (overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  service: 's3',
  operation: 'ListObjectsV2',
  region: 'us-east-1',
  secureTransport: true,
  sourceIp: '127.0.0.1',
  origin: 'request',
  ...overrides,
});
const session = { roleArn: ROLE, sessionName: 'backup-fn' };

describe('credentials', () => {
  it('issues role session keys the sandbox then recognizes, with their session token', () => {
    const issuer = new CredentialIssuer();
    const keys = issuer.issue(ROLE, 'backup-fn');

    expect(keys.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(issuer.issue(ROLE, 'backup-fn')).toEqual(keys);
    expect(issuer.identify(keys.accessKeyId, keys.sessionToken)).toEqual({
      kind: 'role',
      roleArn: ROLE,
      sessionName: 'backup-fn',
    });
    expect(issuer.identify(keys.accessKeyId, undefined).kind).toBe('invalid-token');
  });

  it('treats the plain credentials as the administrator and refuses AWS-shaped keys it did not issue', () => {
    const issuer = new CredentialIssuer();

    expect(issuer.identify('sandbox', undefined).kind).toBe('administrator');
    expect(issuer.identify('test', undefined).kind).toBe('administrator');
    expect(issuer.identify('AKIAIOSFODNN7EXAMPLE', undefined).kind).toBe('unknown-key');
    expect(issuer.identify('ASIAIOSFODNN7EXAMPLE', 'token').kind).toBe('unknown-key');
  });

  it('keeps session names to what STS allows', () => {
    expect(sessionNameOf('Caretaker-example/Backup:label')).toBe('Caretaker-example-Backup-label');
    expect(sessionNameOf('x'.repeat(80))).toHaveLength(64);
  });
});

describe('decisions', () => {
  it("allows by the role's identity policy and records nothing", () => {
    const access = control(registryWith([{ Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET }]));

    expect(access.evaluate(session, [check('s3:ListBucket', BUCKET)], facts())).toBeUndefined();
    expect(access.denials.list()).toEqual([]);
  });

  it('records an implicit deny with principal, action, resource and AWS wording', () => {
    const access = control(registryWith([]));

    const denial = access.evaluate(session, [check('s3:ListBucket', BUCKET)], facts());

    expect(denial).toMatchObject({
      principal: 'arn:aws:sts::000000000000:assumed-role/backup/backup-fn',
      action: 's3:ListBucket',
      resources: [BUCKET],
      decision: 'ImplicitDeny',
      reason: 'NoAllow',
      operation: 'ListObjectsV2',
      enforced: true,
    });
    expect(access.denials.list()).toEqual([denial]);
    expect(accessDeniedMessage(denial!, { quoteResource: true })).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/backup/backup-fn is not authorized to perform: s3:ListBucket on resource: "${BUCKET}" because no identity-based policy allows the s3:ListBucket action`,
    );
    expect(denialLine(denial!)).toContain(
      'DENIED arn:aws:sts::000000000000:assumed-role/backup/backup-fn s3:ListBucket on arn:aws:s3:::backups',
    );
  });

  it('evaluates the request over plain HTTP as aws:SecureTransport false, which a TLS-only bucket policy denies', () => {
    const registry = registryWith([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }], {
      [BUCKET]: [
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [BUCKET, `${BUCKET}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
    const access = control(registry);
    const object = { arn: `${BUCKET}/a`, policyOf: BUCKET };

    const overHttp = access.evaluate(
      session,
      [check('s3:GetObject', object)],
      facts({ secureTransport: false }),
    );
    const overHttps = access.evaluate(
      session,
      [check('s3:GetObject', object)],
      facts({ secureTransport: true }),
    );

    expect(overHttp?.decision).toBe('ExplicitDeny');
    expect(overHttp?.statements[0]).toMatchObject({
      policyName: 'ResourcePolicy',
      policyType: 'resource',
      index: 0,
    });
    expect(accessDeniedMessage(overHttp!)).toMatch(/with an explicit deny in a resource-based policy$/);
    expect(overHttps).toBeUndefined();
  });

  it('gives a key with no key policy in the registry the default one, which enables IAM policies', () => {
    const access = control(registryWith([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY }]));

    expect(
      access.evaluate(session, [check('kms:Decrypt', { arn: KEY, kmsKey: true })], facts({ service: 'kms' })),
    ).toBeUndefined();
  });

  it('refuses a key whose key policy does not enable IAM policies, in the words AWS uses for it', () => {
    const keyPolicy = [
      {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::000000000000:role/other' },
        Action: 'kms:*',
        Resource: '*',
      },
    ];
    const access = control(
      registryWith([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY }], { [KEY]: keyPolicy }),
    );

    const denial = access.evaluate(
      session,
      [check('kms:Decrypt', { arn: KEY, kmsKey: true })],
      facts({ service: 'kms' }),
    );

    expect(denial?.reason).toBe('KeyPolicyDoesNotEnableIamPolicies');
    expect(accessDeniedMessage(denial!)).toMatch(
      /because no resource-based policy allows the kms:Decrypt action$/,
    );
  });

  it('sets aws:CalledVia and aws:ViaAWSService for a call a service makes for its caller', () => {
    const access = control(
      registryWith([
        {
          Effect: 'Allow',
          Action: 'kms:GenerateDataKey',
          Resource: KEY,
          Condition: { 'ForAnyValue:StringEquals': { 'aws:CalledVia': ['s3.amazonaws.com'] } },
        },
      ]),
    );
    const direct = check('kms:GenerateDataKey', { arn: KEY, kmsKey: true });

    expect(access.evaluate(session, [{ ...direct, calledVia: 's3.amazonaws.com' }], facts())).toBeUndefined();
    expect(access.evaluate(session, [direct], facts())?.action).toBe('kms:GenerateDataKey');
  });

  it('gives aws:userid as the RoleId and the session name, as STS does', () => {
    const access = control(
      registryWith([
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: BUCKET,
          Condition: { StringEquals: { 'aws:userid': 'AROAEXAMPLEEXAMPLE12:backup-fn' } },
        },
      ]),
    );

    expect(access.evaluate(session, [check('s3:ListBucket', BUCKET)], facts())).toBeUndefined();
  });

  it('records but does not enforce in report mode', () => {
    const access = control(registryWith([]), 'report');

    const denial = access.evaluate(session, [check('s3:ListBucket', BUCKET)], facts());

    expect(denial?.enforced).toBe(false);
    expect(denialLine(denial!)).toMatch(/^WOULD DENY /);
  });

  it('knows only the roles a deployment stored', () => {
    const access = control(registryWith([]));

    expect(access.knowsRole(ROLE)).toBe(true);
    expect(access.knowsRole('arn:aws:iam::000000000000:role/placeholder')).toBe(false);
    expect(access.knowsRole(undefined)).toBe(false);
  });
});
