/**
 * Backups made before format 2 stay readable: a format-1 chain (a full backup and an incremental,
 * made by the code of commit c733b2e and committed with the sandbox KMS key that encrypted it,
 * test/fixtures/backup/format-1-backup.json) is loaded into a fresh sandbox, then verified,
 * restored (by Caretaker and by the documented script without it), chained onto by a format-2
 * incremental that reuses its copies, and its per-object binding is still enforced.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupCrypto } from '../../functions/common/backup/crypto.ts';
import { manifestSchema, partSchema } from '../../functions/common/backup/manifest.ts';
import { checkStoredObject } from '../../functions/common/backup/read-object.ts';
import { startSandbox } from '../../sandbox/core/server.ts';
import type { Sandbox } from '../../sandbox/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { patternBytes } from '../fixtures/backup/pattern.ts';
import {
  backup,
  context,
  readAll,
  restore,
  restoreFannedOut,
  untilDone,
  verify,
  verifyFannedOut,
} from './backup-harness.ts';

interface Fixture {
  readonly keyArn: string;
  readonly kmsKeys: unknown;
  readonly set: string;
  readonly sourceBucket: string;
  readonly prefix: string;
  readonly backupBucket: string;
  readonly backups: { readonly full: string; readonly incremental: string };
  readonly objects: ReadonlyArray<{ readonly key: string; readonly body: string }>;
}

const FIXTURE = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/backup/format-1-backup.json', import.meta.url)), 'utf8'),
) as Fixture;
const SCRIPT = fileURLToPath(new URL('../../docs/restore-without-caretaker.mjs', import.meta.url));

/** The source as it was when the format-1 incremental was taken (see make-format-1-fixture.ts). */
const SOURCE: Record<string, { body: Buffer; extra?: Record<string, unknown> }> = {
  'data/a.txt': { body: Buffer.from('alpha, changed\n'), extra: { ContentType: 'text/plain' } },
  'data/empty': { body: Buffer.alloc(0) },
  'data/ünï 😀.bin': { body: patternBytes(300, 7) },
  'data/frames.bin': { body: patternBytes(5000, 11) },
  'data/meta.json': {
    body: Buffer.from('{"m":1}'),
    extra: { ContentType: 'application/json', CacheControl: 'max-age=60', Metadata: { owner: 'fixture' } },
  },
  'data/new.txt': { body: Buffer.from('new\n') },
};
const SET = {
  name: FIXTURE.set,
  sourceBucket: FIXTURE.sourceBucket,
  prefix: FIXTURE.prefix,
  mode: 'incremental',
  fullEvery: 7,
};

let sandbox: Sandbox;
let dataDir: string;
let s3: S3Client;
const saved = new Map<string, string | undefined>();

function setEnv(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) {
    if (!saved.has(name)) saved.set(name, process.env[name]);
    process.env[name] = value;
  }
}

beforeAll(async () => {
  // The sandbox KMS keeps its keys in <data dir>/kms/keys.json: seed the fixture's key there.
  dataDir = mkdtempSync(join(tmpdir(), 'caretaker-test-format-1-'));
  chmodSync(dataDir, 0o755);
  mkdirSync(join(dataDir, 'kms'));
  writeFileSync(join(dataDir, 'kms', 'keys.json'), JSON.stringify(FIXTURE.kmsKeys), { mode: 0o600 });
  sandbox = await startSandbox({ port: 0, dataDir, services: [s3Service, kmsService] });
  setEnv({
    ...sandbox.env(),
    BACKUP_BUCKET: FIXTURE.backupBucket,
    BACKUP_KEY_ARN: FIXTURE.keyArn,
    CARETAKER_STACK: 'caretaker-test',
    BACKUP_SAFETY_MARGIN_MS: '1000',
  });
  s3 = new S3Client({});
  for (const Bucket of [FIXTURE.backupBucket, FIXTURE.sourceBucket])
    await s3.send(new CreateBucketCommand({ Bucket }));
  for (const object of FIXTURE.objects) {
    await s3.send(
      new PutObjectCommand({
        Bucket: FIXTURE.backupBucket,
        Key: object.key,
        Body: Buffer.from(object.body, 'base64'),
      }),
    );
  }
  for (const [Key, { body, extra }] of Object.entries(SOURCE)) {
    await s3.send(new PutObjectCommand({ Bucket: FIXTURE.sourceBucket, Key, Body: body, ...extra }));
  }
});

