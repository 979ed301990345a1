/**
 * The policy grammar: what parses, and every problem a malformed document is refused for, with
 * its path. Source: IAM User Guide, "IAM JSON policy element reference".
 */
import { describe, expect, it } from 'vitest';
import { PolicyGrammarError, parsePolicy } from '../../../sandbox/iam/index.ts';

const allow = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };

/** The problems reported for a document, as `path: message`. */
function problemsOf(document: unknown, type: 'identity' | 'resource' = 'identity'): string[] {
  try {
    parsePolicy(document, { name: 'TestPolicy', type });
  } catch (error) {
    if (error instanceof PolicyGrammarError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('a valid policy', () => {
  it('parses with Statement as an array', () => {
    const policy = parsePolicy(
      { Version: '2012-10-17', Statement: [allow, { ...allow, Sid: 'Second' }] },
      { name: 'P', type: 'identity' },
    );

    expect(policy.statements.map((s) => [s.index, s.sid])).toEqual([
      [0, undefined],
      [1, 'Second'],
    ]);
  });

  it('parses with Statement as one object', () => {
    expect(
      parsePolicy({ Version: '2012-10-17', Statement: allow }, { name: 'P', type: 'identity' }).statements,
    ).toHaveLength(1);
  });

  it('parses from JSON text', () => {
    const policy = parsePolicy(JSON.stringify({ Version: '2012-10-17', Id: 'x', Statement: [allow] }), {
      name: 'P',
      type: 'identity',
    });

    expect(policy).toMatchObject({ name: 'P', type: 'identity', version: '2012-10-17' });
  });

  it('reads a policy without Version as the 2008-10-17 language', () => {
    expect(parsePolicy({ Statement: [allow] }, { name: 'P', type: 'identity' }).version).toBe('2008-10-17');
  });

  it('takes numbers and booleans as condition values', () => {
    const document = {
      Version: '2012-10-17',
      Statement: {
        ...allow,
        Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 }, Bool: { 'aws:SecureTransport': true } },
      },
    };

    expect(problemsOf(document)).toEqual([]);
  });

  it('takes an empty Statement list, which allows nothing', () => {
    expect(problemsOf({ Version: '2012-10-17', Statement: [] })).toEqual([]);
  });
});

describe('a malformed document', () => {
  it('is refused when it is not JSON', () => {
    expect(problemsOf('{"Statement": ')[0]).toMatch(/^\(document\): not JSON/);
  });

  it('is refused when it is not an object', () => {
    expect(problemsOf([allow])).toEqual(['(document): expected an object, got an array']);
  });

  it('is refused with an element that is not a policy element', () => {
    expect(problemsOf({ Version: '2012-10-17', Statements: [allow] })).toEqual([
      'Statements: not a policy element (Version, Id, Statement)',
      'Statement: a policy needs a Statement',
    ]);
  });

  it('is refused with an unknown Version', () => {
    expect(problemsOf({ Version: '2012-10-18', Statement: [allow] })).toEqual([
      'Version: expected "2012-10-17" or "2008-10-17", got "2012-10-18"',
    ]);
  });

  it('is refused with a statement that is not an object', () => {
    expect(problemsOf({ Version: '2012-10-17', Statement: ['s3:GetObject'] })).toEqual([
      'Statement[0]: expected a statement object, got "s3:GetObject"',
    ]);
  });

  it('is refused with a misspelt statement element', () => {
    expect(problemsOf({ Version: '2012-10-17', Statement: [{ ...allow, Actions: 's3:PutObject' }] })).toEqual(
      ['Statement[0].Actions: not a statement element'],
    );
  });

  it('is refused with an Effect other than Allow or Deny', () => {
    expect(problemsOf({ Version: '2012-10-17', Statement: [{ ...allow, Effect: 'allow' }] })).toEqual([
      'Statement[0].Effect: expected "Allow" or "Deny", got "allow"',
    ]);
  });

  it('is refused with both Action and NotAction', () => {
    expect(
      problemsOf({ Version: '2012-10-17', Statement: [{ ...allow, NotAction: 's3:PutObject' }] }),
    ).toEqual(['Statement[0]: a statement has either Action or NotAction, not both']);
  });

  it('is refused without Action or NotAction', () => {
    expect(problemsOf({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] })).toEqual([
      'Statement[0]: a statement needs Action or NotAction',
    ]);
  });

  it('is refused with an action that is not service:Action', () => {
    expect(
      problemsOf({ Version: '2012-10-17', Statement: [{ ...allow, Action: ['s3:GetObject', 'GetItem'] }] }),
    ).toEqual(['Statement[0].Action[1]: "GetItem" is not an action (service:Action, or *)']);
  });

  it('is refused with an empty list of actions', () => {
    expect(problemsOf({ Version: '2012-10-17', Statement: [{ ...allow, Action: [] }] })).toEqual([
      'Statement[0].Action: expected at least one value, got an empty array',
    ]);
  });

  it('is refused without Resource or NotResource', () => {
    expect(problemsOf({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*' }] })).toEqual([
      'Statement[0]: a statement needs Resource or NotResource',
    ]);
  });

  it('is refused with an unresolved intrinsic, named as such', () => {
    const problems = problemsOf({
      Version: '2012-10-17',
      Statement: [{ ...allow, Resource: { 'Fn::GetAtt': ['Bucket', 'Arn'] } }],
    });

    expect(problems).toEqual([
      expect.stringMatching(
        /^Statement\[0\]\.Resource: expected a non-empty string, got an object .*unresolved intrinsic/,
      ),
    ]);
  });

  it('lists every problem, not only the first', () => {
    expect(
      problemsOf({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe' }, { ...allow, Sid: 7 }] }),
    ).toHaveLength(4);
  });

  it('is refused with an error that names the policy', () => {
    expect(() => parsePolicy({ Statement: 'x' }, { name: 'BackupRolePolicy', type: 'identity' })).toThrow(
      expect.objectContaining({
        name: 'PolicyGrammarError',
        policyName: 'BackupRolePolicy',
        message: expect.stringContaining('BackupRolePolicy'),
      }),
    );
  });
});

describe('principals', () => {
  it('are refused in an identity policy', () => {
    expect(problemsOf({ Version: '2012-10-17', Statement: [{ ...allow, Principal: '*' }] })).toEqual([
      'Statement[0].Principal: identity policies cannot name a principal: the principal is the identity',
    ]);
  });

  it('are required in a resource policy', () => {
    expect(problemsOf({ Version: '2012-10-17', Statement: [allow] }, 'resource')).toEqual([
      'Statement[0]: a statement needs Principal or NotPrincipal',
    ]);
  });

  it('take "*", accounts, role and session ARNs and services', () => {
    const principal = {
      AWS: [
        '*',
        '111122223333',
        'arn:aws:iam::111122223333:root',
        'arn:aws:iam::111122223333:role/r',
        'arn:aws:sts::111122223333:assumed-role/r/s',
      ],
      Service: 'events.amazonaws.com',
    };

    expect(
      problemsOf({ Version: '2012-10-17', Statement: [{ ...allow, Principal: principal }] }, 'resource'),
    ).toEqual([]);
  });

  it('are refused with an unknown principal kind', () => {
    expect(
      problemsOf(
        { Version: '2012-10-17', Statement: [{ ...allow, Principal: { User: 'carlos' } }] },
        'resource',
      ),
    ).toEqual(['Statement[0].Principal.User: expected AWS, Service, Federated or CanonicalUser']);
  });

  it('are refused with an AWS entry that is no account or ARN', () => {
    expect(
      problemsOf(
        { Version: '2012-10-17', Statement: [{ ...allow, Principal: { AWS: 'carlos' } }] },
        'resource',
      ),
    ).toEqual(['Statement[0].Principal.AWS: "carlos" is not "*", an account id or an IAM or STS ARN']);
  });
});

describe('conditions', () => {
  const withCondition = (condition: unknown) => ({
    Version: '2012-10-17',
    Statement: [{ ...allow, Condition: condition }],
  });

  it('are refused with an unknown operator', () => {
    expect(problemsOf(withCondition({ StringEqual: { 's3:prefix': 'a' } }))).toEqual([
      'Statement[0].Condition.StringEqual: "StringEqual" is not a condition operator',
    ]);
  });

  it('are refused with an operator name in the wrong case', () => {
    expect(problemsOf(withCondition({ stringequals: { 's3:prefix': 'a' } }))).toEqual([
      'Statement[0].Condition.stringequals: "stringequals" is not a condition operator',
    ]);
  });

  it('are refused with NullIfExists', () => {
    expect(problemsOf(withCondition({ NullIfExists: { 'aws:TagKeys': 'true' } }))).toEqual([
      'Statement[0].Condition.NullIfExists: "NullIfExists" is not allowed: use Null alone',
    ]);
  });

  it('are refused with a set qualifier on Null', () => {
    expect(problemsOf(withCondition({ 'ForAnyValue:Null': { 'aws:TagKeys': 'true' } }))).toHaveLength(1);
  });

  it('are refused with an empty block', () => {
    expect(problemsOf(withCondition({ StringEquals: {} }))).toEqual([
      'Statement[0].Condition.StringEquals: expected at least one condition key',
    ]);
  });

  it.each([
    ['NumericLessThan', 'ten', 'NumericLessThan needs a number, not "ten"'],
    [
      'DateGreaterThan',
      'yesterday',
      'DateGreaterThan needs an ISO 8601 date or epoch seconds, not "yesterday"',
    ],
    ['Bool', 'yes', 'Bool needs true or false, not "yes"'],
    ['IpAddress', '203.0.113.0/33', 'IpAddress needs an IP address or CIDR range, not "203.0.113.0/33"'],
    ['BinaryEquals', 'not base64', 'BinaryEquals needs base64, not "not base64"'],
    ['Null', 'maybe', 'Null needs true or false, not "maybe"'],
  ])('are refused when a %s value is "%s"', (operator, value, message) => {
    expect(problemsOf(withCondition({ [operator]: { 'test:key': value } }))).toEqual([
      `Statement[0].Condition.${operator}.test:key: ${message}`,
    ]);
  });

  it('are refused with a block that is not an object', () => {
    expect(problemsOf(withCondition({ StringEquals: 'aws:SourceAccount' }))).toEqual([
      'Statement[0].Condition.StringEquals: expected an object of condition keys and values, got "aws:SourceAccount"',
    ]);
  });

  it('are refused with a value that is an object, at the value path', () => {
    expect(
      problemsOf(
        withCondition({ StringEquals: { 'aws:SourceAccount': ['1', { Ref: 'AWS::AccountId' }] } }),
      )[0],
    ).toMatch(
      /^Statement\[0\]\.Condition\.StringEquals\.aws:SourceAccount\[1\]: expected a string, number or boolean/,
    );
  });
});
