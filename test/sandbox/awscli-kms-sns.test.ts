import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { snsService } from '../../sandbox/services/sns/index.ts';
import { withAwsCli } from '../support/awscli.ts';
import { withSandbox } from '../support/sandbox.ts';

const handle = withSandbox([kmsService, snsService]);
const cli = withAwsCli(() => handle.sandbox.url);
const aws = (...args: string[]) => cli.run(args, { json: true });
const awsFailure = (...args: string[]) => cli.failure(...args);

beforeAll(() => {});

describe('awscli v2 against the sandbox KMS', () => {
  let keyId: string;
  let plaintextFile: string;
  const plaintext = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));

  beforeAll(async () => {
    const created = JSON.parse(await aws('kms', 'create-key', '--description', 'awscli test'));
    keyId = created.KeyMetadata.KeyId;
    await aws('kms', 'create-alias', '--alias-name', 'alias/awscli', '--target-key-id', keyId);
    plaintextFile = join(cli.home, 'plaintext.bin');
    writeFileSync(plaintextFile, plaintext);
  });

  async function encryptToFile(context: string): Promise<string> {
    const encrypted = JSON.parse(
      await aws(
        'kms',
        'encrypt',
        '--key-id',
        'alias/awscli',
        '--plaintext',
        `fileb://${plaintextFile}`,
        '--encryption-context',
        context,
      ),
    );
    const file = join(cli.home, `ciphertext-${Date.now()}.bin`);
    writeFileSync(file, Buffer.from(encrypted.CiphertextBlob, 'base64'));
    return file;
  }

  it('encrypts a binary file and decrypts it back to the same bytes', async () => {
    // Prepare
    const ciphertextFile = await encryptToFile('purpose=backup');

    // Act
    const decrypted = JSON.parse(
      await aws(
        'kms',
        'decrypt',
        '--ciphertext-blob',
        `fileb://${ciphertextFile}`,
        '--encryption-context',
        'purpose=backup',
      ),
    );

    // Assess
    expect(Buffer.from(decrypted.Plaintext, 'base64').equals(plaintext)).toBe(true);
    expect(decrypted.KeyId).toBe(`arn:aws:kms:us-east-1:000000000000:key/${keyId}`);
    expect(readFileSync(ciphertextFile).includes(plaintext.subarray(0, 32))).toBe(false);
  });

  it('refuses to decrypt with a different encryption context', async () => {
    // Prepare
    const ciphertextFile = await encryptToFile('purpose=backup');

    // Act
    const stderr = await awsFailure(
      'kms',
      'decrypt',
      '--ciphertext-blob',
      `fileb://${ciphertextFile}`,
      '--encryption-context',
      'purpose=restore',
    );

    // Assess
    expect(stderr).toContain('InvalidCiphertextException');
  });
});

describe('awscli v2 against the sandbox SNS', () => {
  let topicArn: string;

  beforeAll(async () => {
    topicArn = JSON.parse(await aws('sns', 'create-topic', '--name', 'awscli-alerts')).TopicArn;
  });

  it('publishes a message that the sandbox keeps, with its subject and attributes', async () => {
    // Act
    const published = JSON.parse(
      await aws(
        'sns',
        'publish',
        '--topic-arn',
        topicArn,
        '--subject',
        'Restore drill passed',
        '--message',
        'The weekly restore drill of "orders" passed.',
        '--message-attributes',
        '{"severity":{"DataType":"String","StringValue":"info"}}',
      ),
    );
    const kept = (await (await fetch(`${handle.sandbox.url}/_sandbox/sns/messages`)).json()) as {
      messages: Array<Record<string, unknown>>;
    };

    // Assess
    expect(kept.messages).toContainEqual(
      expect.objectContaining({
        messageId: published.MessageId,
        topicArn,
        subject: 'Restore drill passed',
        message: 'The weekly restore drill of "orders" passed.',
        messageAttributes: { severity: { DataType: 'String', StringValue: 'info' } },
      }),
    );
  });

  it('is refused a subject longer than 100 characters', async () => {
    const stderr = await awsFailure(
      'sns',
      'publish',
      '--topic-arn',
      topicArn,
      '--subject',
      'x'.repeat(101),
      '--message',
      'm',
    );
    expect(stderr).toContain('InvalidParameter');
  });
});
