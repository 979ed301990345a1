/**
 * IAM enforced on KMS for a role session: key policies that enable IAM policies or not, a key
 * policy naming the role itself, encryption-context conditions, aliases resolved to their key, and
 * the AccessDeniedException KMS answers.
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { iamRegistryService } from '../../sandbox/iam-registry/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import { ACCOUNT, asAdministrator, asRole, failure, role } from './iam-support.ts';

const handle = withSandbox([kmsService, iamRegistryService], {
  settings: { iam: { enforcement: 'enforce' } },
});
const sandbox = () => handle.sandbox;
const admin = () => new KMSClient(asAdministrator(sandbox()));

async function key(policy?: unknown): Promise<string> {
  const created = await admin().send(
    new CreateKeyCommand({
      Description: 'test',
      ...(policy === undefined ? {} : { Policy: JSON.stringify(policy) }),
    }),
  );
  return created.KeyMetadata?.Arn ?? '';
}

const useKey = (keyArn: string) => ({
  Effect: 'Allow',
  Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
  Resource: keyArn,
});

let defaultKey = '';
beforeAll(async () => {
  defaultKey = await key();
  await admin().send(new CreateAliasCommand({ AliasName: 'alias/backups', TargetKeyId: defaultKey }));
});

describe('a role session calling KMS', () => {
  it('uses a key with the default key policy when its identity policy allows it, by key id or alias', async () => {
    const user = role(sandbox(), 'KeyUser', [useKey(defaultKey)]);
    const kms = new KMSClient(asRole(sandbox(), user));

    const byAlias = await kms.send(
      new GenerateDataKeyCommand({ KeyId: 'alias/backups', KeySpec: 'AES_256' }),
    );

    expect(byAlias.KeyId).toBe(defaultKey);
  });

  it('is refused a key whose policy does not enable IAM policies, with AccessDeniedException', async () => {
    const locked = await key({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/KeyAdmin` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    });
    const user = role(sandbox(), 'LockedOut', [useKey(locked)]);

    const refused = await failure(
      new KMSClient(asRole(sandbox(), user)).send(new DescribeKeyCommand({ KeyId: locked })),
    );

    expect(refused.name).toBe('AccessDeniedException');
    expect(refused.$metadata?.httpStatusCode).toBe(400);
    expect(refused.message).toBe(
      `User: ${user.principal} is not authorized to perform: kms:DescribeKey on resource: ${locked} because no resource-based policy allows the kms:DescribeKey action`,
    );
    expect(sandbox().denials().at(-1)).toMatchObject({
      reason: 'KeyPolicyDoesNotEnableIamPolicies',
      action: 'kms:DescribeKey',
    });
  });

  it('uses a key whose policy names its role directly, without any identity policy', async () => {
    const direct = await key({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Named` },
          Action: 'kms:Encrypt',
          Resource: '*',
        },
      ],
    });
    const named = role(sandbox(), 'Named', []);

    const sealed = await new KMSClient(asRole(sandbox(), named)).send(
      new EncryptCommand({ KeyId: direct, Plaintext: Buffer.from('x') }),
    );

    expect(sealed.KeyId).toBe(direct);
  });

  it('honours encryption-context conditions: decrypts its own context, is refused another', async () => {
    const scoped = role(sandbox(), 'Scoped', [
      { ...useKey(defaultKey), Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'backup' } } },
    ]);
    const kms = new KMSClient(asRole(sandbox(), scoped));
    const mine = await admin().send(
      new EncryptCommand({
        KeyId: defaultKey,
        Plaintext: Buffer.from('m'),
        EncryptionContext: { purpose: 'backup' },
      }),
    );
    const theirs = await admin().send(
      new EncryptCommand({
        KeyId: defaultKey,
        Plaintext: Buffer.from('t'),
        EncryptionContext: { purpose: 'report' },
      }),
    );

    const opened = await kms.send(
      new DecryptCommand({ CiphertextBlob: mine.CiphertextBlob, EncryptionContext: { purpose: 'backup' } }),
    );
    const refused = await failure(
      kms.send(
        new DecryptCommand({
          CiphertextBlob: theirs.CiphertextBlob,
          EncryptionContext: { purpose: 'report' },
        }),
      ),
    );

    expect(Buffer.from(opened.Plaintext ?? []).toString()).toBe('m');
    expect(refused.message).toContain(`kms:Decrypt on resource: ${defaultKey}`);
  });

  it("is refused a key its identity policy does not name, though the key's policy enables IAM", async () => {
    const other = role(sandbox(), 'Elsewhere', [
      useKey(`arn:aws:kms:us-east-1:${ACCOUNT}:key/00000000-0000-0000-0000-000000000000`),
    ]);

    const refused = await failure(
      new KMSClient(asRole(sandbox(), other)).send(new DescribeKeyCommand({ KeyId: 'alias/backups' })),
    );

    expect(refused.message).toMatch(/because no identity-based policy allows the kms:DescribeKey action$/);
  });
});
