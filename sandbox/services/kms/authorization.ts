/**
 * What each KMS operation the sandbox serves needs from IAM ("Actions, resources, and condition
 * keys for AWS Key Management Service"): the action, the key (with its key policy) and the alias,
 * and the condition keys KMS supplies — kms:CallerAccount, kms:EncryptionContext:<key> and
 * kms:EncryptionContextKeys, kms:EncryptionAlgorithm, kms:RequestAlias, kms:ResourceAliases, the
 * key's kms:KeySpec/KeyUsage/KeyOrigin/MultiRegion, aws:ResourceTag/<key>, aws:RequestTag/<key>
 * and aws:TagKeys. Aliases resolve to the key they point to: a key policy governs the key, never an
 * alias.
 *
 * Also the checks other services need when they call KMS on the caller's behalf (S3, SNS, SQS,
 * RDS): {@link kmsOnBehalf}.
 */
import {
  type AccessCheck,
  type CheckedResource,
  requestTagContext,
  tagKeys,
} from '../../core/access/checks.ts';
import type { ContextInput } from '../../iam/index.ts';
import type { JsonInput } from './input.ts';

/** What IAM needs to know about a key. */
export interface KmsKeyFacts {
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Alias names pointing to the key (`alias/…`), for kms:ResourceAliases. */
  readonly aliases: readonly string[];
}

/** Lookups in the key store, in the request's region. */
export interface KmsAuthorizationView {
  readonly region: string;
  readonly accountId: string;
  /** The key an id, key ARN, alias name or alias ARN names; undefined when there is none. */
  key(identifier: string): KmsKeyFacts | undefined;
  /** The key a ciphertext blob was made under. */
  keyOfCiphertext(blob: Buffer): KmsKeyFacts | undefined;
  /** An alias name's ARN. */
  aliasArn(aliasName: string): string;
}

const ALGORITHM = 'SYMMETRIC_DEFAULT';

/** The condition keys of an encryption context (kms:EncryptionContext:<key>, kms:EncryptionContextKeys). */
export function encryptionContextKeys(context: Readonly<Record<string, string>> | undefined): ContextInput {
  if (context === undefined) return {};
  return {
    ...tagKeys('kms:EncryptionContext:', Object.entries(context)),
    'kms:EncryptionContextKeys': Object.keys(context),
  };
}

/** A key as a checked resource: its key policy decides, with its tags and aliases as condition keys. */
export function keyResource(key: KmsKeyFacts): CheckedResource {
  return {
    arn: key.arn,
    kmsKey: true,
    context: {
      ...tagKeys('aws:ResourceTag/', Object.entries(key.tags)),
      'kms:ResourceAliases': [...key.aliases],
      'kms:KeySpec': ALGORITHM,
      'kms:KeyUsage': 'ENCRYPT_DECRYPT',
      'kms:KeyOrigin': 'AWS_KMS',
      'kms:MultiRegion': false,
    },
  };
}

/**
 * What a service (`s3`, `sns`, `sqs`, `rds`) needs when it asks KMS for the caller: the caller's
 * own permission on the key, with kms:ViaService naming the service in the region and the
 * encryption context it uses (S3: aws:s3:arn).
 */
export function kmsOnBehalf(
  action: string,
  key: KmsKeyFacts,
  via: { readonly service: string; readonly region: string; readonly accountId: string },
  encryptionContext?: Readonly<Record<string, string>>,
  extra: ContextInput = {},
): AccessCheck {
  return {
    action,
    resources: [keyResource(key)],
    calledVia: `${via.service}.amazonaws.com`,
    context: {
      'kms:ViaService': `${via.service}.${via.region}.amazonaws.com`,
      'kms:CallerAccount': via.accountId,
      ...encryptionContextKeys(encryptionContext),
      ...extra,
    },
  };
}

