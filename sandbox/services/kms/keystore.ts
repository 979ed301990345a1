/**
 * KMS keys and aliases, per region, persisted under the data directory so a restarted sandbox
 * still decrypts what it encrypted before.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { readStateFile, writeStateFile } from '../../core/state-file.ts';
import { AwsError } from '../../core/types.ts';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

/** A key's description in DescribeKey's shape (dates as Date). */
export interface KeyMetadata {
  readonly AWSAccountId: string;
  readonly KeyId: string;
  readonly Arn: string;
  readonly CreationDate: Date;
  readonly Enabled: boolean;
  readonly Description: string;
  readonly KeyUsage: 'ENCRYPT_DECRYPT';
  readonly KeyState: KeyState;
  readonly DeletionDate?: Date;
  readonly PendingDeletionWindowInDays?: number;
  readonly Origin: 'AWS_KMS';
  readonly KeyManager: 'CUSTOMER';
  readonly CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT';
  readonly KeySpec: 'SYMMETRIC_DEFAULT';
  readonly EncryptionAlgorithms: readonly ['SYMMETRIC_DEFAULT'];
  readonly MultiRegion: false;
}

interface KeyRecord {
  keyId: string;
  region: string;
  description: string;
  createdAt: number;
  state: KeyState;
  deletionAt?: number;
  pendingWindowInDays?: number;
  rotationPeriodInDays?: number;
  rotationEnabledAt?: number;
  tags: Record<string, string>;
  /** 256-bit key material, base64. */
  material: string;
}

interface AliasRecord {
  name: string;
  region: string;
  targetKeyId: string;
  createdAt: number;
  updatedAt: number;
}

interface StoredState {
  version: 1;
  keys: KeyRecord[];
  aliases: AliasRecord[];
}

/** A key as the operations see it. */
export interface Key {
  readonly record: KeyRecord;
  readonly arn: string;
  readonly material: Buffer;
}

