/**
 * Examples from AWS documentation, with the outcomes the documentation states. Where a page's
 * caller is an IAM user, the caller here is a role of the same name (the evaluator models roles);
 * the policies are otherwise as printed.
 */
import { describe, expect, it } from 'vitest';
import {
  type ContextInput,
  type Policy,
  parsePolicy,
  type RolePrincipal,
} from '../../../sandbox/iam/index.ts';
import { conditionHolds, decide } from './support.ts';

const ACCOUNT = '123456789012';

function policy(document: object, type: 'identity' | 'resource' = 'identity', name = 'DocPolicy'): Policy {
  return parsePolicy(document, { name, type });
}

function roleNamed(name: string, ...policies: Policy[]): RolePrincipal {
  return { kind: 'role', roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`, sessionName: name, policies };
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// "Example identity-based and resource-based policy evaluation"
describe('IAM User Guide, policy evaluation logic: Carlos saves a file', () => {
  const identity = policy({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowS3ListRead',
        Effect: 'Allow',
        Action: [
          's3:GetBucketLocation',
          's3:GetAccountPublicAccessBlock',
          's3:ListAccessPoints',
          's3:ListAllMyBuckets',
        ],
        Resource: 'arn:aws:s3:::*',
      },
      {
        Sid: 'AllowS3Self',
        Effect: 'Allow',
        Action: 's3:*',
        Resource: ['arn:aws:s3:::carlossalazar/*', 'arn:aws:s3:::carlossalazar'],
      },
      { Sid: 'DenyS3Logs', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::*log*' },
    ],
  });
  const bucketPolicy = policy(
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/carlossalazar` },
          Action: 's3:*',
          Resource: ['arn:aws:s3:::carlossalazar/*', 'arn:aws:s3:::carlossalazar'],
        },
      ],
    },
    'resource',
    'BucketPolicy',
  );
  const carlos = roleNamed('carlossalazar', identity);

  it('denies the logs bucket explicitly (DenyS3Logs)', () => {
    const result = decide(carlos, 's3:PutObject', [{ arn: 'arn:aws:s3:::carlossalazar-logs/file.txt' }]);

    expect(result.decision).toBe('ExplicitDeny');
    expect(result.resources[0]?.statements[0]?.sid).toBe('DenyS3Logs');
  });

  it('allows his own bucket, where both policies allow', () => {
    const result = decide(carlos, 's3:PutObject', [
      { arn: 'arn:aws:s3:::carlossalazar/file.txt', policy: bucketPolicy },
    ]);

    expect(result.decision).toBe('Allow');
  });

  it('still allows his own bucket with only the bucket policy ("if one allows and the other doesn\'t, still allowed")', () => {
    const bucketOnly = roleNamed('carlossalazar');

    expect(
      decide(bucketOnly, 's3:PutObject', [
        { arn: 'arn:aws:s3:::carlossalazar/file.txt', policy: bucketPolicy },
      ]).decision,
    ).toBe('Allow');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// "The difference between explicit and implicit denies"
describe('IAM User Guide, explicit and implicit denies: AllowGetList and DenyReports', () => {
  const reports = roleNamed(
    'auditor',
    policy({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'AllowGetList', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
        { Sid: 'DenyReports', Effect: 'Deny', Action: 'iam:*Report', Resource: '*' },
      ],
    }),
  );

  it.each([
    ['iam:GetUser', 'Allow'],
    ['iam:ListRoles', 'Allow'],
    ['iam:CreatePolicy', 'ImplicitDeny'],
    ['iam:GetOrganizationsAccessReport', 'ExplicitDeny'],
    ['iam:GenerateCredentialReport', 'ExplicitDeny'],
  ])('%s: %s', (action, decision) => {
    expect(decide(reports, action, [{ arn: '*' }]).decision).toBe(decision);
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
describe('IAM User Guide, conditions with multiple context keys or values', () => {
  const tags = {
    'aws:PrincipalTag/department': ['finance', 'hr', 'legal'],
    'aws:PrincipalTag/role': ['audit', 'security'],
  };
  const users = ['arn:aws:iam::222222222222:user/Ana', 'arn:aws:iam::222222222222:user/Mary'];
  const user = (name: string) => `arn:aws:iam::222222222222:user/${name}`;

  describe('StringEquals and ArnLike', () => {
    const condition = { StringEquals: tags, ArnLike: { 'aws:PrincipalArn': users } };

    it.each<[string, ContextInput, boolean]>([
      [
        'legal, audit, Mary',
        {
          'aws:PrincipalTag/department': 'legal',
          'aws:PrincipalTag/role': 'audit',
          'aws:PrincipalArn': user('Mary'),
        },
        true,
      ],
      [
        'hr, audit, Nikki',
        {
          'aws:PrincipalTag/department': 'hr',
          'aws:PrincipalTag/role': 'audit',
          'aws:PrincipalArn': user('Nikki'),
        },
        false,
      ],
      [
        'hr, payroll, Mary',
        {
          'aws:PrincipalTag/department': 'hr',
          'aws:PrincipalTag/role': 'payroll',
          'aws:PrincipalArn': user('Mary'),
        },
        false,
      ],
      [
        'hr, no role tag, Mary',
        { 'aws:PrincipalTag/department': 'hr', 'aws:PrincipalArn': user('Mary') },
        false,
      ],
      ['no tags, Mary', { 'aws:PrincipalArn': user('Mary') }, false],
    ])('%s: match %j', (_, context, holds) => {
      expect(conditionHolds(condition, context)).toBe(holds);
    });
  });

  describe('StringEquals and ArnNotLike (NOR)', () => {
    const condition = { StringEquals: tags, ArnNotLike: { 'aws:PrincipalArn': users } };

    it.each<[string, ContextInput, boolean]>([
      [
        'legal, audit, Nikki',
        {
          'aws:PrincipalTag/department': 'legal',
          'aws:PrincipalTag/role': 'audit',
          'aws:PrincipalArn': user('Nikki'),
        },
        true,
      ],
      [
        'hr, audit, Mary',
        {
          'aws:PrincipalTag/department': 'hr',
          'aws:PrincipalTag/role': 'audit',
          'aws:PrincipalArn': user('Mary'),
        },
        false,
      ],
      [
        'hr, payroll, Nikki',
        {
          'aws:PrincipalTag/department': 'hr',
          'aws:PrincipalTag/role': 'payroll',
          'aws:PrincipalArn': user('Nikki'),
        },
        false,
      ],
      [
        'hr, no role tag, Nikki',
        { 'aws:PrincipalTag/department': 'hr', 'aws:PrincipalArn': user('Nikki') },
        false,
      ],
      ['no tags, Nikki', { 'aws:PrincipalArn': user('Nikki') }, false],
    ])('%s: match %j', (_, context, holds) => {
      expect(conditionHolds(condition, context)).toBe(holds);
    });
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
describe('IAM User Guide, condition operators', () => {
  // "Amazon Resource Name (ARN) condition operators": StringLike matches, ArnLike does not.
  const pattern = 'arn:aws:someservice:*:111122223333:finance/*';
  const value = 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt';

  it('StringLike lets the first asterisk run over colons', () => {
    expect(conditionHolds({ StringLike: { 'aws:SourceArn': pattern } }, { 'aws:SourceArn': value })).toBe(
      true,
    );
  });

  it('ArnLike matches component by component, so the same pattern fails', () => {
    expect(conditionHolds({ ArnLike: { 'aws:SourceArn': pattern } }, { 'aws:SourceArn': value })).toBe(false);
  });

  // "Numeric condition operators": s3:max-keys up to 10.
  it.each<[ContextInput, boolean]>([
    [{ 's3:max-keys': '10' }, true],
    [{ 's3:max-keys': '11' }, false],
    [{}, false],
  ])('NumericLessThanEquals s3:max-keys 10 with %j: %j', (context, holds) => {
    expect(conditionHolds({ NumericLessThanEquals: { 's3:max-keys': '10' } }, context)).toBe(holds);
  });

  // "Date condition operators": credentials issued after 2020-01-01T00:00:01Z; absent without temporary credentials.
  it.each<[ContextInput, boolean]>([
    [{ 'aws:TokenIssueTime': '2020-06-01T12:00:00Z' }, true],
    [{ 'aws:TokenIssueTime': '2019-12-31T23:59:59Z' }, false],
    [{}, false],
  ])('DateGreaterThan aws:TokenIssueTime with %j: %j', (context, holds) => {
    expect(
      conditionHolds({ DateGreaterThan: { 'aws:TokenIssueTime': '2020-01-01T00:00:01Z' } }, context),
    ).toBe(holds);
  });

  // "IP address condition operators": IPv4 and IPv6 ranges together.
  it.each<[string, boolean]>([
    ['203.0.113.45', true],
    ['2001:db8:1234:5678:abcd::1', true],
    ['198.51.100.7', false],
  ])('IpAddress with 203.0.113.0/24 and 2001:DB8:1234:5678::/64 from %s: %j', (sourceIp, holds) => {
    expect(
      conditionHolds(
        { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } },
        { 'aws:SourceIp': sourceIp },
      ),
    ).toBe(holds);
  });

  // "Boolean condition operators": the BooleanExample statement denies S3 without SSL.
  describe('BooleanExample', () => {
    const denyInsecure = policy({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'BooleanExample',
          Action: 's3:*',
          Effect: 'Deny',
          Resource: ['arn:aws:s3:::DOC-EXAMPLE-BUCKET', 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
        { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      ],
    });

    it.each([
      [false, 'ExplicitDeny'],
      [true, 'Allow'],
    ])('aws:SecureTransport %j: %s', (secure, decision) => {
      expect(
        decide(
          roleNamed('app', denyInsecure),
          's3:GetObject',
          [{ arn: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/a' }],
          { 'aws:SecureTransport': secure },
        ).decision,
      ).toBe(decision);
    });
  });

  // "...IfExists condition operators": RunInstance with StringLikeIfExists, and THISPOLICYDOESNOTWORK without.
  describe('IfExists and ec2:InstanceType', () => {
    const types = ['t1.*', 't2.*', 'm3.*'];

    it.each<[string, ContextInput, boolean]>([
      ['the instance, t2.micro', { 'ec2:InstanceType': 't2.micro' }, true],
      ['the instance, m5.large', { 'ec2:InstanceType': 'm5.large' }, false],
      ['an image, which has no instance type', {}, true],
    ])('StringLikeIfExists on %s: %j', (_, context, holds) => {
      expect(conditionHolds({ StringLikeIfExists: { 'ec2:InstanceType': types } }, context)).toBe(holds);
    });

    it('StringLike alone fails on the resources without the key (THISPOLICYDOESNOTWORK)', () => {
      expect(conditionHolds({ StringLike: { 'ec2:InstanceType': types } }, {})).toBe(false);
    });
  });

  // "Condition operator to check existence of condition keys": no temporary credentials.
  it.each<[ContextInput, boolean]>([
    [{}, true],
    [{ 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' }, false],
  ])('Null aws:TokenIssueTime "true" with %j: %j', (context, holds) => {
    expect(conditionHolds({ Null: { 'aws:TokenIssueTime': 'true' } }, context)).toBe(holds);
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
// ("Creating a condition that tests multiple key values (set operations)": the DynamoDB Thread table)
describe('IAM User Guide, set operations on dynamodb:requestedAttributes', () => {
  it.each<[string[], boolean]>([
    [['PostDateTime', 'Message'], true],
    [['PostDateTime', 'UserName'], false],
    [['ID'], false],
  ])('ForAllValues:StringLike allowing PostDateTime, Message, Tags; request %j: %j', (attributes, holds) => {
    const condition = {
      'ForAllValues:StringLike': { 'dynamodb:requestedAttributes': ['PostDateTime', 'Message', 'Tags'] },
    };

    expect(conditionHolds(condition, { 'dynamodb:requestedAttributes': attributes })).toBe(holds);
  });

  it.each<[string[], string]>([
    [['UserName', 'Message', 'PostDateTime'], 'ExplicitDeny'],
    [['UserName'], 'Allow'],
  ])('ForAnyValue:StringLike denying ID, PostDateTime; PutItem of %j: %s', (attributes, decision) => {
    const table = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Thread`;
    const rules = policy({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: 'dynamodb:PutItem',
          Resource: table,
          Condition: { 'ForAnyValue:StringLike': { 'dynamodb:requestedAttributes': ['ID', 'PostDateTime'] } },
        },
        { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: table },
      ],
    });

    expect(
      decide(roleNamed('forum', rules), 'dynamodb:PutItem', [{ arn: table }], {
        'dynamodb:requestedAttributes': attributes,
      }).decision,
    ).toBe(decision);
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html
// "Deny a single policy condition value for a multivalued context key" (DenyRestrictedTags)
describe('IAM User Guide, multivalued context key examples: DenyRestrictedTags', () => {
  const condition = { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } };

  it.each<[string, ContextInput, boolean]>([
    ['key1:legal', { 'aws:TagKeys': ['key1:legal'] }, false],
    ['key1:hr and key1:personnel', { 'aws:TagKeys': ['key1:hr', 'key1:personnel'] }, false],
    ['key2:audit', { 'aws:TagKeys': ['key2:audit'] }, true],
    // "The ForAllValues set operator also returns true if there are no context keys in the request."
    ['no aws:TagKeys', {}, true],
  ])('tag keys %s: match %j', (_, context, holds) => {
    expect(conditionHolds(condition, context)).toBe(holds);
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
// "All principals": UsePrincipalArnInsteadOfNotPrincipalWithDeny
describe('IAM User Guide, Principal: a Deny on "*" except one principal', () => {
  const bucketPolicy = policy(
    {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'UsePrincipalArnInsteadOfNotPrincipalWithDeny',
          Effect: 'Deny',
          Action: 's3:*',
          Principal: '*',
          Resource: ['arn:aws:s3:::BUCKETNAME/*', 'arn:aws:s3:::BUCKETNAME'],
          Condition: { ArnNotEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/user-name` } },
        },
      ],
    },
    'resource',
  );
  const allowS3 = policy({
    Version: '2012-10-17',
    Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' },
  });

  it.each([
    ['user-name', 'Allow'],
    ['someone-else', 'ExplicitDeny'],
  ])('%s: %s', (name, decision) => {
    expect(
      decide(roleNamed(name, allowS3), 's3:GetObject', [
        { arn: 'arn:aws:s3:::BUCKETNAME/x', policy: bucketPolicy },
      ]).decision,
    ).toBe(decision);
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
// The home-directory policy: s3:prefix and Resource with ${aws:username}.
describe('IAM User Guide, variables: a home directory per user', () => {
  const home = roleNamed(
    'David',
    policy({
      Version: '2012-10-17',
      Statement: [
        {
          Action: ['s3:ListBucket'],
          Effect: 'Allow',
          Resource: ['arn:aws:s3:::mybucket'],
          Condition: { StringLike: { 's3:prefix': ['${aws:username}/*'] } },
        },
        {
          Action: ['s3:GetObject', 's3:PutObject'],
          Effect: 'Allow',
          Resource: ['arn:aws:s3:::mybucket/${aws:username}/*'],
        },
      ],
    }),
  );
  const asDavid = { 'aws:username': 'David' };

  it.each<[string, string, ContextInput, string]>([
    ['s3:PutObject', 'arn:aws:s3:::mybucket/David/notes.txt', asDavid, 'Allow'],
    ['s3:PutObject', 'arn:aws:s3:::mybucket/Adele/notes.txt', asDavid, 'ImplicitDeny'],
    ['s3:ListBucket', 'arn:aws:s3:::mybucket', { ...asDavid, 's3:prefix': 'David/2026/' }, 'Allow'],
    ['s3:ListBucket', 'arn:aws:s3:::mybucket', { ...asDavid, 's3:prefix': 'Adele/' }, 'ImplicitDeny'],
  ])('%s on %s with %j: %s', (action, arn, context, decision) => {
    expect(decide(home, action, [{ arn }], context).decision).toBe(decision);
  });
});

// https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html
// "Examining the key policy": the default key policy's four example statements.
describe('AWS KMS Developer Guide, examining the key policy', () => {
  const keyArn = `arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const keyPolicy = policy(
    {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Enable IAM policies',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:root' },
          Action: 'kms:*',
          Resource: '*',
        },
        {
          Sid: 'Allow access for Key Administrators',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:role/KMSKeyAdmin' },
          Action: [
            'kms:Describe*',
            'kms:Put*',
            'kms:Create*',
            'kms:Update*',
            'kms:Enable*',
            'kms:Revoke*',
            'kms:List*',
            'kms:Disable*',
            'kms:Get*',
            'kms:Delete*',
            'kms:ScheduleKeyDeletion',
            'kms:CancelKeyDeletion',
          ],
          Resource: '*',
        },
        {
          Sid: 'Allow use of the key',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:role/EncryptionApp' },
          Action: ['kms:DescribeKey', 'kms:GenerateDataKey*', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:Decrypt'],
          Resource: '*',
        },
        {
          Sid: 'Allow attachment of persistent resources',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:role/EncryptionApp' },
          Action: ['kms:ListGrants', 'kms:CreateGrant', 'kms:RevokeGrant'],
          Resource: '*',
          Condition: { Bool: { 'kms:GrantIsForAWSResource': true } },
        },
      ],
    },
    'resource',
    'KeyPolicy',
  );
  const inAccount = (name: string): RolePrincipal => ({
    kind: 'role',
    roleArn: `arn:aws:iam::111122223333:role/${name}`,
    sessionName: name,
    policies: [],
  });

  it.each<[string, string, ContextInput, string]>([
    ['EncryptionApp', 'kms:Decrypt', {}, 'Allow'],
    ['EncryptionApp', 'kms:GenerateDataKeyWithoutPlaintext', {}, 'Allow'],
    ['EncryptionApp', 'kms:ScheduleKeyDeletion', {}, 'ImplicitDeny'],
    ['EncryptionApp', 'kms:CreateGrant', { 'kms:GrantIsForAWSResource': true }, 'Allow'],
    ['EncryptionApp', 'kms:CreateGrant', { 'kms:GrantIsForAWSResource': false }, 'ImplicitDeny'],
    ['KMSKeyAdmin', 'kms:ScheduleKeyDeletion', {}, 'Allow'],
    ['KMSKeyAdmin', 'kms:Decrypt', {}, 'ImplicitDeny'],
    // Statement 1 enables IAM policies, but without one nobody else is allowed.
    ['SomeoneElse', 'kms:Decrypt', {}, 'ImplicitDeny'],
  ])('%s %s with %j: %s', (name, action, context, decision) => {
    expect(
      decide(inAccount(name), action, [{ arn: keyArn, policy: keyPolicy, kmsKey: true }], context).decision,
    ).toBe(decision);
  });
});
