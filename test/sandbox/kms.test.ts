/**
 * The sandbox's KMS, driven by the AWS SDK v3 (configured only by environment) and by the AWS
 * Encryption SDK.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyRotationStatusCommand,
  KMS,
  KMSClient,
  ListAliasesCommand,
  ListResourceTagsCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../sandbox/core/server.ts';
import { type KmsService, kmsService } from '../../sandbox/services/kms/index.ts';
import { withSandbox } from '../support/sandbox.ts';

const handle = withSandbox([kmsService]);
let kms: KMSClient;

beforeAll(() => {
  kms = new KMSClient({});
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const text = (value: string) => new TextEncoder().encode(value);
const decoded = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
let aliasCounter = 0;

async function newKey(description = 'test key'): Promise<{ keyId: string; arn: string }> {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: description }));
  return { keyId: KeyMetadata?.KeyId ?? '', arn: KeyMetadata?.Arn ?? '' };
}

async function newAlias(keyId: string): Promise<string> {
  const name = `alias/test-${process.pid}-${++aliasCounter}`;
  await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyId }));
  return name;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('keys', () => {
  it('creates a symmetric key with a UUID id, an ARN in its region and the given tags', async () => {
    // Act
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({
        Description: 'backups',
        KeyUsage: 'ENCRYPT_DECRYPT',
        Tags: [{ TagKey: 'caretaker:managed', TagValue: 'true' }],
      }),
    );
    const tags = await kms.send(new ListResourceTagsCommand({ KeyId: KeyMetadata?.KeyId }));

    // Assess
    expect(KeyMetadata?.KeyId).toMatch(UUID);
    expect(KeyMetadata?.Arn).toBe(`arn:aws:kms:us-east-1:000000000000:key/${KeyMetadata?.KeyId}`);
    expect(KeyMetadata).toMatchObject({
      Description: 'backups',
      Enabled: true,
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
    });
    expect(KeyMetadata?.CreationDate).toBeInstanceOf(Date);
    expect(tags.Tags).toEqual([{ TagKey: 'caretaker:managed', TagValue: 'true' }]);
  });

  it('describes a key by id, key ARN, alias name and alias ARN', async () => {
    // Prepare
    const { keyId, arn } = await newKey();
    const alias = await newAlias(keyId);

    // Act
    const identifiers = [keyId, arn, alias, `arn:aws:kms:us-east-1:000000000000:${alias}`];
    const described = await Promise.all(
      identifiers.map((KeyId) => kms.send(new DescribeKeyCommand({ KeyId }))),
    );

    // Assess
    expect(described.map((d) => d.KeyMetadata?.Arn)).toEqual([arn, arn, arn, arn]);
  });

  it('does not find a key from another region', async () => {
    // Prepare
    const { keyId } = await newKey();
    const elsewhere = new KMSClient({ region: 'eu-west-1' });

    // Act
    const error = await failure(elsewhere.send(new DescribeKeyCommand({ KeyId: keyId })));

    // Assess
    expect(error.name).toBe('NotFoundException');
  });

  it('answers NotFoundException for a key that does not exist', async () => {
    const error = await failure(kms.send(new DescribeKeyCommand({ KeyId: 'alias/no-such-alias' })));
    expect(error.name).toBe('NotFoundException');
  });

  it('rejects a second alias with the same name', async () => {
    // Prepare
    const { keyId } = await newKey();
    const alias = await newAlias(keyId);

    // Act
    const error = await failure(kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId })));

    // Assess
    expect(error.name).toBe('AlreadyExistsException');
  });

  it('rejects alias names that do not begin with alias/', async () => {
    const { keyId } = await newKey();
    const error = await failure(
      kms.send(new CreateAliasCommand({ AliasName: 'backups', TargetKeyId: keyId })),
    );
    expect(error.name).toBe('InvalidAliasNameException');
  });

  it('lists the aliases of one key in pages', async () => {
    // Prepare
    const { keyId } = await newKey();
    const other = await newKey();
    const names = [await newAlias(keyId), await newAlias(keyId), await newAlias(keyId)];
    await newAlias(other.keyId);

    // Act
    const first = await kms.send(new ListAliasesCommand({ KeyId: keyId, Limit: 2 }));
    const second = await kms.send(
      new ListAliasesCommand({ KeyId: keyId, Limit: 2, Marker: first.NextMarker }),
    );

    // Assess
    expect(first.Truncated).toBe(true);
    expect(second.Truncated).toBe(false);
    const listed = [...(first.Aliases ?? []), ...(second.Aliases ?? [])];
    expect(listed.map((a) => a.AliasName)).toEqual(names.sort());
    expect(listed.every((a) => a.TargetKeyId === keyId && a.AliasArn?.endsWith(`:${a.AliasName}`))).toBe(
      true,
    );
  });

  it('reports rotation as disabled until it is enabled, then with its period', async () => {
    // Prepare
    const { keyId, arn } = await newKey();
    const before = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));

    // Act
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 180 }));
    const after = await kms.send(new GetKeyRotationStatusCommand({ KeyId: arn }));

    // Assess
    expect(before.KeyRotationEnabled).toBe(false);
    expect(after).toMatchObject({ KeyRotationEnabled: true, KeyId: arn, RotationPeriodInDays: 180 });
  });

  it('adds tags to a key', async () => {
    const { keyId } = await newKey();
    await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'team', TagValue: 'ops' }] }));
    const { Tags } = await kms.send(new ListResourceTagsCommand({ KeyId: keyId }));
    expect(Tags).toEqual([{ TagKey: 'team', TagValue: 'ops' }]);
  });

  it('refuses to encrypt under a disabled key, and encrypts again once it is enabled', async () => {
    // Prepare
    const { keyId } = await newKey();
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));

    // Act
    const error = await failure(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('x') })));
    await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    const encrypted = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('x') }));

    // Assess
    expect(error.name).toBe('DisabledException');
    expect(encrypted.CiphertextBlob?.length).toBeGreaterThan(0);
  });

  it('schedules a key for deletion, refuses to use it, and cancels the deletion into Disabled', async () => {
    // Prepare
    const { keyId, arn } = await newKey();

    // Act
    const scheduled = await kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }),
    );
    const error = await failure(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('x') })));
    await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    const described = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));

    // Assess
    expect(scheduled).toMatchObject({ KeyId: arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    const days = ((scheduled.DeletionDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    expect(error.name).toBe('KMSInvalidStateException');
    expect(described.KeyMetadata?.KeyState).toBe('Disabled');
  });

  it('describes keys in process for other services, and nothing for unknown identifiers', async () => {
    // Prepare
    const { keyId, arn } = await newKey();
    const alias = await newAlias(keyId);
    const service = handle.sandbox.context.service<KmsService>('kms');

    // Act
    const found = service?.describeKey('us-east-1', alias);
    const elsewhere = service?.describeKey('eu-west-1', arn);

    // Assess
    expect(found).toMatchObject({ Arn: arn, KeyState: 'Enabled' });
    expect(elsewhere).toBeUndefined();
  });
});

describe('encryption', () => {
  it('decrypts what it encrypted, finding the key from the ciphertext', async () => {
    // Prepare
    const { keyId, arn } = await newKey();
    const context = { bucket: 'backups', object: 'a/b' };
    const encrypted = await kms.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: text('secret'), EncryptionContext: context }),
    );

    // Act
    const decrypted = await kms.send(
      new DecryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        EncryptionContext: { object: 'a/b', bucket: 'backups' },
      }),
    );

    // Assess
    expect(encrypted.KeyId).toBe(arn);
    expect(decoded(decrypted.Plaintext)).toBe('secret');
    expect(decrypted).toMatchObject({ KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
  });

  it.each([
    ['a different value in the encryption context', { purpose: 'other' }],
    ['no encryption context', undefined],
  ])('rejects decryption given %s', async (_label, context) => {
    // Prepare
    const { keyId } = await newKey();
    const encrypted = await kms.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: text('secret'),
        EncryptionContext: { purpose: 'backup' },
      }),
    );

    // Act
    const error = await failure(
      kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context })),
    );

    // Assess
    expect(error.name).toBe('InvalidCiphertextException');
  });

  it('rejects decryption naming a different key with IncorrectKeyException', async () => {
    // Prepare
    const { keyId } = await newKey();
    const other = await newKey();
    const encrypted = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('secret') }));

    // Act
    const error = await failure(
      kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, KeyId: other.arn })),
    );

    // Assess
    expect(error.name).toBe('IncorrectKeyException');
  });

  it('rejects a tampered ciphertext', async () => {
    // Prepare
    const { keyId } = await newKey();
    const encrypted = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('secret') }));
    const tampered = Uint8Array.from(encrypted.CiphertextBlob ?? []);
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 0x01;

    // Act
    const error = await failure(kms.send(new DecryptCommand({ CiphertextBlob: tampered })));

    // Assess
    expect(error.name).toBe('InvalidCiphertextException');
  });

  it('rejects a ciphertext in a region where its key does not exist', async () => {
    const { keyId } = await newKey();
    const encrypted = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('secret') }));
    const elsewhere = new KMSClient({ region: 'eu-west-1' });
    const error = await failure(
      elsewhere.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob })),
    );
    expect(error.name).toBe('InvalidCiphertextException');
  });

  it.each([
    [{ KeySpec: 'AES_256' as const }, 32],
    [{ KeySpec: 'AES_128' as const }, 16],
    [{ NumberOfBytes: 64 }, 64],
  ])(
    'generates a data key of the requested size (%o) whose ciphertext decrypts to it',
    async (size, bytes) => {
      // Prepare
      const { keyId } = await newKey();
      const context = { backupId: '20260101T000000Z-0123abcd' };

      // Act
      const generated = await kms.send(
        new GenerateDataKeyCommand({ KeyId: keyId, EncryptionContext: context, ...size }),
      );
      const decrypted = await kms.send(
        new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: context }),
      );

      // Assess
      expect(generated.Plaintext?.length).toBe(bytes);
      expect(decrypted.Plaintext).toEqual(generated.Plaintext);
    },
  );

  it('requires either a key spec or a number of bytes for a data key', async () => {
    const { keyId } = await newKey();
    const error = await failure(kms.send(new GenerateDataKeyCommand({ KeyId: keyId })));
    expect(error.name).toBe('ValidationException');
  });

  it('generates a data key without plaintext that decrypts to a 256-bit key', async () => {
    // Prepare
    const { keyId } = await newKey();

    // Act
    const generated = await kms.send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256' }),
    );
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob }));

    // Assess
    expect(generated).not.toHaveProperty('Plaintext');
    expect(decrypted.Plaintext?.length).toBe(32);
  });

  it('re-encrypts under another key and context', async () => {
    // Prepare
    const source = await newKey();
    const destination = await newKey();
    const destinationAlias = await newAlias(destination.keyId);
    const encrypted = await kms.send(
      new EncryptCommand({
        KeyId: source.keyId,
        Plaintext: text('secret'),
        EncryptionContext: { stage: 'one' },
      }),
    );

    // Act
    const reEncrypted = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        SourceEncryptionContext: { stage: 'one' },
        DestinationKeyId: destinationAlias,
        DestinationEncryptionContext: { stage: 'two' },
      }),
    );
    const decrypted = await kms.send(
      new DecryptCommand({
        CiphertextBlob: reEncrypted.CiphertextBlob,
        EncryptionContext: { stage: 'two' },
        KeyId: destination.keyId,
      }),
    );

    // Assess
    expect(reEncrypted).toMatchObject({ SourceKeyId: source.arn, KeyId: destination.arn });
    expect(decoded(decrypted.Plaintext)).toBe('secret');
  });

  it('round-trips data through the AWS Encryption SDK with a KMS keyring', async () => {
    // Prepare
    const { keyId, arn } = await newKey();
    const alias = await newAlias(keyId);
    const client = new KMS({});
    const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const plaintext = Buffer.alloc(256 * 1024, 'caretaker backup object ');

    // Act
    const { result } = await encrypt(
      new KmsKeyringNode({ generatorKeyId: alias, clientProvider: () => client }),
      plaintext,
      {
        encryptionContext: { set: 'daily' },
      },
    );
    const decrypted = await decrypt(
      new KmsKeyringNode({ keyIds: [arn], clientProvider: () => client }),
      result,
    );

    // Assess
    expect(result.includes(plaintext.subarray(0, 64))).toBe(false);
    expect(decrypted.plaintext.equals(plaintext)).toBe(true);
    expect(decrypted.messageHeader.encryptionContext).toMatchObject({ set: 'daily' });
    expect(decrypted.messageHeader.encryptedDataKeys.map((edk) => edk.providerInfo)).toEqual([arn]);
  });
});

describe('persistence', () => {
  it('decrypts, after a restart with the same data directory, what it encrypted before', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'caretaker-kms-restart-'));
    const clientFor = (url: string) => new KMSClient({ endpoint: url });
    try {
      const first = await startSandbox({ port: 0, dataDir, services: [kmsService] });
      const before = clientFor(first.url);
      const { KeyMetadata } = await before.send(new CreateKeyCommand({}));
      await before.send(
        new CreateAliasCommand({ AliasName: 'alias/restart', TargetKeyId: KeyMetadata?.KeyId }),
      );
      const encrypted = await before.send(
        new EncryptCommand({ KeyId: 'alias/restart', Plaintext: text('kept') }),
      );
      await first.stop();

      // Act
      const second = await startSandbox({ port: 0, dataDir, services: [kmsService] });
      const after = clientFor(second.url);
      const decrypted = await after.send(
        new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, KeyId: 'alias/restart' }),
      );
      await second.stop();

      // Assess
      expect(decoded(decrypted.Plaintext)).toBe('kept');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('wire protocol', () => {
  const signed = {
    'content-type': 'application/x-amz-json-1.1',
    authorization:
      'AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0',
  };

  it('answers an unknown operation with UnknownOperationException', async () => {
    const response = await fetch(handle.sandbox.url, {
      method: 'POST',
      headers: { ...signed, 'x-amz-target': 'TrentService.LaunchRockets' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('answers a malformed body with SerializationException', async () => {
    const response = await fetch(handle.sandbox.url, {
      method: 'POST',
      headers: { ...signed, 'x-amz-target': 'TrentService.Encrypt' },
      body: '{"KeyId": ',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'SerializationException' });
  });
});
