/**
 * Data-key reuse on the sandbox's KMS: stored objects share a data key until the configured
 * number of messages, bytes or age is reached, then KMS makes a new one; concurrent objects on a
 * cold cache make one GenerateDataKey; seals never reuse a key; reading back asks KMS once per
 * data key. Keys are told apart by the encrypted data key in each message's header (read with the
 * stock Encryption SDK) and KMS calls are counted at the sandbox.
 */
import { Readable } from 'node:stream';
import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackupCrypto, backupCrypto } from '../../functions/common/backup/crypto.ts';
import type { DataKeyLimits } from '../../functions/common/backup/data-keys.ts';
import { objectContext } from '../../functions/common/backup/manifest.ts';
import type { ServiceFactory } from '../../sandbox/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { withSandbox } from '../support/sandbox.ts';

/** KMS operations the sandbox served, by name. */
const kmsCalls = new Map<string, number>();
const countingKms: ServiceFactory = async (context) => {
  const service = await kmsService(context);
  return new Proxy(service, {
    get(target, property) {
      if (property === 'handle') {
        return (req: Parameters<typeof target.handle>[0], res: Parameters<typeof target.handle>[1]) => {
          const operation = String(req.headers['x-amz-target'] ?? '').replace(/^TrentService\./, '');
          kmsCalls.set(operation, (kmsCalls.get(operation) ?? 0) + 1);
          return target.handle(req, res);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
};

withSandbox([s3Service, countingKms]);
let keyArn: string;
beforeAll(async () => {
  keyArn = (await new KMSClient({}).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
});

const stock = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/** The encrypted data key a message carries (base64): equal means the same data key. */
async function dataKeyOf(message: Buffer): Promise<string> {
  const { messageHeader } = await stock.decrypt(new KmsKeyringNode({ keyIds: [keyArn] }), message);
  return Buffer.from(messageHeader.encryptedDataKeys[0]!.encryptedDataKey).toString('base64');
}

/** KMS calls of `operation` made while `work` ran. */
async function counting<T>(operation: string, work: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const before = kmsCalls.get(operation) ?? 0;
  const result = await work();
  return { result, calls: (kmsCalls.get(operation) ?? 0) - before };
}

let backups = 0;
/** A crypto with the given limits, and a context no other test uses (a cache entry of its own). */
function fresh(
  limits: Partial<DataKeyLimits>,
  frameLength?: number,
): { crypto: BackupCrypto; context: Record<string, string> } {
  const dataKeys = { maxAgeMs: 60_000, maxMessages: 1000, maxBytes: 1024 ** 3, ...limits };
  const id = `20260101T000000Z-${String(++backups).padStart(8, '0')}`;
  return {
    crypto: backupCrypto({ keyArn, dataKeys, ...(frameLength ? { frameLength } : {}) }),
    context: objectContext('keys', id),
  };
}

/** Streams `chunks` through the object encryption, telling it the length up front. */
async function encryptStreamed(crypto: BackupCrypto, context: Record<string, string>, chunks: Buffer[]) {
  const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const encrypt = crypto.encryptObjectStream(context, length);
  Readable.from(chunks).pipe(encrypt);
  const out: Buffer[] = [];
  for await (const chunk of encrypt) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

/** Group sizes of consecutive equal values: [a, a, b, c, c] → [2, 1, 2]. */
function runs(values: readonly string[]): number[] {
  const out: number[] = [];
  values.forEach((value, index) => {
    if (index > 0 && value === values[index - 1]) out[out.length - 1]!++;
    else out.push(1);
  });
  return out;
}

async function encryptInOrder(crypto: BackupCrypto, context: Record<string, string>, sizes: number[]) {
  const messages: Buffer[] = [];
  for (const size of sizes) messages.push(await crypto.encryptObject(Buffer.alloc(size, 7), context));
  return messages;
}

describe('data keys of stored objects', () => {
  it('serve the configured number of messages, then KMS makes a new one', async () => {
    const { crypto, context } = fresh({ maxMessages: 3 });

    const { result: messages, calls } = await counting('GenerateDataKey', () =>
      encryptInOrder(crypto, context, [10, 10, 10, 10, 10, 10, 10]),
    );

    expect(runs(await Promise.all(messages.map(dataKeyOf)))).toEqual([3, 3, 1]);
    expect(calls).toBe(3);
  });

  it('serve the configured number of plaintext bytes, then KMS makes a new one', async () => {
    const { crypto, context } = fresh({ maxBytes: 10_000 });

    const messages = await encryptInOrder(crypto, context, [4000, 4000, 4000, 4000, 9000, 2000]);

    // 4000 + 4000 fit in 10,000; a third 4000 would not. 9000 alone fits; 9000 + 2000 would not.
    expect(runs(await Promise.all(messages.map(dataKeyOf)))).toEqual([2, 2, 1, 1]);
  });

  it('serve for the configured age, then KMS makes a new one', async () => {
    const { crypto, context } = fresh({ maxAgeMs: 300 });

    const early = await encryptInOrder(crypto, context, [10, 10]);
    await new Promise((resolve) => setTimeout(resolve, 450));
    const late = await encryptInOrder(crypto, context, [10, 10]);

    const keys = await Promise.all([...early, ...late].map(dataKeyOf));
    expect(runs(keys)).toEqual([2, 2]);
  });

  it('are one per encryption context: another backup gets a key of its own', async () => {
    const a = fresh({});
    const b = { crypto: a.crypto, context: objectContext('keys', '20261231T000000Z-ffffffff') };

    const [fromA, fromB] = [
      await a.crypto.encryptObject(Buffer.from('a'), a.context),
      await b.crypto.encryptObject(Buffer.from('b'), b.context),
    ];

    expect(await dataKeyOf(fromA)).not.toBe(await dataKeyOf(fromB));
  });

  it('are generated once for many objects starting together on a cold cache', async () => {
    const { crypto, context } = fresh({});

    const { result: messages, calls } = await counting('GenerateDataKey', () =>
      Promise.all(
        Array.from({ length: 24 }, (_, i) => crypto.encryptObject(Buffer.from(`object ${i}`), context)),
      ),
    );

    expect(calls).toBe(1);
    expect(new Set(await Promise.all(messages.map(dataKeyOf))).size).toBe(1);
  });

  it('one per object when the limit is one message (the format-1 behaviour)', async () => {
    const { crypto, context } = fresh({ maxMessages: 1 });

    const { result: messages, calls } = await counting('GenerateDataKey', () =>
      encryptInOrder(crypto, context, [1, 1, 1]),
    );

    expect(calls).toBe(3);
    expect(new Set(await Promise.all(messages.map(dataKeyOf))).size).toBe(3);
  });

  it('are shared by streamed objects too, whose chunks cross frame boundaries', async () => {
    const { crypto, context } = fresh({}, 1024);
    // 6,300 bytes in chunks of 700 and frames of 1 KiB: most chunks straddle two frames.
    const chunks = Array.from({ length: 9 }, (_, i) => Buffer.alloc(700, i));

    const { result: messages, calls } = await counting('GenerateDataKey', async () => [
      await crypto.encryptObject(Buffer.from('small'), context),
      await encryptStreamed(crypto, context, chunks),
      await encryptStreamed(crypto, context, chunks),
    ]);

    expect(calls).toBe(1);
    expect(new Set(await Promise.all(messages.map(dataKeyOf))).size).toBe(1);
    const { plaintext } = await stock.decrypt(new KmsKeyringNode({ keyIds: [keyArn] }), messages[2]!);
    expect(plaintext).toEqual(Buffer.concat(chunks));
  });

  it('are never reused by manifest seals', async () => {
    const { crypto } = fresh({});
    const context = {
      'caretaker:set': 'keys',
      'caretaker:backup-id': '20260101T000000Z-aaaaaaaa',
      'caretaker:purpose': 'manifest-seal',
    };

    const { result: seals, calls } = await counting('GenerateDataKey', async () => [
      await crypto.encrypt(Buffer.from('one'), context),
      await crypto.encrypt(Buffer.from('two'), context),
    ]);

    expect(calls).toBe(2);
    expect(await dataKeyOf(seals[0]!)).not.toBe(await dataKeyOf(seals[1]!));
  });
});

describe('reading back', () => {
  it('asks KMS once per data key, not once per object', async () => {
    const { crypto, context } = fresh({ maxMessages: 5 });
    const messages = await encryptInOrder(
      crypto,
      context,
      Array.from({ length: 10 }, () => 100),
    );
    const reader = backupCrypto({ keyArn, dataKeys: crypto.dataKeys });

    const { calls } = await counting('Decrypt', async () => {
      for (const message of messages) {
        const decrypt = reader.decryptStream(context);
        Readable.from([message]).pipe(decrypt);
        for await (const _chunk of decrypt) {
          // drain
        }
      }
    });

    expect(calls).toBe(2);
  });
});