function aliasOf(identifier: string): string | undefined {
  const name = /^(?:arn:aws[\w-]*:kms:[^:]+:\d{12}:)?(alias\/.+)$/.exec(identifier)?.[1];
  return name;
}

/** The key named by `field`, with kms:RequestAlias when the request named it by alias. */
function named(view: KmsAuthorizationView, input: JsonInput, field: string) {
  const identifier = input.string(field);
  if (identifier === undefined) return undefined;
  const key = view.key(identifier);
  if (!key) return undefined;
  const alias = aliasOf(identifier);
  return { key, context: alias === undefined ? {} : { 'kms:RequestAlias': alias } };
}

function onKey(
  action: string,
  view: KmsAuthorizationView,
  input: JsonInput,
  field = 'KeyId',
  context: ContextInput = {},
): AccessCheck[] {
  const found = named(view, input, field);
  // A key that does not exist is refused by the operation (NotFoundException), not by IAM.
  if (!found) return [];
  return [
    {
      action,
      resources: [keyResource(found.key)],
      context: { 'kms:CallerAccount': view.accountId, ...found.context, ...context },
    },
  ];
}

function cryptoContext(input: JsonInput, contextField = 'EncryptionContext', algorithmField?: string) {
  return {
    ...encryptionContextKeys(input.stringMap(contextField)),
    ...(algorithmField === undefined
      ? {}
      : { 'kms:EncryptionAlgorithm': input.string(algorithmField) ?? ALGORITHM }),
  };
}

function decryptChecks(view: KmsAuthorizationView, input: JsonInput): AccessCheck[] {
  const blob = input.blob('CiphertextBlob', 6144);
  const explicit = named(view, input, 'KeyId');
  const key = explicit?.key ?? (blob === undefined ? undefined : view.keyOfCiphertext(blob));
  if (!key) return [];
  return [
    {
      action: 'kms:Decrypt',
      resources: [keyResource(key)],
      context: {
        'kms:CallerAccount': view.accountId,
        ...explicit?.context,
        ...cryptoContext(input, 'EncryptionContext', 'EncryptionAlgorithm'),
      },
    },
  ];
}

function reEncryptChecks(view: KmsAuthorizationView, input: JsonInput): AccessCheck[] {
  const blob = input.blob('CiphertextBlob', 6144);
  const source = named(view, input, 'SourceKeyId')?.key ?? (blob ? view.keyOfCiphertext(blob) : undefined);
  const destination = named(view, input, 'DestinationKeyId');
  if (!source || !destination) return [];
  const sameKey = { 'kms:ReEncryptOnSameKey': source.arn === destination.key.arn };
  return [
    {
      action: 'kms:ReEncryptFrom',
      resources: [keyResource(source)],
      context: {
        'kms:CallerAccount': view.accountId,
        ...cryptoContext(input, 'SourceEncryptionContext', 'SourceEncryptionAlgorithm'),
        ...sameKey,
      },
    },
    {
      action: 'kms:ReEncryptTo',
      resources: [keyResource(destination.key)],
      context: {
        'kms:CallerAccount': view.accountId,
        ...destination.context,
        ...cryptoContext(input, 'DestinationEncryptionContext', 'DestinationEncryptionAlgorithm'),
        ...sameKey,
      },
    },
  ];
}

