/**
 * The decision for a request within one account: explicit deny, resource-policy and identity
 * allows, implicit deny. Source: IAM User Guide, "Policy evaluation logic" and "AWS JSON policy
 * elements: Principal" / "NotPrincipal".
 */
import { describe, expect, it } from 'vitest';
import { authorize, type RolePrincipal } from '../../../sandbox/iam/index.ts';
import {
  ACCOUNT,
  BUCKET_ARN,
  decide,
  identityPolicy,
  OBJECT_ARN,
  OTHER_ACCOUNT,
  ROLE_ARN,
  resourcePolicy,
  role,
  SESSION_ARN,
} from './support.ts';

const readObjects = { Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET_ARN}/*` };

describe('identity policies', () => {
  it('allow what a statement allows', () => {
    const result = decide(role(identityPolicy([readObjects])), 's3:GetObject', [{ arn: OBJECT_ARN }]);

    expect(result.decision).toBe('Allow');
    expect(result.resources[0]?.reason).toBe('AllowedByIdentityPolicy');
  });

  it('deny implicitly when no statement allows', () => {
    const result = decide(role(identityPolicy([readObjects])), 's3:DeleteObject', [{ arn: OBJECT_ARN }]);

    expect(result.decision).toBe('ImplicitDeny');
    expect(result.resources[0]).toMatchObject({ reason: 'NoAllow', statements: [] });
  });

  it('deny implicitly a role without policies', () => {
    expect(decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN }]).decision).toBe('ImplicitDeny');
  });

  it('deny explicitly over an allow in the same policy', () => {
    const policy = identityPolicy([
      readObjects,
      { Sid: 'NoOldBackups', Effect: 'Deny', Action: 's3:*', Resource: `${BUCKET_ARN}/backups/*` },
    ]);

    const result = decide(role(policy), 's3:GetObject', [{ arn: OBJECT_ARN }]);

    expect(result.decision).toBe('ExplicitDeny');
    expect(result.resources[0]?.statements).toEqual([
      { policyName: 'RolePolicy', policyType: 'identity', index: 1, sid: 'NoOldBackups', effect: 'Deny' },
    ]);
  });

  it('deny explicitly over an allow in another policy', () => {
    const deny = identityPolicy([{ Effect: 'Deny', Action: 's3:GetObject', Resource: '*' }], 'Guardrail');

    const result = decide(role(identityPolicy([readObjects]), deny), 's3:GetObject', [{ arn: OBJECT_ARN }]);

    expect(result.decision).toBe('ExplicitDeny');
    expect(result.resources[0]?.statements[0]?.policyName).toBe('Guardrail');
  });

  it('report every denying statement', () => {
    const policy = identityPolicy([
      { Effect: 'Deny', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:Get*', Resource: '*' },
    ]);

    expect(
      decide(role(policy), 's3:GetObject', [{ arn: OBJECT_ARN }]).resources[0]?.statements.map(
        (s) => s.index,
      ),
    ).toEqual([0, 1]);
  });

  it('deny with NotAction everything but the actions listed', () => {
    const policy = identityPolicy([
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', NotAction: ['s3:GetObject', 's3:ListBucket'], Resource: '*' },
    ]);

    expect(decide(role(policy), 's3:PutObject', [{ arn: OBJECT_ARN }]).decision).toBe('ExplicitDeny');
    expect(decide(role(policy), 's3:GetObject', [{ arn: OBJECT_ARN }]).decision).toBe('Allow');
  });

  it('deny with NotResource everywhere but the resources listed', () => {
    const policy = identityPolicy([
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:*', NotResource: [BUCKET_ARN, `${BUCKET_ARN}/*`] },
    ]);

    expect(decide(role(policy), 's3:GetObject', [{ arn: 'arn:aws:s3:::someone-elses/data' }]).decision).toBe(
      'ExplicitDeny',
    );
    expect(decide(role(policy), 's3:GetObject', [{ arn: OBJECT_ARN }]).decision).toBe('Allow');
  });

  it('allow with NotAction and NotResource together what neither lists', () => {
    const policy = identityPolicy([
      { Effect: 'Allow', NotAction: 'iam:*', NotResource: 'arn:aws:s3:::secrets/*' },
    ]);

    expect(decide(role(policy), 's3:GetObject', [{ arn: OBJECT_ARN }]).decision).toBe('Allow');
    expect(decide(role(policy), 's3:GetObject', [{ arn: 'arn:aws:s3:::secrets/key' }]).decision).toBe(
      'ImplicitDeny',
    );
    expect(decide(role(policy), 'iam:PassRole', [{ arn: ROLE_ARN }]).decision).toBe('ImplicitDeny');
  });

  it('leave out a Deny whose policy variable the request cannot resolve', () => {
    const policy = identityPolicy([
      readObjects,
      { Effect: 'Deny', Action: 's3:*', Resource: `${BUCKET_ARN}/\${aws:PrincipalTag/quarantine}/*` },
    ]);

    expect(decide(role(policy), 's3:GetObject', [{ arn: OBJECT_ARN }]).decision).toBe('Allow');
  });
});

describe('resource policies in the same account', () => {
  it('allow on their own when they name the role (S3 bucket policy, no identity policy)', () => {
    const bucketPolicy = resourcePolicy([{ ...readObjects, Principal: { AWS: ROLE_ARN } }], 'BucketPolicy');

    const result = decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }]);

    expect(result.decision).toBe('Allow');
    expect(result.resources[0]).toMatchObject({
      reason: 'AllowedByResourcePolicy',
      statements: [{ policyName: 'BucketPolicy', policyType: 'resource', index: 0 }],
    });
  });

  it('allow on their own when they name the role session', () => {
    const bucketPolicy = resourcePolicy([{ ...readObjects, Principal: { AWS: [SESSION_ARN] } }]);

    expect(decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }]).decision).toBe(
      'Allow',
    );
  });

  it('allow on their own with Principal "*" narrowed by a condition', () => {
    const bucketPolicy = resourcePolicy([
      { ...readObjects, Principal: '*', Condition: { ArnEquals: { 'aws:PrincipalArn': ROLE_ARN } } },
    ]);

    expect(decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }]).decision).toBe(
      'Allow',
    );
  });

  it('do not allow a principal their condition leaves out', () => {
    const bucketPolicy = resourcePolicy([
      {
        ...readObjects,
        Principal: { AWS: '*' },
        Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/other` } },
      },
    ]);

    expect(decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }]).decision).toBe(
      'ImplicitDeny',
    );
  });

  it('only delegate to identity policies when they name the account', () => {
    const bucketPolicy = resourcePolicy([
      { ...readObjects, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } },
    ]);

    expect(decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }]).decision).toBe(
      'ImplicitDeny',
    );
    expect(
      decide(role(identityPolicy([readObjects])), 's3:GetObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }])
        .decision,
    ).toBe('Allow');
  });

  it('do not cover a principal of another account', () => {
    const bucketPolicy = resourcePolicy([
      { ...readObjects, Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:role/backup-role` } },
    ]);

    expect(decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }]).decision).toBe(
      'ImplicitDeny',
    );
  });

  it('let identity policies allow what they do not mention', () => {
    const bucketPolicy = resourcePolicy([
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: `${BUCKET_ARN}/*`,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);

    expect(
      decide(
        role(identityPolicy([readObjects])),
        's3:GetObject',
        [{ arn: OBJECT_ARN, policy: bucketPolicy }],
        { 'aws:SecureTransport': true },
      ).decision,
    ).toBe('Allow');
  });

  it('deny explicitly over an identity allow (the SSL-only bucket policy)', () => {
    const bucketPolicy = resourcePolicy(
      [
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
      'BackupsBucketPolicy',
    );

    const result = decide(
      role(identityPolicy([readObjects])),
      's3:GetObject',
      [{ arn: OBJECT_ARN, policy: bucketPolicy }],
      { 'aws:SecureTransport': false },
    );

    expect(result.decision).toBe('ExplicitDeny');
    expect(result.resources[0]?.statements).toEqual([
      { policyName: 'BackupsBucketPolicy', policyType: 'resource', index: 0, sid: undefined, effect: 'Deny' },
    ]);
  });

  it('deny explicitly over their own allow', () => {
    const bucketPolicy = resourcePolicy([
      { ...readObjects, Principal: { AWS: ROLE_ARN } },
      {
        Effect: 'Deny',
        Principal: { AWS: ROLE_ARN },
        Action: 's3:GetObject',
        Resource: `${BUCKET_ARN}/backups/*`,
      },
    ]);

    expect(decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }]).decision).toBe(
      'ExplicitDeny',
    );
  });

  it('deny everyone in an account when a Deny names the account', () => {
    const bucketPolicy = resourcePolicy([
      { Effect: 'Deny', Principal: { AWS: ACCOUNT }, Action: 's3:DeleteObject', Resource: `${BUCKET_ARN}/*` },
    ]);

    const allowAll = identityPolicy([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);

    expect(
      decide(role(allowAll), 's3:DeleteObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }]).decision,
    ).toBe('ExplicitDeny');
  });

  it('do not deny a principal of another account when a Deny names only that account', () => {
    const bucketPolicy = resourcePolicy([
      { Effect: 'Deny', Principal: { AWS: OTHER_ACCOUNT }, Action: 's3:*', Resource: '*' },
    ]);

    expect(
      decide(role(identityPolicy([readObjects])), 's3:GetObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }])
        .decision,
    ).toBe('Allow');
  });
});

describe('NotPrincipal', () => {
  const allowAll = identityPolicy([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
  const denyAllBut = (...spared: string[]) =>
    resourcePolicy([
      {
        Effect: 'Deny',
        NotPrincipal: { AWS: spared },
        Action: 's3:*',
        Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
      },
    ]);

  it('with Deny spares a session named with its role and account', () => {
    const policy = denyAllBut(SESSION_ARN, ROLE_ARN, `arn:aws:iam::${ACCOUNT}:root`);

    expect(decide(role(allowAll), 's3:GetObject', [{ arn: OBJECT_ARN, policy }]).decision).toBe('Allow');
  });

  it('with Deny still denies a session when the account is not named with the role', () => {
    expect(
      decide(role(allowAll), 's3:GetObject', [{ arn: OBJECT_ARN, policy: denyAllBut(ROLE_ARN) }]).decision,
    ).toBe('ExplicitDeny');
  });

  it('with Deny denies everyone it does not name', () => {
    const policy = denyAllBut(`arn:aws:iam::${ACCOUNT}:role/other`, `arn:aws:iam::${ACCOUNT}:root`);

    expect(decide(role(allowAll), 's3:GetObject', [{ arn: OBJECT_ARN, policy }]).decision).toBe(
      'ExplicitDeny',
    );
  });

  it('with Allow grants to a principal whose role and account it does not name', () => {
    const policy = resourcePolicy([
      { ...readObjects, NotPrincipal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` } },
    ]);

    expect(decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy }]).decision).toBe('Allow');
  });

  it('with Allow does not grant to the role it names', () => {
    const policy = resourcePolicy([{ ...readObjects, NotPrincipal: { AWS: ROLE_ARN } }]);

    expect(decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy }]).decision).toBe('ImplicitDeny');
  });
});

describe('service principals', () => {
  const topic = `arn:aws:sns:us-east-1:${ACCOUNT}:alerts`;
  const topicPolicy = resourcePolicy([
    {
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topic,
      Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    },
  ]);

  it('are allowed by a resource policy naming the service', () => {
    const result = authorize({
      principal: { kind: 'service', service: 'events.amazonaws.com' },
      action: 'sns:Publish',
      resources: [{ arn: topic, policy: topicPolicy }],
      context: { 'aws:SourceAccount': ACCOUNT },
    });

    expect(result).toMatchObject({ decision: 'Allow', principal: 'events.amazonaws.com' });
  });

  it('are not allowed when the condition fails', () => {
    const result = authorize({
      principal: { kind: 'service', service: 'events.amazonaws.com' },
      action: 'sns:Publish',
      resources: [{ arn: topic, policy: topicPolicy }],
      context: { 'aws:SourceAccount': OTHER_ACCOUNT },
    });

    expect(result.decision).toBe('ImplicitDeny');
  });

  it('are not covered by a statement naming another service', () => {
    const result = authorize({
      principal: { kind: 'service', service: 'cloudwatch.amazonaws.com' },
      action: 'sns:Publish',
      resources: [{ arn: topic, policy: topicPolicy }],
      context: { 'aws:SourceAccount': ACCOUNT },
    });

    expect(result.decision).toBe('ImplicitDeny');
  });

  it('are covered by Principal "*"', () => {
    const denyInsecure = resourcePolicy([
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: topic,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);

    const result = authorize({
      principal: { kind: 'service', service: 'events.amazonaws.com' },
      action: 'sns:Publish',
      resources: [{ arn: topic, policy: denyInsecure }],
      context: { 'aws:SecureTransport': false },
    });

    expect(result.decision).toBe('ExplicitDeny');
  });
});

describe('requests on several resources', () => {
  const policy = identityPolicy([
    readObjects,
    { Effect: 'Deny', Action: 's3:*', Resource: `${BUCKET_ARN}/locked/*` },
  ]);

  it('are allowed when every resource is', () => {
    const result = decide(role(policy), 's3:GetObject', [
      { arn: OBJECT_ARN },
      { arn: `${BUCKET_ARN}/other` },
    ]);

    expect(result.decision).toBe('Allow');
  });

  it('are denied implicitly when one resource is', () => {
    const result = decide(role(policy), 's3:GetObject', [
      { arn: OBJECT_ARN },
      { arn: 'arn:aws:s3:::elsewhere/x' },
    ]);

    expect(result.decision).toBe('ImplicitDeny');
    expect(result.resources.map((r) => r.decision)).toEqual(['Allow', 'ImplicitDeny']);
  });

  it('are denied explicitly when one resource is, whatever the others', () => {
    const result = decide(role(policy), 's3:GetObject', [
      { arn: 'arn:aws:s3:::elsewhere/x' },
      { arn: `${BUCKET_ARN}/locked/x` },
    ]);

    expect(result.decision).toBe('ExplicitDeny');
  });
});

describe('the request context', () => {
  it('carries aws:PrincipalArn, aws:PrincipalAccount and aws:PrincipalType from the principal', () => {
    const policy = identityPolicy([
      {
        ...readObjects,
        Condition: {
          ArnEquals: { 'aws:PrincipalArn': ROLE_ARN },
          StringEquals: { 'aws:PrincipalAccount': ACCOUNT, 'aws:PrincipalType': 'AssumedRole' },
        },
      },
    ]);

    expect(decide(role(policy), 's3:GetObject', [{ arn: OBJECT_ARN }]).decision).toBe('Allow');
  });

  it('keeps a value the caller gives over the one from the principal', () => {
    const policy = identityPolicy([
      { ...readObjects, Condition: { StringEquals: { 'aws:PrincipalAccount': ACCOUNT } } },
    ]);

    expect(
      decide(role(policy), 's3:GetObject', [{ arn: OBJECT_ARN }], { 'aws:PrincipalAccount': OTHER_ACCOUNT })
        .decision,
    ).toBe('ImplicitDeny');
  });

  it('names the caller by its session ARN, or its role ARN without a session', () => {
    const withoutSession: RolePrincipal = { kind: 'role', roleArn: ROLE_ARN, policies: [] };

    expect(decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN }]).principal).toBe(SESSION_ARN);
    expect(decide(withoutSession, 's3:GetObject', [{ arn: OBJECT_ARN }]).principal).toBe(ROLE_ARN);
  });

  it('builds the session ARN from the role name without its path', () => {
    const withPath: RolePrincipal = {
      kind: 'role',
      roleArn: `arn:aws:iam::${ACCOUNT}:role/service/backup-role`,
      sessionName: 'fn',
      policies: [],
    };

    expect(decide(withPath, 's3:GetObject', [{ arn: OBJECT_ARN }]).principal).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/backup-role/fn`,
    );
  });
});

describe('misuse', () => {
  it('refuses an action that is not service:Action', () => {
    expect(() => decide(role(), 'GetObject', [{ arn: OBJECT_ARN }])).toThrow(/Not an action name/);
  });

  it('refuses a request without resources', () => {
    expect(() => decide(role(), 's3:ListAllMyBuckets', [])).toThrow(/use "\*"/);
  });

  it('refuses a principal whose role ARN is not one', () => {
    expect(() =>
      decide({ kind: 'role', roleArn: 'backup-role', policies: [] }, 's3:GetObject', [{ arn: OBJECT_ARN }]),
    ).toThrow(/Not an IAM role ARN/);
  });

  it('refuses a resource policy among the identity policies', () => {
    expect(() =>
      decide(role(resourcePolicy([{ ...readObjects, Principal: '*' }])), 's3:GetObject', [
        { arn: OBJECT_ARN },
      ]),
    ).toThrow(/not an identity policy/);
  });

  it('refuses an identity policy as a resource policy', () => {
    expect(() =>
      decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy: identityPolicy([readObjects]) }]),
    ).toThrow(/not a resource policy/);
  });
});
