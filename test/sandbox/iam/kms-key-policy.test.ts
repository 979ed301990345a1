/**
 * KMS keys: the key policy must allow, itself or by enabling IAM policies with a statement that
 * names the account. Sources: AWS KMS Developer Guide, "Key policies in AWS KMS", "Default key
 * policy" and "Examining the key policy"; IAM User Guide, "Policy evaluation logic" (key policies
 * "must explicitly allow access for principals").
 */
import { describe, expect, it } from 'vitest';
import { ACCOUNT, decide, identityPolicy, KEY_ARN, ROLE_ARN, resourcePolicy, role } from './support.ts';

// The statement of the default key policy: "Allows access to the AWS account and enables IAM policies".
const enableIamPolicies = {
  Sid: 'Enable IAM User Permissions',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  Action: 'kms:*',
  Resource: '*',
};
const useTheKey = identityPolicy(
  [{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: KEY_ARN }],
  'UseKey',
);

describe('a key policy that enables IAM policies', () => {
  const keyPolicy = resourcePolicy([enableIamPolicies], 'KeyPolicy');

  it('lets an identity policy allow', () => {
    const result = decide(role(useTheKey), 'kms:Decrypt', [
      { arn: KEY_ARN, policy: keyPolicy, kmsKey: true },
    ]);

    expect(result.decision).toBe('Allow');
    expect(result.resources[0]).toMatchObject({
      reason: 'AllowedByIdentityPolicyEnabledByKeyPolicy',
      statements: [
        { policyName: 'KeyPolicy', policyType: 'resource', sid: 'Enable IAM User Permissions' },
        { policyName: 'UseKey', policyType: 'identity', index: 0 },
      ],
    });
  });

  it('allows nothing by itself', () => {
    const result = decide(role(), 'kms:Decrypt', [{ arn: KEY_ARN, policy: keyPolicy, kmsKey: true }]);

    expect(result.resources[0]).toMatchObject({ decision: 'ImplicitDeny', reason: 'NoAllow' });
  });

  it('enables only the actions its statement allows', () => {
    const describeOnly = resourcePolicy([{ ...enableIamPolicies, Action: 'kms:Describe*' }]);

    expect(
      decide(role(useTheKey), 'kms:Decrypt', [{ arn: KEY_ARN, policy: describeOnly, kmsKey: true }]).decision,
    ).toBe('ImplicitDeny');
  });

  it('enables IAM policies only under its condition', () => {
    const viaS3 = resourcePolicy([
      {
        ...enableIamPolicies,
        Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
      },
    ]);
    const resources = [{ arn: KEY_ARN, policy: viaS3, kmsKey: true }];

    expect(
      decide(role(useTheKey), 'kms:Decrypt', resources, { 'kms:ViaService': 's3.us-east-1.amazonaws.com' })
        .decision,
    ).toBe('Allow');
    expect(decide(role(useTheKey), 'kms:Decrypt', resources).decision).toBe('ImplicitDeny');
  });

  it('enables IAM policies also when it names the account by its id', () => {
    const byId = resourcePolicy([{ ...enableIamPolicies, Principal: { AWS: ACCOUNT } }]);

    expect(
      decide(role(useTheKey), 'kms:Decrypt', [{ arn: KEY_ARN, policy: byId, kmsKey: true }]).decision,
    ).toBe('Allow');
  });
});

describe('a key policy that does not enable IAM policies', () => {
  const keyPolicy = resourcePolicy([
    {
      Sid: 'KeyAdministrators',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/key-admin` },
      Action: 'kms:*',
      Resource: '*',
    },
  ]);

  it('makes an identity policy allow ineffective', () => {
    const result = decide(role(useTheKey), 'kms:Decrypt', [
      { arn: KEY_ARN, policy: keyPolicy, kmsKey: true },
    ]);

    expect(result.decision).toBe('ImplicitDeny');
    expect(result.resources[0]).toMatchObject({
      reason: 'KeyPolicyDoesNotEnableIamPolicies',
      statements: [{ policyName: 'UseKey', index: 0 }],
    });
  });

  it('still allows the principals it names, without any identity policy', () => {
    const naming = resourcePolicy([
      { Effect: 'Allow', Principal: { AWS: ROLE_ARN }, Action: 'kms:Decrypt', Resource: '*' },
    ]);

    const result = decide(role(), 'kms:Decrypt', [{ arn: KEY_ARN, policy: naming, kmsKey: true }]);

    expect(result.resources[0]).toMatchObject({ decision: 'Allow', reason: 'AllowedByResourcePolicy' });
  });
});

describe('denies on a KMS key', () => {
  it('come from identity policies without the key policy allowing anything', () => {
    const keyPolicy = resourcePolicy([
      { Effect: 'Allow', Principal: { AWS: ROLE_ARN }, Action: 'kms:*', Resource: '*' },
    ]);
    const noDecrypt = identityPolicy([{ Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' }]);

    expect(
      decide(role(noDecrypt), 'kms:Decrypt', [{ arn: KEY_ARN, policy: keyPolicy, kmsKey: true }]).decision,
    ).toBe('ExplicitDeny');
  });

  it('come from the key policy over its own allow', () => {
    const keyPolicy = resourcePolicy([
      enableIamPolicies,
      { Effect: 'Deny', Principal: '*', Action: 'kms:ScheduleKeyDeletion', Resource: '*' },
    ]);
    const admin = identityPolicy([{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }]);

    expect(
      decide(role(admin), 'kms:ScheduleKeyDeletion', [{ arn: KEY_ARN, policy: keyPolicy, kmsKey: true }])
        .decision,
    ).toBe('ExplicitDeny');
  });
});

describe('a KMS key without a key policy', () => {
  it('allows nothing, whatever the identity policies say', () => {
    const result = decide(role(useTheKey), 'kms:Decrypt', [{ arn: KEY_ARN, kmsKey: true }]);

    expect(result.resources[0]).toMatchObject({ decision: 'ImplicitDeny', reason: 'KmsKeyWithoutKeyPolicy' });
  });
});

describe('KMS condition keys', () => {
  const keyPolicy = resourcePolicy([enableIamPolicies]);
  const resources = [{ arn: KEY_ARN, policy: keyPolicy, kmsKey: true }];

  it('kms:EncryptionContext:<key> narrows an identity allow to one context', () => {
    const policy = identityPolicy([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: KEY_ARN,
        Condition: { StringEquals: { 'kms:EncryptionContext:caretaker:set': 'orders' } },
      },
    ]);

    expect(
      decide(role(policy), 'kms:Decrypt', resources, { 'kms:EncryptionContext:caretaker:set': 'orders' })
        .decision,
    ).toBe('Allow');
    expect(
      decide(role(policy), 'kms:Decrypt', resources, { 'kms:EncryptionContext:caretaker:set': 'billing' })
        .decision,
    ).toBe('ImplicitDeny');
  });

  it('kms:GrantIsForAWSResource allows CreateGrant only for AWS services', () => {
    const policy = identityPolicy([
      {
        Effect: 'Allow',
        Action: 'kms:CreateGrant',
        Resource: KEY_ARN,
        Condition: { Bool: { 'kms:GrantIsForAWSResource': true } },
      },
    ]);

    expect(
      decide(role(policy), 'kms:CreateGrant', resources, { 'kms:GrantIsForAWSResource': true }).decision,
    ).toBe('Allow');
    expect(
      decide(role(policy), 'kms:CreateGrant', resources, { 'kms:GrantIsForAWSResource': false }).decision,
    ).toBe('ImplicitDeny');
  });
});