function createKeyChecks(view: KmsAuthorizationView, input: JsonInput): AccessCheck[] {
  const tags = Object.entries(input.tags('Tags') ?? {});
  const context: ContextInput = {
    'kms:CallerAccount': view.accountId,
    'kms:KeySpec': input.string('KeySpec') ?? input.string('CustomerMasterKeySpec') ?? ALGORITHM,
    'kms:KeyUsage': input.string('KeyUsage') ?? 'ENCRYPT_DECRYPT',
    'kms:KeyOrigin': input.string('Origin') ?? 'AWS_KMS',
    'kms:MultiRegion': input.boolean('MultiRegion') ?? false,
    'kms:BypassPolicyLockoutSafetyCheck': input.boolean('BypassPolicyLockoutSafetyCheck') ?? false,
    ...(tags.length > 0 ? requestTagContext(tags) : {}),
  };
  const checks: AccessCheck[] = [{ action: 'kms:CreateKey', resources: [{ arn: '*' }], context }];
  // "To use the Tags parameter, you need kms:TagResource permission in an IAM policy": the key does
  // not exist yet, so only an IAM policy on this account's keys can grant it.
  if (tags.length > 0) {
    checks.push({
      action: 'kms:TagResource',
      resources: [{ arn: `arn:aws:kms:${view.region}:${view.accountId}:key/*`, policyOf: null }],
      context: { 'kms:CallerAccount': view.accountId, ...requestTagContext(tags) },
    });
  }
  return checks;
}

/** CreateAlias and DeleteAlias act on the alias and on the key it points to (both must allow). */
function aliasChecks(
  action: string,
  view: KmsAuthorizationView,
  input: JsonInput,
  targetField: string | undefined,
): AccessCheck[] {
  const aliasName = input.string('AliasName');
  if (aliasName === undefined) return [];
  const key = targetField === undefined ? view.key(aliasName) : named(view, input, targetField)?.key;
  const alias: CheckedResource = { arn: view.aliasArn(aliasName), policyOf: null };
  return [
    {
      action,
      resources: key ? [alias, keyResource(key)] : [alias],
      context: { 'kms:CallerAccount': view.accountId },
    },
  ];
}

/** The IAM checks of one KMS operation. */
export function kmsAccessChecks(
  operation: string,
  input: JsonInput,
  view: KmsAuthorizationView,
): AccessCheck[] {
  switch (operation) {
    case 'CreateKey':
      return createKeyChecks(view, input);
    case 'ListKeys':
    case 'ListAliases':
      return [{ action: `kms:${operation}`, resources: [{ arn: '*' }] }];
    case 'DescribeKey':
    case 'EnableKey':
    case 'DisableKey':
    case 'CancelKeyDeletion':
    case 'DisableKeyRotation':
    case 'GetKeyRotationStatus':
    case 'ListResourceTags':
      return onKey(`kms:${operation}`, view, input);
    case 'ScheduleKeyDeletion':
      return onKey('kms:ScheduleKeyDeletion', view, input, 'KeyId', {
        'kms:ScheduleKeyDeletionPendingWindowInDays': input.integer('PendingWindowInDays', 7, 30) ?? 30,
      });
    case 'EnableKeyRotation':
      return onKey('kms:EnableKeyRotation', view, input, 'KeyId', {
        'kms:RotationPeriodInDays': input.integer('RotationPeriodInDays', 90, 2560) ?? 365,
      });
    case 'TagResource':
      return onKey(
        'kms:TagResource',
        view,
        input,
        'KeyId',
        requestTagContext(Object.entries(input.tags('Tags') ?? {})),
      );
    case 'UntagResource':
      return onKey('kms:UntagResource', view, input, 'KeyId', {
        'aws:TagKeys': input.stringList('TagKeys') ?? [],
      });
    case 'CreateAlias':
      return aliasChecks('kms:CreateAlias', view, input, 'TargetKeyId');
    case 'DeleteAlias':
      return aliasChecks('kms:DeleteAlias', view, input, undefined);
    case 'Encrypt':
      return onKey(
        'kms:Encrypt',
        view,
        input,
        'KeyId',
        cryptoContext(input, 'EncryptionContext', 'EncryptionAlgorithm'),
      );
    case 'GenerateDataKey':
    case 'GenerateDataKeyWithoutPlaintext':
      return onKey(`kms:${operation}`, view, input, 'KeyId', cryptoContext(input));
    case 'Decrypt':
      return decryptChecks(view, input);
    case 'ReEncrypt':
      return reEncryptChecks(view, input);
    default:
      throw new Error(`No IAM mapping for the KMS operation ${operation}`);
  }
}
