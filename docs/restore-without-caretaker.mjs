#!/usr/bin/env node
/**
 * Restores a Caretaker backup into a local directory without Caretaker: only the AWS SDK for
 * JavaScript v3 (S3) and the AWS Encryption SDK for JavaScript. See
 * docs/backup-restore-without-caretaker.md.
 *
 *   npm install @aws-sdk/client-s3 @aws-crypto/client-node
 *   node restore-without-caretaker.mjs --bucket <backup bucket> --set <set> --backup <backupId> \
 *     --key-arn <KMS key ARN> --out <directory> [--prefix <source key prefix>]
 *
 * It checks the manifest seal, each part's SHA-256, each object's encryption context, SHA-256
 * and size, and exits non-zero on the first mismatch.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';

const { values: args } = parseArgs({
  options: {
    bucket: { type: 'string' },
    set: { type: 'string' },
    backup: { type: 'string' },
    'key-arn': { type: 'string' },
    out: { type: 'string' },
    prefix: { type: 'string', default: '' },
  },
});
for (const name of ['bucket', 'set', 'backup', 'key-arn', 'out']) {
  if (!args[name]) throw new Error(`--${name} is required`);
}

const s3 = new S3Client({});
const { decrypt, decryptUnsignedMessageStream } = buildClient(
  CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
);
const keyring = new KmsKeyringNode({ keyIds: [args['key-arn']] });
const base = `backups/${args.set}/${args.backup}/`;
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

async function get(key) {
  const object = await s3.send(new GetObjectCommand({ Bucket: args.bucket, Key: key }));
  return Buffer.from(await object.Body.transformToByteArray());
}

function sameContext(actual, expected) {
  const keys = Object.keys(expected);
  return Object.keys(actual).length === keys.length && keys.every((key) => actual[key] === expected[key]);
}

// A stored object's context names the set and the backup that stored it (format 2, where the
// objects of a backup share data keys); a copy stored by format 1 (one data key per object) also
// names its source key. An incremental may point at copies of either kind. The SHA-256 checked
// below is what binds a copy to its entry.
function acceptedContexts(set, entry) {
  const stored = { 'caretaker:set': set, 'caretaker:backup-id': entry.storedBackupId };
  return [stored, { ...stored, 'caretaker:source-key': entry.key }];
}

// 1. The manifest, authenticated by its seal (a KMS-encrypted SHA-256 of its bytes).
const manifestBytes = await get(`${base}manifest.json`);
const sealContext = {
  'caretaker:set': args.set,
  'caretaker:backup-id': args.backup,
  'caretaker:purpose': 'manifest-seal',
};
const seal = await decrypt(keyring, await get(`${base}manifest.seal`));
if (!sameContext(seal.messageHeader.encryptionContext, sealContext))
  throw new Error('the seal belongs to another backup');
if (JSON.parse(seal.plaintext.toString()).manifestSha256 !== sha256(manifestBytes))
  throw new Error('the manifest was edited');
const manifest = JSON.parse(manifestBytes.toString());
const outDir = resolve(args.out);
let restored = 0;

for (const part of manifest.parts) {
  // 2. Each part, checked against the SHA-256 the manifest records.
  const partBytes = await get(part.key);
  if (sha256(partBytes) !== part.sha256) throw new Error(`manifest part ${part.key} was edited`);
  for (const entry of JSON.parse(partBytes.toString()).objects) {
    const relative = entry.key.slice(manifest.source.prefix.length);
    if (!entry.key.startsWith(args.prefix) || relative === '') continue;
    const path = resolve(join(outDir, relative));
    if (!path.startsWith(outDir + sep)) throw new Error(`refusing to write outside ${outDir}: ${entry.key}`);
    if (entry.key.endsWith('/') && entry.size === 0) {
      await mkdir(path, { recursive: true });
      continue;
    }
    // 3. Each object: decrypted with the key ARN, its context, size and SHA-256 checked before it is kept.
    const expected = acceptedContexts(manifest.set, entry);
    // A small object's copy may sit in a pack with others: its range is its own message.
    const range =
      entry.storedOffset === undefined
        ? {}
        : { Range: `bytes=${entry.storedOffset}-${entry.storedOffset + entry.storedSize - 1}` };
    const stored = await s3.send(
      new GetObjectCommand({ Bucket: args.bucket, Key: entry.storedKey, ...range }),
    );
    const decrypting = decryptUnsignedMessageStream(keyring);
    decrypting.once('MessageHeader', (header) => {
      if (!expected.some((context) => sameContext(header.encryptionContext, context))) {
        decrypting.destroy(new Error(`${entry.storedKey} is not the copy of ${entry.key}`));
      }
    });
    const hash = createHash('sha256');
    let size = 0;
    const check = new Transform({
      transform(chunk, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    await mkdir(dirname(path), { recursive: true });
    await pipeline(stored.Body, decrypting, check, createWriteStream(`${path}.partial`));
    if (size !== entry.size || hash.digest('hex') !== entry.sha256)
      throw new Error(`${entry.key} does not match the manifest`);
    await rename(`${path}.partial`, path);
    restored++;
  }
}
console.log(`restored ${restored} object(s) of ${args.set}/${args.backup} into ${outDir}`);
