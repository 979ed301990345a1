/**
 * `caretaker sandbox up` as a user runs it: a child process that prints the ready line and the
 * environment, answers SDK calls, and stops cleanly on signals.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const READY = /^Sandbox ready at (http:\/\/127\.0\.0\.1:(\d+))$/m;

interface Cli {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Cli[] = [];
const dataDirs: string[] = [];

afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  }
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'caretaker-cli-sandbox-'));
  dataDirs.push(dir);
  return dir;
}

function caretaker(args: string[]): Cli {
  const child = spawn(process.execPath, ['bin/caretaker.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, AWS_ENDPOINT_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('close', (code, signal) => done({ code, signal }));
  });
  const cli: Cli = { child, stdout: () => out, stderr: () => err, exited };
  running.push(cli);
  return cli;
}

/** Waits until stdout satisfies `predicate`, failing early if the process exits first. */
async function waitForOutput(
  cli: Cli,
  predicate: (stdout: string) => boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate(cli.stdout())) {
    if (cli.child.exitCode !== null) {
      throw new Error(`caretaker exited with ${cli.child.exitCode}: ${cli.stderr()}`);
    }
    if (Date.now() > deadline)
      throw new Error(`no expected output within ${timeoutMs} ms: ${cli.stdout()}${cli.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts `sandbox up` and returns its URL and the exported environment once it is ready. */
async function startUp(
  dataDir: string,
): Promise<{ cli: Cli; url: string; port: number; env: Record<string, string> }> {
  const cli = caretaker(['sandbox', 'up', '--port', '0', '--data-dir', dataDir]);
  const needed = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
  await waitForOutput(
    cli,
    (out) => READY.test(out) && needed.every((name) => out.includes(`export ${name}=`)),
  );
  const [, url = '', port = '0'] = READY.exec(cli.stdout()) ?? [];
  const env = Object.fromEntries(
    [...cli.stdout().matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map(([, name = '', value = '']) => [
      name,
      value,
    ]),
  );
  return { cli, url, port: Number(port), env };
}

function clientConfig(env: Record<string, string>) {
  return {
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
    },
  };
}

/** Resolves true when a TCP connection to the loopback port is refused. */
function portClosed(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', () => done(true));
  });
}

/** Processes whose command line mentions `text` (e.g. PostgreSQL servers under the data directory). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // The process ended while we looked: it is not left behind.
    }
  }
  return found;
}

describe('caretaker sandbox up', () => {
  it('prints the ready line and the environment, serves SDK calls, and stops on SIGTERM', async () => {
    // Prepare
    const dataDir = newDataDir();
    const { cli, url, port, env } = await startUp(dataDir);

    // Act
    const kms = new KMSClient(clientConfig(env));
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'from the CLI test' }));
    const described = await kms.send(new DescribeKeyCommand({ KeyId: KeyMetadata?.KeyId }));
    const topic = await new SNSClient(clientConfig(env)).send(new CreateTopicCommand({ Name: 'cli' }));
    cli.child.kill('SIGTERM');
    const exit = await cli.exited;

    // Assess
    expect(env).toMatchObject({ AWS_ENDPOINT_URL: url, AWS_REGION: 'us-east-1' });
    expect(described.KeyMetadata?.Description).toBe('from the CLI test');
    expect(topic.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:cli');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(cli.stderr()).toContain('Sandbox stopped.');
    expect(await portClosed(port)).toBe(true);
    expect(processesMentioning(dataDir)).toEqual([]);
  });

  it('keeps stopping cleanly when Ctrl-C is pressed twice', async () => {
    // Prepare
    const { cli, port } = await startUp(newDataDir());

    // Act
    cli.child.kill('SIGINT');
    cli.child.kill('SIGINT');
    const exit = await cli.exited;

    // Assess
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await portClosed(port)).toBe(true);
  });

  it('prints its usage for --help', async () => {
    const cli = caretaker(['sandbox', 'up', '--help']);
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(cli.stdout()).toContain('Usage: caretaker sandbox up [--port N] [--data-dir DIR] [--region R]');
  });

  it.each([
    [['--verbose'], "Unknown option '--verbose'"],
    [['--port', 'abc'], '--port must be an integer'],
    [['--region', 'moon'], '--region must be an AWS region'],
  ])('rejects %j with exit status 2 and a clear error', async (flags, message) => {
    const cli = caretaker(['sandbox', 'up', ...flags]);
    const exit = await cli.exited;
    expect(exit.code).toBe(2);
    expect(cli.stderr()).toContain(message);
  });

  it('reports a port that is already in use', async () => {
    // Prepare
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;

    // Act
    const cli = caretaker(['sandbox', 'up', '--port', String(port), '--data-dir', newDataDir()]);
    const exit = await cli.exited;
    await new Promise((done) => blocker.close(done));

    // Assess
    expect(exit.code).toBe(1);
    expect(cli.stderr()).toContain(`port ${port} on 127.0.0.1 is in use`);
  });
});
