/**
 * AWS::S3::Bucket through the sandbox's S3 API, as far as it models buckets (versioning and
 * default encryption); AWS::S3::BucketPolicy into the IAM registry.
 */
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
} from '@aws-sdk/client-s3';
import type { ResourceHandler } from '../context.ts';
import { isObject } from '../template.ts';

interface EncryptionRule {
  readonly ServerSideEncryptionByDefault?: {
    readonly SSEAlgorithm?: string;
    readonly KMSMasterKeyID?: string;
  };
  readonly BucketKeyEnabled?: boolean;
}

/** What the sandbox S3 does not do with properties it does not model, where that matters for a rehearsal. */
function objectLockNote(properties: Readonly<Record<string, unknown>>): string[] {
  if (properties.ObjectLockEnabled !== true && properties.ObjectLockEnabled !== 'true') return [];
  const rule = (
    properties.ObjectLockConfiguration as { Rule?: { DefaultRetention?: Record<string, unknown> } }
  )?.Rule?.DefaultRetention;
  const retention = rule
    ? ` (${String(rule.Mode)}, ${String(rule.Days ?? rule.Years)} ${rule.Days ? 'days' : 'years'})`
    : '';
  return [
    `ObjectLockEnabled${retention}: the sandbox S3 does not emulate Object Lock; objects in this bucket can be deleted and overwritten`,
  ];
}

export const s3Bucket: ResourceHandler = {
  applies: ['BucketName', 'VersioningConfiguration', 'BucketEncryption'],
  async create(context, resource) {
    const p = resource.properties;
    const name = context.nameFor(resource, p.BucketName, { maxLength: 63, lowercase: true });
    try {
      await context.clients.s3.send(
        new CreateBucketCommand({
          Bucket: name,
          ...(context.region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: context.region as never } }),
        }),
      );
    } catch (error) {
      // Redeploying keeps the bucket (and its objects), as a stack update does.
      if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error;
    }
    const versioning = (p.VersioningConfiguration as { Status?: string } | undefined)?.Status;
    if (versioning === 'Enabled' || versioning === 'Suspended') {
      await context.clients.s3.send(
        new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: versioning } }),
      );
    }
    const rules = (p.BucketEncryption as { ServerSideEncryptionConfiguration?: EncryptionRule[] } | undefined)
      ?.ServerSideEncryptionConfiguration;
    const rule = rules?.[0];
    if (rule && isObject(rule.ServerSideEncryptionByDefault)) {
      const byDefault = rule.ServerSideEncryptionByDefault;
      await context.clients.s3.send(
        new PutBucketEncryptionCommand({
          Bucket: name,
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: {
                  SSEAlgorithm: byDefault.SSEAlgorithm as 'aws:kms',
                  ...(byDefault.KMSMasterKeyID ? { KMSMasterKeyID: byDefault.KMSMasterKeyID } : {}),
                },
                ...(rule.BucketKeyEnabled === undefined ? {} : { BucketKeyEnabled: rule.BucketKeyEnabled }),
              },
            ],
          },
        }),
      );
    }
    return {
      ref: name,
      physicalName: name,
      attributes: {
        Arn: `arn:aws:s3:::${name}`,
        DomainName: `${name}.s3.amazonaws.com`,
        RegionalDomainName: `${name}.s3.${context.region}.amazonaws.com`,
        DualStackDomainName: `${name}.s3.dualstack.${context.region}.amazonaws.com`,
        WebsiteURL: `http://${name}.s3-website-${context.region}.amazonaws.com`,
      },
      notes: [
        ...objectLockNote(p),
        ...(rule
          ? [
              'BucketEncryption: recorded and reported by GetBucketEncryption; the sandbox does not encrypt objects at rest',
            ]
          : []),
      ],
    };
  },
};

export const s3BucketPolicy: ResourceHandler = {
  applies: ['Bucket', 'PolicyDocument'],
  async create(context, resource) {
    const bucket = String(resource.properties.Bucket);
    context.iam().putResourcePolicy({
      resourceArn: `arn:aws:s3:::${bucket}`,
      source: resource.logicalId,
      document: resource.properties.PolicyDocument as Record<string, unknown>,
    });
    return {
      ref: bucket,
      attributes: {},
      notes: ['PolicyDocument: stored in the IAM registry for the evaluator'],
    };
  },
};
