import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { stackArn } from '../../../../lib/security/arns.ts';
import { allow, wildcardFindings } from '../../../../lib/security/nag.ts';

function stackWith(env?: { account: string; region: string }) {
  const stack = new Stack(new App(), 'Test', env ? { env } : {});
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  return { stack, role };
}

function acknowledgedIds(role: iam.Role): string[] {
  return role.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.keys(entry.data as Record<string, string>))
    .map((key) => key.replace(/^Annotation::/, ''));
}

describe('wildcardFindings', () => {
  it('renders a region-scoped ARN with <AWS::Region> while the stack is environment-agnostic', () => {
    const { stack } = stackWith();
    const statement = new iam.PolicyStatement({
      actions: ['rds:DescribeDBSnapshots'],
      resources: [stackArn('rds', 'snapshot:*', stack.region)],
    });

    expect(wildcardFindings(stack, statement)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:snapshot:*]',
    ]);
  });

  it('renders the literal region once the stack has an environment', () => {
    const { stack } = stackWith({ account: '111122223333', region: 'eu-central-1' });
    const statement = new iam.PolicyStatement({
      actions: ['rds:DescribeDBSnapshots'],
      resources: [stackArn('rds', 'snapshot:*', stack.region)],
    });

    expect(wildcardFindings(stack, statement)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-central-1:<AWS::AccountId>:snapshot:*]',
    ]);
  });

  it('names wildcard actions and resource references as cdk-nag does, and ignores Deny', () => {
    const { stack } = stackWith();
    const bucket = new s3.Bucket(stack, 'Bucket');
    const allowStatement = new iam.PolicyStatement({
      actions: ['s3:GetObject*', 's3:PutObject'],
      resources: [bucket.arnForObjects('reports/*'), bucket.bucketArn],
    });
    const deny = new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:*'], resources: ['*'] });
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);

    expect(wildcardFindings(stack, allowStatement)).toEqual([
      'AwsSolutions-IAM5[Action::s3:GetObject*]',
      `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/reports/*]`,
    ]);
    expect(wildcardFindings(stack, deny)).toEqual([]);
  });
});

describe('allow', () => {
  it('adds the statement and acknowledges each of its wildcards with the reason given for it', () => {
    const { stack, role } = stackWith({ account: '111122223333', region: 'eu-west-1' });

    allow(
      role,
      new iam.PolicyStatement({
        actions: ['rds:DescribeDBInstances'],
        resources: [stackArn('rds', 'db:*', stack.region), stackArn('rds', 'db:exact', stack.region)],
      }),
      (wildcard) =>
        wildcard.endsWith(':db:*') ? 'Reads every instance to poll progress; read-only.' : undefined,
    );

    expect(acknowledgedIds(role)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-west-1:<AWS::AccountId>:db:*]',
    ]);
    const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy;
    expect(stack.resolve(policy.document).Statement).toHaveLength(1);
  });

  it('fails synthesis-time construction when a wildcard has no reason', () => {
    const { role } = stackWith();

    expect(() =>
      allow(
        role,
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bucket/*'] }),
        () => undefined,
      ),
    ).toThrow('no reason given for the wildcard Resource::arn:aws:s3:::bucket/*');
  });
});
