import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack, exampleConfig } from '../support/stack.ts';

type Template = ReturnType<typeof buildStack>['template'];
let template: Template;

beforeAll(() => {
  ({ template } = buildStack());
});

/** The logical id of the only resource of `type` matching `props`. */
function logicalId(type: string, props: Record<string, unknown> = {}): string {
  const found = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('stack key', () => {
  it('is customer managed with rotation on and an alias', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, RotationPeriodInDays: 365 });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/caretaker/example' });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('backup bucket', () => {
  it('is encrypted by default with the stack key', () => {
    const keyId = logicalId('AWS::KMS::Key');
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
            },
          },
        ],
      },
    });
  });

  it('is versioned, blocks all public access and logs access to the log bucket', () => {
    const logBucket = logicalId('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: logBucket }, LogFilePrefix: 'backup-bucket/' },
    });
  });

  it('expires noncurrent versions and aborts incomplete uploads', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Status: 'Enabled',
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }),
        ]),
      },
    });
  });

  it('turns on Object Lock with the configured default retention', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 7 } },
      },
    });
  });

  it('leaves Object Lock off when not configured', () => {
    const config = exampleConfig();
    delete config.backupBucket?.objectLock;
    const { template: plain } = buildStack(config);

    expect(JSON.stringify(plain.findResources('AWS::S3::Bucket'))).not.toContain('ObjectLock');
  });

  it('denies every request that is not over TLS', () => {
    const bucket = logicalId('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockEnabled: true,
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('is retained when the stack is deleted', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    for (const bucket of Object.values(buckets)) expect(bucket.DeletionPolicy).toBe('Retain');
  });
});

describe('alert topic', () => {
  it('is encrypted with the stack key', () => {
    const keyId = logicalId('AWS::KMS::Key');
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });

  it('accepts publishing over TLS only', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('subscribes each configured endpoint with a severity filter', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      FilterPolicy: { severity: ['warning', 'critical', { exists: false }] },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://chat.example.com/hooks/caretaker',
      FilterPolicy: { severity: ['info', 'warning', 'critical', { exists: false }] },
    });
  });

  it('lets SNS invoke a subscribed Lambda function', () => {
    const config = exampleConfig();
    config.alerts = {
      subscriptions: [
        { protocol: 'lambda', endpoint: 'arn:aws:lambda:us-east-1:111122223333:function:pager' },
      ],
    };
    const { template: withLambda } = buildStack(config);

    withLambda.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda' });
    withLambda.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'sns.amazonaws.com',
      FunctionName: 'arn:aws:lambda:us-east-1:111122223333:function:pager',
    });
  });
});

describe('functions', () => {
  it('run on arm64 with the Node.js 24 runtime, active tracing and JSON logs', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions).length).toBeGreaterThan(0);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.LoggingConfig.LogFormat).toBe('JSON');
    }
  });

  it('each log to their own encrypted log group with the configured retention', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const logGroups = template.findResources('AWS::Logs::LogGroup');
    for (const fn of Object.values(functions)) {
      const groupRef = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      const group = logGroups[groupRef];
      expect(group?.Properties.RetentionInDays).toBe(30);
      expect(group?.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId('AWS::KMS::Key'), 'Arn'] });
    }
  });

  it('use no AWS managed policy', () => {
    const roles = template.findResources('AWS::IAM::Role');
    for (const role of Object.values(roles)) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('give notify the topic ARN and permission to publish to that topic only', () => {
    const topic = logicalId('AWS::SNS::Topic');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ ALERT_TOPIC_ARN: { Ref: topic }, CARETAKER_ENVIRONMENT: 'example' }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: topic } }),
        ]),
      },
    });
  });
});

describe('tags and outputs', () => {
  it('tags resources as managed by Caretaker', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      Tags: Match.arrayWith([{ Key: 'caretaker:managed', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      Tags: Match.arrayWith([{ Key: 'caretaker:managed', Value: 'true' }]),
    });
  });

  it('outputs the bucket, key, topic, state machines and dashboard', () => {
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'BackupBucketName',
        'KeyArn',
        'AlertTopicArn',
        'BackupStateMachineArn',
        'CleanupStateMachineArn',
        'DashboardName',
      ]),
    );
  });
});

describe('dead letters', () => {
  it('keep undeliverable events in an encrypted queue with an alarm on it', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId('AWS::KMS::Key'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });
});
