/**
 * Policy variables in Resource and in condition values. Source: IAM User Guide, "IAM policy
 * elements: Variables and tags".
 */
import { describe, expect, it } from 'vitest';
import { PolicyGrammarError, parsePolicy } from '../../../sandbox/iam/index.ts';
import {
  ACCOUNT,
  allowCovers,
  BUCKET_ARN,
  conditionHolds,
  decide,
  identityPolicy,
  ROLE_ARN,
  role,
} from './support.ts';

describe('policy variables in Resource', () => {
  const home = { Action: 's3:GetObject', Resource: `${BUCKET_ARN}/home/\${aws:PrincipalTag/team}/*` };

  it('are replaced by the request value', () => {
    expect(
      allowCovers(home, 's3:GetObject', `${BUCKET_ARN}/home/platform/notes`, {
        'aws:PrincipalTag/team': 'platform',
      }),
    ).toBe(true);
  });

  it('do not match another value', () => {
    expect(
      allowCovers(home, 's3:GetObject', `${BUCKET_ARN}/home/data/notes`, {
        'aws:PrincipalTag/team': 'platform',
      }),
    ).toBe(false);
  });

  it('make the statement not apply when the key is missing', () => {
    expect(allowCovers(home, 's3:GetObject', `${BUCKET_ARN}/home/platform/notes`)).toBe(false);
  });

  it('use the default value when the key is missing', () => {
    const withDefault = {
      Action: 's3:GetObject',
      Resource: `${BUCKET_ARN}/home/\${aws:PrincipalTag/team, 'shared'}/*`,
    };

    expect(allowCovers(withDefault, 's3:GetObject', `${BUCKET_ARN}/home/shared/notes`)).toBe(true);
  });

  it('are resolved from the principal: aws:PrincipalArn is the role ARN', () => {
    const byRole = { Action: 's3:GetObject', Resource: `${BUCKET_ARN}/\${aws:PrincipalAccount}/*` };

    expect(allowCovers(byRole, 's3:GetObject', `${BUCKET_ARN}/${ACCOUNT}/report`)).toBe(true);
  });

  it('insert a value literally: its * is no wildcard', () => {
    expect(
      allowCovers(home, 's3:GetObject', `${BUCKET_ARN}/home/platform/notes`, {
        'aws:PrincipalTag/team': '*',
      }),
    ).toBe(false);
  });

  it('cannot come from a multivalued key', () => {
    const byTagKeys = { Action: 's3:GetObject', Resource: `${BUCKET_ARN}/\${aws:TagKeys}/*` };

    expect(
      allowCovers(byTagKeys, 's3:GetObject', `${BUCKET_ARN}/owner/x`, { 'aws:TagKeys': ['owner'] }),
    ).toBe(false);
  });

  it('are refused before the resource part of the ARN', () => {
    const document = {
      Version: '2012-10-17',
      Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:${aws:RequestedRegion}::x' },
    };

    expect(() => parsePolicy(document, { name: 'P', type: 'identity' })).toThrow(PolicyGrammarError);
  });

  it('are literal text in a 2008-10-17 policy', () => {
    const literal = `${BUCKET_ARN}/\${aws:username}`;
    const policy = identityPolicy(
      [{ Effect: 'Allow', Action: 's3:GetObject', Resource: literal }],
      'Old',
      '2008-10-17',
    );

    expect(
      decide(role(policy), 's3:GetObject', [{ arn: literal }], { 'aws:username': 'carlos' }).decision,
    ).toBe('Allow');
    expect(
      decide(role(policy), 's3:GetObject', [{ arn: `${BUCKET_ARN}/carlos` }], { 'aws:username': 'carlos' })
        .decision,
    ).toBe('ImplicitDeny');
  });

  it('are literal text in a policy without Version, which IAM reads as 2008-10-17', () => {
    const policy = parsePolicy(
      { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET_ARN}/\${aws:username}` } },
      { name: 'NoVersion', type: 'identity' },
    );

    expect(
      decide(role(policy), 's3:GetObject', [{ arn: `${BUCKET_ARN}/carlos` }], { 'aws:username': 'carlos' })
        .decision,
    ).toBe('ImplicitDeny');
  });

  it('in condition values are literal text in a 2008-10-17 policy', () => {
    expect(
      conditionHolds(
        { StringEquals: { 's3:prefix': '${aws:username}' } },
        { 's3:prefix': '${aws:username}', 'aws:username': 'x' },
        '2008-10-17',
      ),
    ).toBe(true);
  });
});

describe('policy variables in condition values', () => {
  it('are resolved for string operators', () => {
    const condition = { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } };

    expect(
      conditionHolds(condition, { 'aws:ResourceTag/team': 'platform', 'aws:PrincipalTag/team': 'platform' }),
    ).toBe(true);
    expect(
      conditionHolds(condition, { 'aws:ResourceTag/team': 'data', 'aws:PrincipalTag/team': 'platform' }),
    ).toBe(false);
  });

  it('are resolved for ARN operators, across the ARN components', () => {
    expect(
      conditionHolds(
        { ArnEquals: { 'aws:SourceArn': '${aws:PrincipalArn}' } },
        { 'aws:SourceArn': ROLE_ARN },
      ),
    ).toBe(true);
  });

  it('keep the wildcards of the text around them under StringLike', () => {
    const condition = { StringLike: { 's3:prefix': 'home/${aws:PrincipalTag/team}/*' } };

    expect(
      conditionHolds(condition, { 's3:prefix': 'home/platform/2026/', 'aws:PrincipalTag/team': 'platform' }),
    ).toBe(true);
  });

  it('are not resolved for numeric operators', () => {
    const document = {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: '*',
        Condition: { NumericLessThan: { 's3:max-keys': '${aws:PrincipalTag/limit}' } },
      },
    };

    expect(() => parsePolicy(document, { name: 'P', type: 'identity' })).toThrow(
      /NumericLessThan needs a number/,
    );
  });

  it('make a negated condition not apply either when the key is missing', () => {
    expect(
      conditionHolds(
        { StringNotEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } },
        { 'aws:ResourceTag/team': 'data' },
      ),
    ).toBe(false);
  });
});

describe('escapes', () => {
  it('${*} is a literal asterisk under StringLike', () => {
    const condition = { StringLike: { 's3:prefix': 'notes${*}' } };

    expect(conditionHolds(condition, { 's3:prefix': 'notes*' })).toBe(true);
    expect(conditionHolds(condition, { 's3:prefix': 'notes-2026' })).toBe(false);
  });

  it('${?} is a literal question mark under StringLike', () => {
    const condition = { StringLike: { 's3:prefix': 'why${?}' } };

    expect(conditionHolds(condition, { 's3:prefix': 'why?' })).toBe(true);
    expect(conditionHolds(condition, { 's3:prefix': 'whyx' })).toBe(false);
  });

  it('${$} is a literal dollar sign', () => {
    expect(conditionHolds({ StringEquals: { 's3:prefix': 'cost${$}' } }, { 's3:prefix': 'cost$' })).toBe(
      true,
    );
  });
});
