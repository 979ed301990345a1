/**
 * Resolution of intrinsic functions and pseudo parameters, creation order, generated names and
 * definition substitutions: pure, no sandbox.
 */
import { describe, expect, it } from 'vitest';
import { type ResolveScope, resolveValue } from '../../sandbox/deploy/intrinsics.ts';
import { generateName } from '../../sandbox/deploy/names.ts';
import { creationOrder } from '../../sandbox/deploy/plan.ts';
import { substitute } from '../../sandbox/deploy/resources/states.ts';
import type { CfnTemplate } from '../../sandbox/deploy/template.ts';

function scope(overrides: Partial<ResolveScope> = {}): ResolveScope {
  return {
    pseudo: {
      region: 'eu-central-1',
      accountId: '000000000000',
      stackName: 'Caretaker-test',
      stackId: 'arn:aws:cloudformation:eu-central-1:000000000000:stack/Caretaker-test/1',
    },
    template: {
      Parameters: { Stage: { Type: 'String', Default: 'prod' } },
      Conditions: {
        IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
        InFrankfurt: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-central-1'] },
        Both: { 'Fn::And': [{ Condition: 'IsProd' }, { Condition: 'InFrankfurt' }] },
      },
      Mappings: { Sizes: { prod: { Memory: 1024 } } },
    },
    refs: new Map([
      ['Bucket', 'caretaker-test-bucket-abc'],
      ['Topic', 'arn:aws:sns:eu-central-1:000000000000:alerts'],
    ]),
    attributes: new Map<string, Record<string, string>>([
      ['Bucket', { Arn: 'arn:aws:s3:::caretaker-test-bucket-abc' }],
      ['Key', { Arn: 'arn:aws:kms:eu-central-1:000000000000:key/k-1', KeyId: 'k-1' }],
    ]),
    ...overrides,
  };
}

const resolve = (value: unknown) => resolveValue(value, scope(), 'Test');

describe('pseudo parameters', () => {
  it('resolves region, account, partition, URL suffix and stack name', () => {
    expect(
      resolve({
        region: { Ref: 'AWS::Region' },
        account: { Ref: 'AWS::AccountId' },
        partition: { Ref: 'AWS::Partition' },
        suffix: { Ref: 'AWS::URLSuffix' },
        stack: { Ref: 'AWS::StackName' },
      }),
    ).toEqual({
      region: 'eu-central-1',
      account: '000000000000',
      partition: 'aws',
      suffix: 'amazonaws.com',
      stack: 'Caretaker-test',
    });
  });

  it('leaves out a property whose value is AWS::NoValue, and a list entry', () => {
    expect(
      resolve({
        kept: 1,
        dropped: { 'Fn::If': ['IsProd', { Ref: 'AWS::NoValue' }, 2] },
        list: [1, { Ref: 'AWS::NoValue' }],
      }),
    ).toEqual({ kept: 1, list: [1] });
  });
});

describe('Ref and Fn::GetAtt', () => {
  it("resolves a resource's Ref and its attributes, in list and string form", () => {
    expect(
      resolve({
        name: { Ref: 'Bucket' },
        arn: { 'Fn::GetAtt': ['Bucket', 'Arn'] },
        keyId: { 'Fn::GetAtt': 'Key.KeyId' },
        stage: { Ref: 'Stage' },
      }),
    ).toEqual({
      name: 'caretaker-test-bucket-abc',
      arn: 'arn:aws:s3:::caretaker-test-bucket-abc',
      keyId: 'k-1',
      stage: 'prod',
    });
  });

  it('refuses a Ref to something that is neither a parameter nor a created resource, naming the path', () => {
    expect(() =>
      resolveValue({ Topics: [{ Ref: 'Missing' }] }, scope(), 'Resources.Policy.Properties'),
    ).toThrow(
      'Resources.Policy.Properties.Topics[0]: Ref to Missing, which is not a parameter or a created resource',
    );
  });

  it('refuses an attribute the resource does not have, listing the ones it has', () => {
    expect(() => resolve({ 'Fn::GetAtt': ['Key', 'Colour'] })).toThrow(
      'Fn::GetAtt Key.Colour: the sandbox knows Arn, KeyId of this resource',
    );
  });

  it('refuses functions the deployer cannot resolve', () => {
    expect(() => resolve({ value: { 'Fn::ImportValue': 'OtherStack-Export' } })).toThrow(
      'Test.value: Fn::ImportValue is not supported by the sandbox deployer',
    );
    expect(() => resolve({ 'Fn::Base64': 'x' })).toThrow('Fn::Base64 is not supported');
  });
});

describe('Fn::Join, Fn::Select, Fn::Split', () => {
  it('joins resolved parts, as CDK writes ARNs', () => {
    expect(
      resolve({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'Bucket' }, '/*']],
      }),
    ).toBe('arn:aws:s3:::caretaker-test-bucket-abc/*');
  });

  it('selects from a split', () => {
    expect(resolve({ 'Fn::Select': [5, { 'Fn::Split': [':', { Ref: 'Topic' }] }] })).toBe('alerts');
  });
});

