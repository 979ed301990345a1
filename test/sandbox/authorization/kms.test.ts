/**
 * KMS's IAM mapping (sandbox/services/kms/authorization.ts): the key (never the alias) as the
 * resource a key policy governs, the condition keys KMS supplies, and the two-resource operations.
 */
import { describe, expect, it } from 'vitest';
import type { AccessCheck } from '../../../sandbox/core/access/checks.ts';
import {
  type KmsAuthorizationView,
  type KmsKeyFacts,
  kmsAccessChecks,
  kmsOnBehalf,
} from '../../../sandbox/services/kms/authorization.ts';
import { JsonInput } from '../../../sandbox/services/kms/input.ts';
import { contractProblems } from './contract.ts';

const KEY_ID = '11111111-2222-3333-4444-555555555555';
const OTHER_ID = '99999999-2222-3333-4444-555555555555';
const arn = (id: string) => `arn:aws:kms:us-east-1:000000000000:key/${id}`;

const view: KmsAuthorizationView = {
  region: 'us-east-1',
  accountId: '000000000000',
  key(identifier): KmsKeyFacts | undefined {
    if (identifier === KEY_ID || identifier === arn(KEY_ID) || identifier === 'alias/backups')
      return { arn: arn(KEY_ID), tags: { 'caretaker:managed': 'true' }, aliases: ['alias/backups'] };
    if (identifier === OTHER_ID) return { arn: arn(OTHER_ID), tags: {}, aliases: [] };
    return undefined;
  },
  keyOfCiphertext: (blob) =>
    blob.toString() === 'sealed-by-key' ? { arn: arn(KEY_ID), tags: {}, aliases: [] } : undefined,
  aliasArn: (name) => `arn:aws:kms:us-east-1:000000000000:${name}`,
};

const checks = (operation: string, body: Record<string, unknown>) =>
  kmsAccessChecks(operation, new JsonInput(body), view);
const pairs = (list: readonly AccessCheck[]) =>
  list.flatMap((c) => c.resources.map((r) => `${c.action} ${r.arn}`));

describe('KMS operations and the actions they need', () => {
  it('authorizes GenerateDataKey by alias on the key it names, with kms:RequestAlias and the encryption context', async () => {
    const result = checks('GenerateDataKey', {
      KeyId: 'alias/backups',
      EncryptionContext: { purpose: 'backup' },
    });

    expect(pairs(result)).toEqual([`kms:GenerateDataKey ${arn(KEY_ID)}`]);
    expect(result[0]?.resources[0]?.kmsKey).toBe(true);
    expect(result[0]?.context).toMatchObject({
      'kms:RequestAlias': 'alias/backups',
      'kms:CallerAccount': '000000000000',
      'kms:EncryptionContext:purpose': 'backup',
      'kms:EncryptionContextKeys': ['purpose'],
    });
    expect(result[0]?.resources[0]?.context).toMatchObject({
      'aws:ResourceTag/caretaker:managed': 'true',
      'kms:ResourceAliases': ['alias/backups'],
    });
    expect(await contractProblems(result)).toEqual([]);
  });

  it('authorizes Decrypt on the key the ciphertext names when the request names none', async () => {
    const result = checks('Decrypt', { CiphertextBlob: Buffer.from('sealed-by-key').toString('base64') });

    expect(pairs(result)).toEqual([`kms:Decrypt ${arn(KEY_ID)}`]);
    expect(result[0]?.context?.['kms:EncryptionAlgorithm']).toBe('SYMMETRIC_DEFAULT');
    expect(await contractProblems(result)).toEqual([]);
  });

  it('authorizes ReEncrypt as ReEncryptFrom on the source key and ReEncryptTo on the destination', async () => {
    const result = checks('ReEncrypt', {
      CiphertextBlob: Buffer.from('sealed-by-key').toString('base64'),
      DestinationKeyId: OTHER_ID,
    });

    expect(pairs(result)).toEqual([`kms:ReEncryptFrom ${arn(KEY_ID)}`, `kms:ReEncryptTo ${arn(OTHER_ID)}`]);
    expect(result[0]?.context?.['kms:ReEncryptOnSameKey']).toBe(false);
    expect(await contractProblems(result)).toEqual([]);
  });

  it('authorizes CreateAlias on the alias (no key policy) and on the target key', async () => {
    const result = checks('CreateAlias', { AliasName: 'alias/new', TargetKeyId: KEY_ID });

    expect(pairs(result)).toEqual([
      'kms:CreateAlias arn:aws:kms:us-east-1:000000000000:alias/new',
      `kms:CreateAlias ${arn(KEY_ID)}`,
    ]);
    expect(result[0]?.resources[0]?.policyOf).toBeNull();
    expect(await contractProblems(result)).toEqual([]);
  });

  it('authorizes CreateKey on "*" with the key spec and the request tags, and tagging it with kms:TagResource', async () => {
    const result = checks('CreateKey', { Tags: [{ TagKey: 'team', TagValue: 'ops' }] });

    expect(result.map((c) => c.action)).toEqual(['kms:CreateKey', 'kms:TagResource']);
    expect(result[0]?.context).toMatchObject({
      'kms:KeySpec': 'SYMMETRIC_DEFAULT',
      'aws:RequestTag/team': 'ops',
      'aws:TagKeys': ['team'],
    });
    expect(await contractProblems(result)).toEqual([]);
  });

  it('leaves a key that does not exist to the operation (NotFoundException), not to IAM', () => {
    expect(checks('DescribeKey', { KeyId: 'alias/none' })).toEqual([]);
  });

  it('maps every key-management operation to a real action on the key', async () => {
    const operations = [
      'DescribeKey',
      'EnableKey',
      'DisableKey',
      'ScheduleKeyDeletion',
      'CancelKeyDeletion',
      'EnableKeyRotation',
      'DisableKeyRotation',
      'GetKeyRotationStatus',
      'ListResourceTags',
      'TagResource',
      'UntagResource',
      'Encrypt',
      'GenerateDataKeyWithoutPlaintext',
    ];
    const result = operations.flatMap((operation) =>
      checks(operation, {
        KeyId: KEY_ID,
        Tags: [{ TagKey: 'a', TagValue: 'b' }],
        TagKeys: ['a'],
        Plaintext: 'eA==',
      }),
    );

    expect(result.map((c) => c.action)).toEqual(operations.map((operation) => `kms:${operation}`));
    expect(
      await contractProblems([...result, ...checks('ListKeys', {}), ...checks('ListAliases', {})]),
    ).toEqual([]);
  });

  it('describes a call S3 makes for its caller: kms:ViaService, the encryption context and aws:CalledVia', async () => {
    const key = { arn: arn(KEY_ID), tags: {}, aliases: [] };
    const check = kmsOnBehalf(
      'kms:GenerateDataKey',
      key,
      { service: 's3', region: 'eu-west-1', accountId: '000000000000' },
      { 'aws:s3:arn': 'arn:aws:s3:::b/k' },
    );

    expect(check.calledVia).toBe('s3.amazonaws.com');
    expect(check.context).toMatchObject({
      'kms:ViaService': 's3.eu-west-1.amazonaws.com',
      'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::b/k',
    });
    expect(await contractProblems([check])).toEqual([]);
  });
});
