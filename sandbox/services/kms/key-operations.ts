/**
 * KMS key management: keys, their state, rotation, tags and aliases.
 */
import { AwsError } from '../../core/types.ts';
import { constraintError, type JsonInput } from './input.ts';
import type { Key, KeyMetadata, KeyStore } from './keystore.ts';
import { page } from './paging.ts';

/** What an operation works on: the key store and the region of the request. */
export interface OperationContext {
  readonly store: KeyStore;
  readonly region: string;
}

export type Operation = (context: OperationContext, input: JsonInput) => unknown;

const DAY_MS = 86_400_000;
const KEY_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'];

/** JSON 1.1 timestamps are epoch seconds. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function metadataJson(metadata: KeyMetadata): Record<string, unknown> {
  return {
    ...metadata,
    CreationDate: epochSeconds(metadata.CreationDate),
    DeletionDate: metadata.DeletionDate && epochSeconds(metadata.DeletionDate),
  };
}

function notPendingDeletion(key: Key): void {
  if (key.record.state === 'PendingDeletion') {
    throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
  }
}

function enumValue(input: JsonInput, field: string, allowed: readonly string[]): string | undefined {
  const value = input.string(field);
  if (value !== undefined && !allowed.includes(value)) {
    throw constraintError(field, value, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
  return value;
}

const createKey: Operation = ({ store, region }, input) => {
  const description = input.string('Description') ?? '';
  if (description.length > 8192) {
    throw constraintError('Description', '…', 'Member must have length less than or equal to 8192');
  }
  const usage = enumValue(input, 'KeyUsage', KEY_USAGES) ?? 'ENCRYPT_DECRYPT';
  const spec = input.string('KeySpec') ?? input.string('CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
  const origin = input.string('Origin') ?? 'AWS_KMS';
  if (
    usage !== 'ENCRYPT_DECRYPT' ||
    spec !== 'SYMMETRIC_DEFAULT' ||
    origin !== 'AWS_KMS' ||
    input.boolean('MultiRegion')
  ) {
    throw new AwsError(
      'UnsupportedOperationException',
      'The sandbox emulates single-region SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys with AWS_KMS origin only',
    );
  }
  const key = store.createKey(region, description, input.tags('Tags') ?? {});
  return { KeyMetadata: metadataJson(store.metadata(key)) };
};

const describeKey: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'));
  return { KeyMetadata: metadataJson(store.metadata(key)) };
};

const listKeys: Operation = ({ store, region }, input) => {
  const limit = input.integer('Limit', 1, 1000) ?? 100;
  const keys = store.listKeys(region).sort((a, b) => (a.record.keyId < b.record.keyId ? -1 : 1));
  const { items, ...paging } = page(keys, (key) => key.record.keyId, limit, input.string('Marker'));
  return { Keys: items.map((key) => ({ KeyId: key.record.keyId, KeyArn: key.arn })), ...paging };
};

const enableKey: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'), 'key');
  notPendingDeletion(key);
  store.setState(key, 'Enabled');
  return {};
};

const disableKey: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'), 'key');
  notPendingDeletion(key);
  store.setState(key, 'Disabled');
  return {};
};

const scheduleKeyDeletion: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'), 'key');
  const windowInDays = input.integer('PendingWindowInDays', 7, 30) ?? 30;
  notPendingDeletion(key);
  const deletionDate = store.scheduleDeletion(key, windowInDays);
  return {
    KeyId: key.arn,
    DeletionDate: epochSeconds(deletionDate),
    KeyState: 'PendingDeletion',
    PendingWindowInDays: windowInDays,
  };
};

const cancelKeyDeletion: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'), 'key');
  if (key.record.state !== 'PendingDeletion') {
    throw new AwsError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
  }
  store.setState(key, 'Disabled');
  return { KeyId: key.arn };
};

const enableKeyRotation: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'), 'key');
  const period = input.integer('RotationPeriodInDays', 90, 2560) ?? 365;
  store.requireUsable(key);
  store.update(key, (record) => {
    record.rotationPeriodInDays = period;
    record.rotationEnabledAt = Date.now();
  });
  return {};
};

const disableKeyRotation: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'), 'key');
  store.requireUsable(key);
  store.update(key, (record) => {
    delete record.rotationPeriodInDays;
    delete record.rotationEnabledAt;
  });
  return {};
};

const getKeyRotationStatus: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'), 'key');
  notPendingDeletion(key);
  const { rotationPeriodInDays: period, rotationEnabledAt: since } = key.record;
  if (period === undefined || since === undefined) return { KeyRotationEnabled: false, KeyId: key.arn };
  return {
    KeyRotationEnabled: true,
    KeyId: key.arn,
    RotationPeriodInDays: period,
    NextRotationDate: epochSeconds(new Date(since + period * DAY_MS)),
  };
};

const tagResource: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'), 'key');
  const tags = input.tags('Tags');
  if (tags === undefined) throw constraintError('Tags', undefined, 'Member must not be null');
  notPendingDeletion(key);
  store.update(key, (record) => {
    record.tags = Object.fromEntries([...Object.entries(record.tags), ...Object.entries(tags)]);
  });
  return {};
};

const untagResource: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'), 'key');
  const tagKeys = input.stringList('TagKeys');
  if (tagKeys === undefined) throw constraintError('TagKeys', undefined, 'Member must not be null');
  notPendingDeletion(key);
  store.update(key, (record) => {
    record.tags = Object.fromEntries(
      Object.entries(record.tags).filter(([tagKey]) => !tagKeys.includes(tagKey)),
    );
  });
  return {};
};

const listResourceTags: Operation = ({ store, region }, input) => {
  const key = store.require(region, input.requiredString('KeyId'), 'key');
  const limit = input.integer('Limit', 1, 50) ?? 50;
  const tags = Object.entries(key.record.tags)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
  const { items, ...paging } = page(tags, (tag) => tag.TagKey, limit, input.string('Marker'));
  return { Tags: items, ...paging };
};

const createAlias: Operation = ({ store, region }, input) => {
  const name = input.requiredString('AliasName');
  const key = store.require(region, input.requiredString('TargetKeyId'), 'key');
  notPendingDeletion(key);
  store.createAlias(region, name, key);
  return {};
};

const deleteAlias: Operation = ({ store, region }, input) => {
  store.deleteAlias(region, input.requiredString('AliasName'));
  return {};
};

const listAliases: Operation = ({ store, region }, input) => {
  const keyId = input.string('KeyId');
  const limit = input.integer('Limit', 1, 100) ?? 50;
  const target = keyId === undefined ? undefined : store.require(region, keyId, 'key').record.keyId;
  const aliases = store.listAliases(region, target);
  const { items, ...paging } = page(aliases, (alias) => alias.name, limit, input.string('Marker'));
  return {
    Aliases: items.map((alias) => ({
      AliasName: alias.name,
      AliasArn: alias.arn,
      TargetKeyId: alias.targetKeyId,
      CreationDate: epochSeconds(alias.createdAt),
      LastUpdatedDate: epochSeconds(alias.updatedAt),
    })),
    ...paging,
  };
};

/** Key management operations by name. */
export const KEY_OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateKey: createKey,
  DescribeKey: describeKey,
  ListKeys: listKeys,
  EnableKey: enableKey,
  DisableKey: disableKey,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  CancelKeyDeletion: cancelKeyDeletion,
  EnableKeyRotation: enableKeyRotation,
  DisableKeyRotation: disableKeyRotation,
  GetKeyRotationStatus: getKeyRotationStatus,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListResourceTags: listResourceTags,
  CreateAlias: createAlias,
  DeleteAlias: deleteAlias,
  ListAliases: listAliases,
};