export interface Alias {
  readonly name: string;
  readonly arn: string;
  readonly targetKeyId: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ARN = /^arn:aws[\w-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;
const DAY_MS = 86_400_000;

/** Where an identifier may point: key ids and ARNs always; alias names and ARNs only where KMS takes them. */
export type IdentifierKinds = 'key' | 'key-or-alias';

export class KeyStore {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly aliases = new Map<string, AliasRecord>();
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly accountId: string,
  ) {
    this.file = join(dataDir, 'kms', 'keys.json');
    const stored = readStateFile(this.file) as StoredState | undefined;
    for (const key of stored?.keys ?? []) this.keys.set(scoped(key.region, key.keyId), key);
    for (const alias of stored?.aliases ?? []) this.aliases.set(scoped(alias.region, alias.name), alias);
  }

  keyArn(region: string, keyId: string): string {
    return `arn:aws:kms:${region}:${this.accountId}:key/${keyId}`;
  }

  aliasArn(region: string, name: string): string {
    return `arn:aws:kms:${region}:${this.accountId}:${name}`;
  }

  createKey(region: string, description: string, tags: Record<string, string>): Key {
    const record: KeyRecord = {
      keyId: randomUUID(),
      region,
      description,
      createdAt: Date.now(),
      state: 'Enabled',
      tags,
      material: randomBytes(32).toString('base64'),
    };
    this.keys.set(scoped(region, record.keyId), record);
    this.save();
    return this.view(record);
  }

  /** The key an identifier names in `region`, or undefined. Never throws. */
  find(region: string, identifier: string, kinds: IdentifierKinds = 'key-or-alias'): Key | undefined {
    this.purgeDeleted();
    const arn = ARN.exec(identifier);
    let keyId: string | undefined;
    if (arn) {
      const [, arnRegion, account, type, name] = arn as unknown as [string, string, string, string, string];
      if (arnRegion !== region || account !== this.accountId) return undefined;
      if (type === 'key') keyId = name;
      else if (kinds === 'key-or-alias')
        keyId = this.aliases.get(scoped(region, `alias/${name}`))?.targetKeyId;
    } else if (identifier.startsWith('alias/')) {
      if (kinds === 'key-or-alias') keyId = this.aliases.get(scoped(region, identifier))?.targetKeyId;
    } else if (UUID.test(identifier)) {
      keyId = identifier.toLowerCase();
    }
    const record = keyId === undefined ? undefined : this.keys.get(scoped(region, keyId));
    return record && this.view(record);
  }

  /** Like {@link find}, but a missing key is KMS's NotFoundException. */
  require(region: string, identifier: string, kinds: IdentifierKinds = 'key-or-alias'): Key {
    const key = this.find(region, identifier, kinds);
    if (key) return key;
    if (kinds === 'key' && (identifier.startsWith('alias/') || /:alias\//.test(identifier))) {
      throw new AwsError(
        'NotFoundException',
        `Invalid keyId ${identifier}: this operation takes a key id or key ARN`,
      );
    }
    throw new AwsError('NotFoundException', `Key '${identifier}' does not exist in ${region}`);
  }

  /** Throws unless the key can be used for cryptographic operations. */
  requireUsable(key: Key): void {
    if (key.record.state === 'Disabled') throw new AwsError('DisabledException', `${key.arn} is disabled.`);
    if (key.record.state === 'PendingDeletion') {
      throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
  }

  listKeys(region: string): Key[] {
    this.purgeDeleted();
    return [...this.keys.values()].filter((record) => record.region === region).map((r) => this.view(r));
  }

  metadata(key: Key): KeyMetadata {
    const { record } = key;
    return {
      AWSAccountId: this.accountId,
      KeyId: record.keyId,
      Arn: key.arn,
      CreationDate: new Date(record.createdAt),
      Enabled: record.state === 'Enabled',
      Description: record.description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: record.state,
      ...(record.deletionAt === undefined
        ? {}
        : {
            DeletionDate: new Date(record.deletionAt),
            PendingDeletionWindowInDays: record.pendingWindowInDays,
          }),
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
    };
  }

  /** Applies a change to a key's record and persists it. */
  update(key: Key, change: (record: KeyRecord) => void): void {
    change(key.record);
    this.save();
  }

  setState(key: Key, state: KeyState): void {
    this.update(key, (record) => {
      record.state = state;
      if (state !== 'PendingDeletion') {
        delete record.deletionAt;
        delete record.pendingWindowInDays;
      }
    });
  }

  scheduleDeletion(key: Key, windowInDays: number): Date {
    const deletionAt = Date.now() + windowInDays * DAY_MS;
    this.update(key, (record) => {
      record.state = 'PendingDeletion';
      record.deletionAt = deletionAt;
      record.pendingWindowInDays = windowInDays;
    });
    return new Date(deletionAt);
  }

  createAlias(region: string, name: string, key: Key): void {
    validateAliasName(name);
    if (this.aliases.has(scoped(region, name))) {
      throw new AwsError(
        'AlreadyExistsException',
        `An alias with the name ${this.aliasArn(region, name)} already exists`,
      );
    }
    const now = Date.now();
    this.aliases.set(scoped(region, name), {
      name,
      region,
      targetKeyId: key.record.keyId,
      createdAt: now,
      updatedAt: now,
    });
    this.save();
  }

  deleteAlias(region: string, name: string): void {
    if (!this.aliases.delete(scoped(region, name))) {
      throw new AwsError('NotFoundException', `Alias ${this.aliasArn(region, name)} is not found.`);
    }
    this.save();
  }

  /** Aliases in a region sorted by name, optionally only those of one key. */
  listAliases(region: string, keyId?: string): Alias[] {
    this.purgeDeleted();
    return [...this.aliases.values()]
      .filter((alias) => alias.region === region && (keyId === undefined || alias.targetKeyId === keyId))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((alias) => ({
        name: alias.name,
        arn: this.aliasArn(region, alias.name),
        targetKeyId: alias.targetKeyId,
        createdAt: new Date(alias.createdAt),
        updatedAt: new Date(alias.updatedAt),
      }));
  }

  private view(record: KeyRecord): Key {
    return {
      record,
      arn: this.keyArn(record.region, record.keyId),
      material: Buffer.from(record.material, 'base64'),
    };
  }

  /** Keys whose deletion window has passed are gone, with their aliases, as in KMS. */
  private purgeDeleted(): void {
    const now = Date.now();
    let changed = false;
    for (const [id, record] of this.keys) {
      if (record.state !== 'PendingDeletion' || (record.deletionAt ?? Infinity) > now) continue;
      this.keys.delete(id);
      for (const [name, alias] of this.aliases) {
        if (alias.region === record.region && alias.targetKeyId === record.keyId) this.aliases.delete(name);
      }
      changed = true;
    }
    if (changed) this.save();
  }

  private save(): void {
    const state: StoredState = {
      version: 1,
      keys: [...this.keys.values()],
      aliases: [...this.aliases.values()],
    };
    writeStateFile(this.file, state);
  }
}

/** Map key of a per-region name. */
function scoped(region: string, name: string): string {
  return `${region}\u0000${name}`;
}

function validateAliasName(name: string): void {
  if (name.length > 256 || !ALIAS_NAME.test(name)) {
    throw new AwsError(
      'InvalidAliasNameException',
      `Alias name ${name} must begin with 'alias/' and contain only alphanumeric characters, '/', '_' and '-'`,
    );
  }
  if (name.startsWith('alias/aws/')) {
    throw new AwsError(
      'InvalidAliasNameException',
      `Cannot create alias ${name}: the alias/aws/ prefix is reserved for AWS managed keys`,
    );
  }
}
