/** AWS::KMS::Key and AWS::KMS::Alias, through the sandbox's KMS API; key policies go to the IAM registry. */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
} from '@aws-sdk/client-kms';
import { type DeployContext, type ResolvedResource, type ResourceHandler, text } from '../context.ts';

/** The key policy CloudFormation gives a key whose template has none: the account may use it. */
function defaultKeyPolicy(accountId: string) {
  return {
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}

function tagsOf(value: unknown): { TagKey: string; TagValue: string }[] {
  return ((value as { Key: string; Value: string }[] | undefined) ?? []).map((tag) => ({
    TagKey: tag.Key,
    TagValue: String(tag.Value),
  }));
}

/** The key an earlier deployment made, if the sandbox still has it usable. */
async function earlierKey(context: DeployContext, resource: ResolvedResource): Promise<string | undefined> {
  const earlier = context.previous?.resources[resource.logicalId];
  if (earlier?.type !== resource.type) return undefined;
  try {
    const { KeyMetadata } = await context.clients.kms.send(new DescribeKeyCommand({ KeyId: earlier.ref }));
    return KeyMetadata?.KeyState === 'PendingDeletion' ? undefined : KeyMetadata?.KeyId;
  } catch (error) {
    if ((error as Error).name === 'NotFoundException') return undefined;
    throw error;
  }
}

export const kmsKey: ResourceHandler = {
  applies: [
    'Description',
    'KeyPolicy',
    'EnableKeyRotation',
    'RotationPeriodInDays',
    'Enabled',
    'KeyUsage',
    'KeySpec',
    'Tags',
  ],
  async create(context, resource) {
    const p = resource.properties;
    let keyId = await earlierKey(context, resource);
    if (keyId === undefined) {
      const { KeyMetadata } = await context.clients.kms.send(
        new CreateKeyCommand({
          Description: text(p.Description),
          KeyUsage: text(p.KeyUsage) as 'ENCRYPT_DECRYPT' | undefined,
          KeySpec: text(p.KeySpec) as 'SYMMETRIC_DEFAULT' | undefined,
          Tags: tagsOf(p.Tags),
          Policy: p.KeyPolicy === undefined ? undefined : JSON.stringify(p.KeyPolicy),
        }),
      );
      keyId = KeyMetadata?.KeyId ?? '';
    }
    if (p.EnableKeyRotation === true || p.EnableKeyRotation === 'true') {
      const period = p.RotationPeriodInDays === undefined ? undefined : Number(p.RotationPeriodInDays);
      await context.clients.kms.send(
        new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: period }),
      );
    }
    if (p.Enabled === false || p.Enabled === 'false') {
      await context.clients.kms.send(new DisableKeyCommand({ KeyId: keyId }));
    }
    const arn = context.arn('kms', `key/${keyId}`);
    context.iam().putResourcePolicy({
      resourceArn: arn,
      source: resource.logicalId,
      document: (p.KeyPolicy as Record<string, unknown> | undefined) ?? defaultKeyPolicy(context.accountId),
    });
    return {
      ref: keyId,
      attributes: { Arn: arn, KeyId: keyId },
      notes: [
        'KeyPolicy: stored in the IAM registry, from which IAM enforcement decides every call on the key',
      ],
    };
  },
};

export const kmsAlias: ResourceHandler = {
  applies: ['AliasName', 'TargetKeyId'],
  async create(context, resource) {
    const name = String(resource.properties.AliasName);
    const target = String(resource.properties.TargetKeyId);
    try {
      await context.clients.kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: target }));
    } catch (error) {
      if ((error as Error).name !== 'AlreadyExistsException') throw error;
      // A redeployment points the alias at this deployment's key (the sandbox has no UpdateAlias).
      await context.clients.kms.send(new DeleteAliasCommand({ AliasName: name }));
      await context.clients.kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: target }));
    }
    return { ref: name, attributes: {}, physicalName: name };
  },
};