afterAll(async () => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await sandbox?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

let targets = 0;
async function restoreOf(backupId: string) {
  const target = `format-1-target-${++targets}`;
  await s3.send(new CreateBucketCommand({ Bucket: target }));
  await untilDone((previous: any) =>
    restore(
      {
        set: FIXTURE.set,
        backupId,
        targetBucket: target,
        targetPrefix: 'data/',
        continuation: previous?.continuation,
      },
      context(),
    ),
  );
  return { target, objects: await readAll(s3, target, 'data/') };
}

function expectSource(objects: Map<string, Buffer>, source: Record<string, { body: Buffer }>) {
  expect([...objects.keys()].sort()).toEqual(Object.keys(source).sort());
  for (const [key, bytes] of objects) expect(bytes.equals(source[key]!.body), key).toBe(true);
}

describe('a format-1 backup chain', () => {
  it('is what it claims: manifests of format 1 whose copies name their source keys', () => {
    const manifest = FIXTURE.objects.find((object) =>
      object.key.endsWith(`${FIXTURE.backups.full}/manifest.json`),
    )!;

    expect(manifestSchema.parse(JSON.parse(Buffer.from(manifest.body, 'base64').toString()))).toMatchObject({
      formatVersion: 1,
      encryption: { encryptionContext: ['caretaker:set', 'caretaker:backup-id', 'caretaker:source-key'] },
    });
  });

  it('verifies, reading back every object of the full backup and of the incremental', async () => {
    const full = await verify({ set: FIXTURE.set, backupId: FIXTURE.backups.full }, context());
    const incremental = await verify({ set: FIXTURE.set, backupId: FIXTURE.backups.incremental }, context());

    expect(full).toMatchObject({ ok: true, objectsChecked: 5 });
    expect(incremental).toMatchObject({ ok: true, objectsChecked: 6, chainLinks: 1 });
  });

  it('verifies fanned out over its parts as the Backup flow does, counting what the single function counts', async () => {
    const full = await verifyFannedOut({ set: FIXTURE.set, backupId: FIXTURE.backups.full });
    const incremental = await verifyFannedOut({ set: FIXTURE.set, backupId: FIXTURE.backups.incremental });

    expect(full.result).toMatchObject({ ok: true, objectsChecked: 5 });
    expect(incremental.result).toMatchObject({ ok: true, objectsChecked: 6, chainLinks: 1 });
  });

  it('restores byte for byte, with its HTTP headers and user metadata', async () => {
    const { target, objects } = await restoreOf(FIXTURE.backups.incremental);
    const meta = await s3.send(new HeadObjectCommand({ Bucket: target, Key: 'data/meta.json' }));

    expectSource(objects, SOURCE);
    expect(meta).toMatchObject({
      ContentType: 'application/json',
      CacheControl: 'max-age=60',
      Metadata: { owner: 'fixture' },
    });
  });

  it('restores fanned out over its parts as the DisasterRecovery flow does, byte for byte', async () => {
    const target = `format-1-target-${++targets}`;
    await s3.send(new CreateBucketCommand({ Bucket: target }));

    const run = await restoreFannedOut({
      set: FIXTURE.set,
      backupId: FIXTURE.backups.incremental,
      targetBucket: target,
      targetPrefix: 'data/',
    });

    expect(run.result).toMatchObject({ done: true, objects: 6, verified: 'objects' });
    expect(run.calls['restore-range']).toBe(run.plan.items.length);
    expectSource(await readAll(s3, target, 'data/'), SOURCE);
    const meta = await s3.send(new HeadObjectCommand({ Bucket: target, Key: 'data/meta.json' }));
    expect(meta).toMatchObject({ ContentType: 'application/json', Metadata: { owner: 'fixture' } });
  });

  it('restores with the documented script that needs no Caretaker', async () => {
    const out = mkdtempSync(join(tmpdir(), 'caretaker-format-1-script-'));
    try {
      const args = [
        '--bucket',
        FIXTURE.backupBucket,
        '--set',
        FIXTURE.set,
        '--backup',
        FIXTURE.backups.incremental,
      ];
      const run = await new Promise<{ status: number; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [SCRIPT, ...args, '--key-arn', FIXTURE.keyArn, '--out', out],
          { env: process.env },
          (error, _stdout, stderr) => resolve({ status: error ? 1 : 0, stderr }),
        );
      });

      expect(run).toMatchObject({ status: 0 });
      for (const [key, { body }] of Object.entries(SOURCE)) {
        expect(readFileSync(join(out, key.slice('data/'.length))).equals(body), key).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('still binds each copy to its source key: one presented as another entry is refused', async () => {
    const part = FIXTURE.objects.find((object) =>
      object.key.endsWith(`${FIXTURE.backups.full}/manifest-parts/00000001.json`),
    )!;
    const entries = partSchema.parse(JSON.parse(Buffer.from(part.body, 'base64').toString())).objects;
    const [a, meta] = [
      entries.find((e) => e.key === 'data/a.txt')!,
      entries.find((e) => e.key === 'data/meta.json')!,
    ];
    const store = { s3, crypto: backupCrypto({ keyArn: FIXTURE.keyArn }), bucket: FIXTURE.backupBucket };

    // meta.json's entry pointing at a.txt's authentic copy.
    const finding = await checkStoredObject(store, {
      set: FIXTURE.set,
      backupId: FIXTURE.backups.full,
      entry: { ...meta, storedKey: a.storedKey, storedSize: a.storedSize },
    });

    expect(finding).toMatchObject({
      problem: 'wrong-context',
      key: 'data/meta.json',
      actual: `${FIXTURE.backups.full}:data/a.txt`,
    });
  });

  it('takes a format-2 incremental on top that reuses its copies, and that verifies and restores', async () => {
    const changed = patternBytes(4000, 99);
    await s3.send(
      new PutObjectCommand({ Bucket: FIXTURE.sourceBucket, Key: 'data/frames.bin', Body: changed }),
    );

    const { last } = await untilDone(() =>
      backup({ set: SET, executionId: 'format-2-on-1', startedAt: '2026-01-03T02:00:00Z' }, context()),
    );
    const manifest = manifestSchema.parse(
      JSON.parse(
        (await readAll(s3, FIXTURE.backupBucket, last.result.manifestKey)).values().next().value!.toString(),
      ),
    );
    const parts = await readAll(
      s3,
      FIXTURE.backupBucket,
      `backups/${FIXTURE.set}/${last.backupId}/manifest-parts/`,
    );
    const entries = [...parts.values()].flatMap(
      (bytes) => partSchema.parse(JSON.parse(bytes.toString())).objects,
    );
    const verified = await verify({ set: FIXTURE.set, backupId: last.backupId }, context());
    const fannedOut = await verifyFannedOut({ set: FIXTURE.set, backupId: last.backupId });
    const restored = await restoreOf(last.backupId);

    expect(manifest).toMatchObject({
      formatVersion: 2,
      mode: 'incremental',
      parent: { backupId: FIXTURE.backups.incremental },
      chain: { fullBackupId: FIXTURE.backups.full, depth: 2 },
    });
    expect(Object.fromEntries(entries.map((entry) => [entry.key, entry.storedBackupId]))).toEqual({
      'data/a.txt': FIXTURE.backups.incremental,
      'data/empty': FIXTURE.backups.full,
      'data/frames.bin': last.backupId,
      'data/meta.json': FIXTURE.backups.full,
      'data/new.txt': FIXTURE.backups.incremental,
      'data/ünï 😀.bin': FIXTURE.backups.full,
    });
    expect(verified).toMatchObject({ ok: true, objectsChecked: 6, chainLinks: 2 });
    expect(fannedOut.result).toMatchObject({ ok: true, objectsChecked: 6, chainLinks: 2 });
    expectSource(restored.objects, { ...SOURCE, 'data/frames.bin': { body: changed } });
  });
});
