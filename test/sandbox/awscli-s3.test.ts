/**
 * A client no one here wrote: awscli v2 (/usr/bin/aws) against the sandbox's S3 — mb, cp up and
 * down of a file over 100 MiB (multipart both ways), sync, ls, s3api head-object.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { withAwsCli } from '../support/awscli.ts';
import { withSandbox } from '../support/sandbox.ts';

const MiB = 1024 * 1024;
const _run = promisify(execFile);
const handle = withSandbox([s3Service]);
const cli = withAwsCli(() => handle.sandbox.url);
const aws = (...args: string[]) => cli.run(args);

beforeAll(() => {});

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

describe('awscli v2 against the sandbox S3', () => {
  it('makes a bucket with s3 mb and lists it with s3 ls', async () => {
    await aws('s3', 'mb', 's3://cli-bucket');
    const listing = await aws('s3', 'ls');
    expect(listing).toMatch(/ cli-bucket$/m);
  });

  it('copies a 110 MiB file up and down with multipart and byte-identical content', {
    timeout: 180_000,
  }, async () => {
    await aws('s3', 'mb', 's3://cli-large');
    const source = join(cli.home, 'large.bin');
    const block = randomBytes(MiB);
    writeFileSync(
      source,
      Buffer.concat(
        Array.from({ length: 110 }, (_, index) =>
          Buffer.concat([block.subarray(index), block.subarray(0, index)]),
        ),
      ),
    );
    await aws('s3', 'cp', source, 's3://cli-large/dir/large.bin');
    const head = JSON.parse(
      await aws('s3api', 'head-object', '--bucket', 'cli-large', '--key', 'dir/large.bin'),
    );
    const target = join(cli.home, 'large.down');
    await aws('s3', 'cp', 's3://cli-large/dir/large.bin', target);
    expect(head.ContentLength).toBe(110 * MiB);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-14"$/);
    expect(await sha256File(target)).toBe(await sha256File(source));
  });

  it('syncs a directory tree up, lists it recursively, and syncs only what changed', {
    timeout: 60_000,
  }, async () => {
    await aws('s3', 'mb', 's3://cli-sync');
    const tree = join(cli.home, 'tree');
    const files: Record<string, string> = {
      'a.txt': 'alpha',
      'nested/b.txt': 'bravo',
      'nested/deeper/c with space.txt': 'charlie',
      'nested/deeper/d+plus.json': '{"d":4}',
    };
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(tree, name, '..'), { recursive: true });
      writeFileSync(join(tree, name), content);
    }
    await aws('s3', 'sync', tree, 's3://cli-sync/backup');
    const recursive = await aws('s3', 'ls', '--recursive', 's3://cli-sync/');
    const top = await aws('s3', 'ls', 's3://cli-sync/backup/');
    writeFileSync(join(tree, 'a.txt'), 'alpha, changed');
    const second = await aws('s3', 'sync', '--no-progress', tree, 's3://cli-sync/backup');
    const down = join(cli.home, 'tree-down');
    await aws('s3', 'sync', 's3://cli-sync/backup', down);

    const listedKeys = recursive
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/).slice(3).join(' '))
      .sort();
    expect(listedKeys).toEqual(
      Object.keys(files)
        .map((name) => `backup/${name}`)
        .sort(),
    );
    expect(top).toMatch(/PRE nested\/$/m);
    expect(top).toMatch(/ a\.txt$/m);
    expect(second.trim().split('\n')).toHaveLength(1);
    expect(second).toMatch(/^upload: .*a\.txt to s3:\/\/cli-sync\/backup\/a\.txt/);
    for (const [name, content] of Object.entries({ ...files, 'a.txt': 'alpha, changed' })) {
      expect(readFileSync(join(down, name), 'utf8')).toBe(content);
    }
  });

  it('reports metadata with s3api head-object', async () => {
    await aws('s3', 'mb', 's3://cli-head');
    const path = join(cli.home, 'small.txt');
    writeFileSync(path, 'head me');
    await aws(
      's3',
      'cp',
      path,
      's3://cli-head/small.txt',
      '--content-type',
      'text/plain',
      '--metadata',
      'team=ops',
    );
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'cli-head', '--key', 'small.txt'));
    expect(head).toMatchObject({
      ContentLength: 7,
      ContentType: 'text/plain',
      ETag: `"${createHash('md5').update('head me').digest('hex')}"`,
      Metadata: { team: 'ops' },
    });
  });
});
