/**
 * `caretaker sandbox up --with-stack` as a user runs it, with IAM enforced: it prints the HTTPS
 * endpoint and the CA file to trust, and every call a deployed role is refused as it happens; the
 * refusal is also listed at /_sandbox/iam/denials. `--iam report` lets the call through.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const READY = /^Sandbox ready at (http:\/\/127\.0\.0\.1:\d+)$/m;
const directories: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function scratch(): string {
  const directory = mkdtempSync(join(tmpdir(), 'caretaker-iam-cli-'));
  directories.push(directory);
  return directory;
}

/** A function whose role may do nothing, listing a bucket when invoked. */
function assembly(): string {
  const directory = scratch();
  const code = [
    "const { S3Client, ListObjectsV2Command } = require('@aws-sdk/client-s3');",
    'const s3 = new S3Client({ forcePathStyle: true });',
    'exports.handler = async () => {',
    "  try { await s3.send(new ListObjectsV2Command({ Bucket: 'cli-bucket' })); return { ok: true }; }",
    '  catch (error) { return { ok: false, name: error.name }; }',
    '};',
  ].join('\n');
  const trust = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
  };
  const template = {
    Resources: {
      Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'cli-bucket' } },
      ListerRole: {
        Type: 'AWS::IAM::Role',
        Properties: { RoleName: 'lister', AssumeRolePolicyDocument: trust },
      },
      Lister: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: 'lister',
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Code: { ZipFile: code },
          Role: { 'Fn::GetAtt': ['ListerRole', 'Arn'] },
        },
      },
    },
  };
  writeFileSync(join(directory, 'Cli.template.json'), JSON.stringify(template));
  writeFileSync(
    join(directory, 'manifest.json'),
    JSON.stringify({
      version: '55.0.0',
      artifacts: {
        Cli: {
          type: 'aws:cloudformation:stack',
          environment: 'aws://unknown-account/unknown-region',
          properties: { templateFile: 'Cli.template.json' },
        },
      },
    }),
  );
  return directory;
}

function caretaker(args: string[]) {
  const child = spawn(process.execPath, ['bin/caretaker.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, AWS_ENDPOINT_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return { child, stdout: () => stdout, stderr: () => stderr };
}

async function until(check: () => boolean, what: string, cli: ReturnType<typeof caretaker>): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    if (cli.child.exitCode !== null || waited > 60_000) throw new Error(`${what}: ${cli.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function upAndInvoke(extra: string[]) {
  const dataDir = scratch();
  const cli = caretaker([
    'sandbox',
    'up',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--with-stack',
    '--template',
    assembly(),
    ...extra,
  ]);
  await until(() => READY.test(cli.stdout()) && cli.stdout().includes('--ca-bundle'), 'never ready', cli);
  const url = READY.exec(cli.stdout())?.[1] ?? '';
  const lambda = new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  });
  const invoked = await lambda.send(new InvokeCommand({ FunctionName: 'lister' }));
  return { cli, url, dataDir, result: JSON.parse(Buffer.from(invoked.Payload ?? []).toString('utf8')) };
}

describe('caretaker sandbox up with IAM', () => {
  it('prints the CA to trust and every denial as it happens, and lists it at /_sandbox/iam/denials', async () => {
    const { cli, url, dataDir, result } = await upAndInvoke([]);
    await until(() => cli.stderr().includes('[iam] DENIED'), 'no denial printed', cli);
    const listed = (await (await fetch(`${url}/_sandbox/iam/denials`)).json()) as {
      enforcement: string;
      denials: { action: string }[];
    };

    expect(cli.stdout()).toContain(
      `# HTTPS on the same port: ${url.replace('http:', 'https:')}, certificate signed by the sandbox CA ${dataDir}/tls/ca.pem`,
    );
    expect(cli.stdout()).toContain(`--ca-bundle ${dataDir}/tls/ca.pem`);
    expect(result).toEqual({ ok: false, name: 'AccessDenied' });
    expect(cli.stderr()).toMatch(
      /^\[iam\] DENIED arn:aws:sts::000000000000:assumed-role\/lister\/lister s3:ListBucket on arn:aws:s3:::cli-bucket \(ListObjectsV2\): because no identity-based or resource-based policy allows the s3:ListBucket action$/m,
    );
    expect(listed.enforcement).toBe('enforce');
    expect(listed.denials.map((denial) => denial.action)).toEqual(['s3:ListBucket']);
  }, 90_000);

  it('lets the call through with --iam report, and still prints what it would have refused', async () => {
    const { cli, result } = await upAndInvoke(['--iam', 'report']);
    await until(() => cli.stderr().includes('[iam] WOULD DENY'), 'no denial printed', cli);

    expect(result).toEqual({ ok: true });
    expect(cli.stderr()).toContain('IAM: report only');
  }, 90_000);

  it('refuses an --iam mode it does not know (status 2)', async () => {
    const cli = caretaker(['sandbox', 'up', '--iam', 'audit']);
    const code = await new Promise<number | null>((done) => cli.child.on('close', done));

    expect(code).toBe(2);
    expect(cli.stderr()).toContain('--iam must be enforce or report (got "audit")');
  });
});
