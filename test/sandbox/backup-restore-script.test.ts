/**
 * docs/restore-without-caretaker.mjs, the documented restore that needs only the AWS SDK and the
 * AWS Encryption SDK, run as its own process against a backup Caretaker made on the sandbox.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, putObjects, withBackupSandbox } from './backup-harness.ts';

const SCRIPT = fileURLToPath(new URL('../../docs/restore-without-caretaker.mjs', import.meta.url));
const { world } = withBackupSandbox();
const out = mkdtempSync(join(tmpdir(), 'caretaker-restore-script-'));

const OBJECTS: Record<string, Buffer> = {
  'data/readme.txt': Buffer.from('hello'),
  'data/dir with space/ünï 😀.bin': randomBytes(3 * 1024 * 1024 + 5),
  'data/empty': Buffer.alloc(0),
  'data/nested/deeper/x.json': Buffer.from('{"x":1}'),
};
let backupId: string;
let set: { name: string; sourceBucket: string; prefix: string; mode: string; fullEvery: number };

beforeAll(async () => {
  const source = await world().newBucket('source');
  await putObjects(world().s3, source, OBJECTS);
  set = { name: 'script', sourceBucket: source, prefix: 'data/', mode: 'full', fullEvery: 7 };
  const { handler } = await import('../../functions/s3-backup/handler.ts');
  backupId = ((await handler({ set }, context())) as { backupId: string }).backupId;
});

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

/** Runs the script (asynchronously: the sandbox it talks to lives in this process). */
function restore(
  into: string,
  extra: string[] = [],
): Promise<{ status: number; stdout: string; stderr: string }> {
  const args = [
    '--bucket',
    world().backupBucket,
    '--set',
    set.name,
    '--backup',
    backupId,
    '--key-arn',
    world().keyArn,
  ];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT, ...args, '--out', into, ...extra],
      { env: process.env },
      (error, stdout, stderr) => {
        resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

function files(dir: string): Record<string, string> {
  const found: Record<string, string> = {};
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else found[relative(dir, full)] = readFileSync(full).toString('base64');
    }
  };
  walk(dir);
  return found;
}

describe('restore without Caretaker', () => {
  it('restores a backup byte for byte with only the AWS SDK and the Encryption SDK', async () => {
    const into = join(out, 'all');

    const run = await restore(into);

    expect(run.status).toBe(0);
    expect(run.stdout).toContain('restored 4 object(s)');
    expect(files(into)).toEqual(
      Object.fromEntries(
        Object.entries(OBJECTS).map(([key, body]) => [key.slice('data/'.length), body.toString('base64')]),
      ),
    );
  });

  it('restores only a prefix when asked', async () => {
    const into = join(out, 'prefix');

    const run = await restore(into, ['--prefix', 'data/nested/']);

    expect(run.status).toBe(0);
    expect(Object.keys(files(into))).toEqual(['nested/deeper/x.json']);
  });

  it('stops with an error on a tampered object instead of writing it', async () => {
    // The last bytes of readme.txt's copy (in a pack with the other small objects): its final
    // frame's authentication tag.
    const partKey = `backups/script/${backupId}/manifest-parts/00000001.json`;
    const part = await world().s3.send(new GetObjectCommand({ Bucket: world().backupBucket, Key: partKey }));
    const entry = (JSON.parse(await part.Body!.transformToString()) as { objects: any[] }).objects.find(
      (object) => object.key === 'data/readme.txt',
    );
    const key = entry.storedKey as string;
    const got = await world().s3.send(new GetObjectCommand({ Bucket: world().backupBucket, Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    bytes[(entry.storedOffset ?? 0) + entry.storedSize - 10]! ^= 1;
    await world().s3.send(new PutObjectCommand({ Bucket: world().backupBucket, Key: key, Body: bytes }));
    const into = join(out, 'tampered');

    const run = await restore(into);

    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/unable to authenticate data/i);
  });
});