describe('Fn::Sub', () => {
  it('substitutes pseudo parameters, Refs and attributes in the one-argument form', () => {
    expect(resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/x ${Key.Arn} ${AWS::Region}' })).toBe(
      'arn:aws:s3:::caretaker-test-bucket-abc/x arn:aws:kms:eu-central-1:000000000000:key/k-1 eu-central-1',
    );
  });

  it('uses the given variables first and resolves the rest in the two-argument form', () => {
    expect(
      resolve({
        'Fn::Sub': ['${Name}-${AWS::AccountId}-${Bucket}', { Name: { 'Fn::GetAtt': ['Key', 'KeyId'] } }],
      }),
    ).toBe('k-1-000000000000-caretaker-test-bucket-abc');
  });

  it('writes ${!Literal} as the literal ${Literal}', () => {
    expect(resolve({ 'Fn::Sub': 'keep ${!Placeholder} and ${AWS::Region}' })).toBe(
      'keep ${Placeholder} and eu-central-1',
    );
  });

  it('refuses a variable naming nothing', () => {
    expect(() => resolve({ 'Fn::Sub': 'x-${Nowhere}' })).toThrow('Ref to Nowhere');
  });
});

describe('conditions and mappings', () => {
  it('evaluates Fn::If over conditions that use Fn::Equals, Fn::And and Condition', () => {
    expect(resolve({ 'Fn::If': ['Both', 'both', 'not both'] })).toBe('both');
  });

  it('finds a value in a mapping', () => {
    expect(resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'Memory'] })).toBe(1024);
  });
});

describe('values that are not intrinsics', () => {
  it('keeps an object whose only key holds a list (a filter policy), which the library would collapse', () => {
    expect(resolve({ severity: ['warning', 'critical', { exists: false }] })).toEqual({
      severity: ['warning', 'critical', { exists: false }],
    });
  });

  it("resolves an IAM policy's Condition with several operators, which the library would leave alone", () => {
    const policy = {
      Condition: {
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:aws:states:', { Ref: 'AWS::Region' }, ':*']] } },
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      },
    };

    expect(resolve(policy)).toEqual({
      Condition: {
        ArnLike: { 'aws:SourceArn': 'arn:aws:states:eu-central-1:*' },
        StringEquals: { 'aws:SourceAccount': '000000000000' },
      },
    });
  });
});

describe('creation order', () => {
  it('puts every resource after what it refers to (Ref, GetAtt, Sub, DependsOn), otherwise in template order', () => {
    const template: CfnTemplate = {
      Resources: {
        Function: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
        Alias: { Type: 'AWS::KMS::Alias', Properties: { TargetKeyId: { 'Fn::Sub': '${Key.Arn}' } } },
        Role: { Type: 'AWS::IAM::Role', DependsOn: 'Key' },
        Key: { Type: 'AWS::KMS::Key' },
      },
    };

    const order = creationOrder(template);

    expect(order.indexOf('Key')).toBeLessThan(order.indexOf('Role'));
    expect(order.indexOf('Role')).toBeLessThan(order.indexOf('Function'));
    expect(order.indexOf('Key')).toBeLessThan(order.indexOf('Alias'));
  });

  it('refuses a cycle, naming the resources in it', () => {
    const template: CfnTemplate = {
      Resources: {
        A: { Type: 'AWS::SQS::Queue', Properties: { X: { Ref: 'B' } } },
        B: { Type: 'AWS::SQS::Queue', Properties: { X: { Ref: 'A' } } },
        C: { Type: 'AWS::SQS::Queue' },
      },
    };

    expect(() => creationOrder(template)).toThrow('Circular dependency between resources: A, B');
  });
});

describe('generated names', () => {
  it('writes <stack>-<logical id>-<12 random characters>, as CloudFormation does', () => {
    expect(generateName('Caretaker-test', 'NotifyFunction3392CA4F', { maxLength: 64 })).toMatch(
      /^Caretaker-test-NotifyFunction3392CA4F-[A-Za-z0-9]{12}$/,
    );
  });

  it('shortens the stack name to fit, keeping the logical id, and lowercases bucket names', () => {
    const name = generateName('Caretaker-a-rather-long-environment-name', 'StorageBackups8B487C5A', {
      maxLength: 63,
      lowercase: true,
    });

    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^caretaker-a-rather-long-env-storagebackups8b487c5a-[a-z0-9]{12}$/);
  });
});

describe('definition substitutions', () => {
  it('fills every ${Placeholder} of a definition', () => {
    expect(substitute('{"FunctionName":"${Fn}","Bucket":"${B}"}', { Fn: 'arn:x', B: 'b' })).toBe(
      '{"FunctionName":"arn:x","Bucket":"b"}',
    );
  });

  it('refuses placeholders left without a substitution, naming them', () => {
    expect(() => substitute('{"A":"${One}","B":"${Two}","C":"${One}"}', { Two: 'x' })).toThrow(
      'placeholders without a DefinitionSubstitutions entry: ${One}',
    );
  });
});
