/**
 * Denials in words: who, which action, which resource, and the statement that denied or that no
 * statement allowed.
 */
import { describe, expect, it } from 'vitest';
import { explainDenial } from '../../../sandbox/iam/index.ts';
import {
  ACCOUNT,
  BUCKET_ARN,
  decide,
  identityPolicy,
  KEY_ARN,
  OBJECT_ARN,
  resourcePolicy,
  role,
  SESSION_ARN,
} from './support.ts';

describe('explainDenial', () => {
  it('says nothing about an allowed request', () => {
    const allowed = decide(
      role(identityPolicy([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }])),
      's3:GetObject',
      [{ arn: OBJECT_ARN }],
    );

    expect(explainDenial(allowed)).toEqual([]);
  });

  it('names the denying statement of a resource policy', () => {
    const bucketPolicy = resourcePolicy(
      [
        {
          Sid: 'DenyInsecure',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: `${BUCKET_ARN}/*`,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
      'BackupsBucketPolicy',
    );

    const result = decide(role(), 's3:GetObject', [{ arn: OBJECT_ARN, policy: bucketPolicy }], {
      'aws:SecureTransport': false,
    });

    expect(explainDenial(result)).toEqual([
      `${SESSION_ARN} is not authorized to perform: s3:GetObject on resource: ${OBJECT_ARN} ` +
        'with an explicit deny in policy BackupsBucketPolicy (resource-based), statement 0 "DenyInsecure"',
    ]);
  });

  it('says that no policy allows', () => {
    const result = decide(role(), 's3:DeleteObject', [{ arn: OBJECT_ARN }]);

    expect(explainDenial(result)).toEqual([
      `${SESSION_ARN} is not authorized to perform: s3:DeleteObject on resource: ${OBJECT_ARN} ` +
        'because no identity-based or resource-based policy allows the s3:DeleteObject action',
    ]);
  });

  it('names the identity statement a KMS key policy leaves without effect', () => {
    const keyPolicy = resourcePolicy([
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/admin` },
        Action: 'kms:*',
        Resource: '*',
      },
    ]);
    const useKey = identityPolicy(
      [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY_ARN }],
      'BackupRolePolicy',
    );

    const [line] = explainDenial(
      decide(role(useKey), 'kms:Decrypt', [{ arn: KEY_ARN, policy: keyPolicy, kmsKey: true }]),
    );

    expect(line).toContain(
      'because the KMS key policy neither allows the principal nor enables IAM policies for kms:Decrypt',
    );
    expect(line).toContain(
      '(policy BackupRolePolicy (identity-based), statement 0 would allow it otherwise)',
    );
  });

  it('says that a KMS key has no key policy', () => {
    const [line] = explainDenial(decide(role(), 'kms:Decrypt', [{ arn: KEY_ARN, kmsKey: true }]));

    expect(line).toMatch(/because the KMS key has no key policy$/);
  });

  it('gives one line per resource denied, and none for the resources allowed', () => {
    const policy = identityPolicy([{ Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET_ARN}/*` }]);

    const lines = explainDenial(
      decide(role(policy), 's3:GetObject', [
        { arn: OBJECT_ARN },
        { arn: 'arn:aws:s3:::a/x' },
        { arn: 'arn:aws:s3:::b/y' },
      ]),
    );

    expect(lines.map((line) => line.match(/on resource: (\S+)/)?.[1])).toEqual([
      'arn:aws:s3:::a/x',
      'arn:aws:s3:::b/y',
    ]);
  });
});
