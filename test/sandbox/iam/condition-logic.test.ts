/**
 * How condition blocks combine and what a missing key does: set qualifiers, IfExists, Null, and
 * AND / OR / NOR across operators, keys and values. Sources: IAM User Guide, "Condition
 * operators", "Conditions with multiple context keys or values", "Single-valued vs. multivalued
 * context keys" and "Multivalued context key examples".
 */
import { describe, expect, it } from 'vitest';
import { conditionHolds } from './support.ts';

describe('a key the request does not have', () => {
  it('makes a positive operator false', () => {
    expect(conditionHolds({ StringEquals: { 'aws:ResourceTag/caretaker:managed': 'true' } }, {})).toBe(false);
  });

  it('makes a negated operator true (StringNotEquals)', () => {
    expect(conditionHolds({ StringNotEquals: { 'aws:ResourceTag/caretaker:managed': 'true' } }, {})).toBe(
      true,
    );
  });

  it('makes a negated operator true (ArnNotLike)', () => {
    expect(conditionHolds({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, {})).toBe(true);
  });

  it('makes an IfExists operator true', () => {
    expect(
      conditionHolds({ StringEqualsIfExists: { 'aws:ResourceTag/caretaker:managed': 'true' } }, {}),
    ).toBe(true);
  });

  it('leaves an IfExists operator to compare a key that is present', () => {
    const condition = { StringEqualsIfExists: { 'aws:ResourceTag/caretaker:managed': 'true' } };

    expect(conditionHolds(condition, { 'aws:ResourceTag/caretaker:managed': 'false' })).toBe(false);
    expect(conditionHolds(condition, { 'aws:ResourceTag/caretaker:managed': 'true' })).toBe(true);
  });

  it('keeps a negated IfExists operator true, so a Deny with it still denies a request without the key', () => {
    expect(conditionHolds({ StringNotEqualsIfExists: { 'aws:ResourceTag/env': 'prod' } }, {})).toBe(true);
  });
});

describe('Null', () => {
  it('"true" holds when the key is absent', () => {
    expect(conditionHolds({ Null: { 'aws:TokenIssueTime': 'true' } }, {})).toBe(true);
  });

  it('"true" does not hold when the key is present', () => {
    expect(
      conditionHolds(
        { Null: { 'aws:TokenIssueTime': 'true' } },
        { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' },
      ),
    ).toBe(false);
  });

  it('"false" holds when the key is present', () => {
    expect(conditionHolds({ Null: { 'aws:RequestTag/env': false } }, { 'aws:RequestTag/env': 'prod' })).toBe(
      true,
    );
  });

  it('"false" does not hold when the key is absent', () => {
    expect(conditionHolds({ Null: { 'aws:RequestTag/env': 'false' } }, {})).toBe(false);
  });

  it('treats a multivalued key with no values as absent', () => {
    expect(conditionHolds({ Null: { 'aws:TagKeys': 'true' } }, { 'aws:TagKeys': [] })).toBe(true);
  });
});

describe('ForAllValues', () => {
  const allowed = {
    'ForAllValues:StringEquals': { 'aws:TagKeys': ['caretaker:managed', 'caretaker:promoted-at'] },
  };

  it('holds when every request value matches a policy value', () => {
    expect(conditionHolds(allowed, { 'aws:TagKeys': ['caretaker:promoted-at', 'caretaker:managed'] })).toBe(
      true,
    );
  });

  it('does not hold when one request value matches no policy value', () => {
    expect(conditionHolds(allowed, { 'aws:TagKeys': ['caretaker:managed', 'owner'] })).toBe(false);
  });

  it('holds when the key is missing', () => {
    expect(conditionHolds(allowed, {})).toBe(true);
  });

  it('holds when the key has no values', () => {
    expect(conditionHolds(allowed, { 'aws:TagKeys': [] })).toBe(true);
  });

  it('with a negated operator, holds when no request value matches any policy value', () => {
    const condition = { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } };

    expect(conditionHolds(condition, { 'aws:TagKeys': ['key2:audit', 'owner'] })).toBe(true);
    expect(conditionHolds(condition, { 'aws:TagKeys': ['key2:audit', 'key1:legal'] })).toBe(false);
  });
});

describe('ForAnyValue', () => {
  const forbidden = { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['caretaker:managed'] } };

  it('holds when one request value matches a policy value', () => {
    expect(conditionHolds(forbidden, { 'aws:TagKeys': ['owner', 'caretaker:managed'] })).toBe(true);
  });

  it('does not hold when no request value matches', () => {
    expect(conditionHolds(forbidden, { 'aws:TagKeys': ['owner', 'env'] })).toBe(false);
  });

  it('does not hold when the key is missing', () => {
    expect(conditionHolds(forbidden, {})).toBe(false);
  });

  it('does not hold when the key has no values', () => {
    expect(conditionHolds(forbidden, { 'aws:TagKeys': [] })).toBe(false);
  });

  it('with a negated operator, holds when some request value matches no policy value', () => {
    const condition = { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['caretaker:managed', 'owner'] } };

    expect(conditionHolds(condition, { 'aws:TagKeys': ['owner', 'env'] })).toBe(true);
    expect(conditionHolds(condition, { 'aws:TagKeys': ['owner', 'caretaker:managed'] })).toBe(false);
  });

  it('with a negated operator, does not hold when the key is missing', () => {
    expect(conditionHolds({ 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': 'owner' } }, {})).toBe(false);
  });

  it('with IfExists, holds when the key is missing', () => {
    expect(conditionHolds({ 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': 'owner' } }, {})).toBe(true);
  });
});

describe('a multivalued key without a set qualifier', () => {
  it('matches a positive operator when any of its values matches', () => {
    expect(
      conditionHolds({ StringEquals: { 'aws:TagKeys': 'owner' } }, { 'aws:TagKeys': ['env', 'owner'] }),
    ).toBe(true);
  });

  it('matches a negated operator only when none of its values matches', () => {
    expect(
      conditionHolds({ StringNotEquals: { 'aws:TagKeys': 'owner' } }, { 'aws:TagKeys': ['env', 'owner'] }),
    ).toBe(false);
    expect(
      conditionHolds({ StringNotEquals: { 'aws:TagKeys': 'owner' } }, { 'aws:TagKeys': ['env', 'team'] }),
    ).toBe(true);
  });
});

describe('several operators, keys and values', () => {
  it('ORs the values of one key', () => {
    const condition = {
      StringEquals: { 'kms:ViaService': ['s3.us-east-1.amazonaws.com', 'sns.us-east-1.amazonaws.com'] },
    };

    expect(conditionHolds(condition, { 'kms:ViaService': 'sns.us-east-1.amazonaws.com' })).toBe(true);
    expect(conditionHolds(condition, { 'kms:ViaService': 'rds.us-east-1.amazonaws.com' })).toBe(false);
  });

  it('NORs the values of one key under a negated operator', () => {
    const condition = { StringNotEquals: { 'aws:SourceAccount': ['111122223333', '444455556666'] } };

    expect(conditionHolds(condition, { 'aws:SourceAccount': '444455556666' })).toBe(false);
    expect(conditionHolds(condition, { 'aws:SourceAccount': '999999999999' })).toBe(true);
  });

  it('ANDs the keys under one operator', () => {
    const condition = {
      StringEquals: { 'aws:SourceAccount': '111122223333', 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
    };

    expect(
      conditionHolds(condition, {
        'aws:SourceAccount': '111122223333',
        'kms:ViaService': 's3.us-east-1.amazonaws.com',
      }),
    ).toBe(true);
    expect(
      conditionHolds(condition, {
        'aws:SourceAccount': '111122223333',
        'kms:ViaService': 'sns.us-east-1.amazonaws.com',
      }),
    ).toBe(false);
  });

  it('ANDs the operators', () => {
    const condition = {
      Bool: { 'aws:SecureTransport': 'true' },
      StringLike: { 's3:prefix': 'backups/*' },
    };

    expect(conditionHolds(condition, { 'aws:SecureTransport': true, 's3:prefix': 'backups/2026/' })).toBe(
      true,
    );
    expect(conditionHolds(condition, { 'aws:SecureTransport': false, 's3:prefix': 'backups/2026/' })).toBe(
      false,
    );
  });

  it('treats one value in an array like the value alone', () => {
    expect(
      conditionHolds(
        { StringEquals: { 's3:x-amz-server-side-encryption': ['aws:kms'] } },
        { 's3:x-amz-server-side-encryption': 'aws:kms' },
      ),
    ).toBe(true);
  });
});
