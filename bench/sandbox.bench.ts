/**
 * bench:sandbox — how fast the sandbox starts, and S3 PUT/GET throughput through it for a 1 GiB
 * object and for 1,000 × 64 KiB objects, with the AWS SDK (lib-storage Upload, GetObject streamed
 * to a file) and with awscli v2 (`s3 cp`) as clients. Prints figures (no pass/fail), ending with
 * one JSON line. The S3 server runs in a child process so client and server do not share a CPU
 * thread; its peak RSS shows that a 1 GiB object never sits in memory.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { DEFAULT_SERVICES, startDefaultSandbox } from '../sandbox/index.ts';

const MiB = 1024 * 1024;
const LARGE_MIB = 1024;
const SMALL_COUNT = 1000;
const SMALL_BYTES = 64 * 1024;
const SMALL_CONCURRENCY = 16;
const AWS = '/usr/bin/aws';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'caretaker-bench-sandbox-'));
// PostgreSQL (the RDS service) runs as another user when the bench runs as root: it must reach the data directory.
chmodSync(work, 0o755);

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round(value: number, digits = 1): number {
  return Number(value.toFixed(digits));
}

/** startSandbox() call → accepting requests, with every registered service. */
async function measureStart(): Promise<{ first: number; median: number; services: number }> {
  const runs: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const dataDir = join(work, `start-${attempt}`);
    const started = performance.now();
    const sandbox = await startDefaultSandbox({ dataDir });
    runs.push(seconds(started));
    await sandbox.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { first: runs[0]!, median: median(runs), services: DEFAULT_SERVICES.length };
}

interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs an S3-only sandbox in a child process. */
async function startServer(dataDir: string): Promise<ServerProcess> {
  const code = [
    "import { startSandbox } from './sandbox/core/server.ts';",
    "import { s3Service } from './sandbox/services/s3/index.ts';",
    `const sandbox = await startSandbox({ dataDir: ${JSON.stringify(dataDir)}, services: [s3Service] });`,
    'console.log(sandbox.url);',
    "process.on('SIGTERM', () => sandbox.stop().then(() => process.exit(0)));",
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return {
    url: line.trim(),
    pid: child.pid!,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Peak resident memory of a process, from /proc (VmHWM). */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

/** A file of `mib` MiB of random-looking data, written block by block. */
async function makeFile(path: string, mib: number): Promise<void> {
  const block = Buffer.allocUnsafe(16 * MiB);
  for (let offset = 0; offset < block.length; offset += 4)
    block.writeUInt32LE((offset * 2654435761) >>> 0, offset);
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < mib; written += 16) {
      block.writeUInt32LE(written, 0);
      await file.write(block, 0, Math.min(16, mib - written) * MiB);
    }
  } finally {
    await file.close();
  }
}

async function inParallel<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

async function aws(url: string, ...args: string[]): Promise<void> {
  await run(AWS, ['--endpoint-url', url, '--no-cli-pager', ...args], {
    env: {
      HOME: work,
      AWS_ACCESS_KEY_ID: 'sandbox',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: join(work, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    maxBuffer: 64 * MiB,
  });
}

async function main(): Promise<void> {
  if (!existsSync(AWS)) throw new Error(`awscli v2 is required at ${AWS} (Debian: apt-get install awscli)`);
  const start = await measureStart();
  console.log(
    `Sandbox start (${start.services} services, startSandbox() → accepting requests): ` +
      `${(start.median * 1000).toFixed(1)} ms median of 5, first ${(start.first * 1000).toFixed(1)} ms`,
  );

  const largeFile = join(work, 'large.bin');
  await makeFile(largeFile, LARGE_MIB);
  const smallDir = join(work, 'small');
  mkdirSync(smallDir);
  const smallBody = Buffer.alloc(SMALL_BYTES, 7);
  const smallKeys = Array.from(
    { length: SMALL_COUNT },
    (_, index) => `small/${String(index).padStart(4, '0')}.bin`,
  );
  await Promise.all(
    smallKeys.map(async (key, index) => {
      smallBody.writeUInt32LE(index, 0);
      const file = await open(join(smallDir, key.slice('small/'.length)), 'w');
      await file.write(Buffer.from(smallBody));
      await file.close();
    }),
  );

  const server = await startServer(join(work, 'data'));
  try {
    const s3 = new S3Client({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));

    let started = performance.now();
    await new Upload({
      client: s3,
      params: { Bucket: 'bench', Key: 'sdk/large', Body: createReadStream(largeFile) },
    }).done();
    const putLargeMBps = LARGE_MIB / seconds(started);

    const download = join(work, 'large.down');
    started = performance.now();
    const got = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'sdk/large' }));
    await pipeline(got.Body as NodeJS.ReadableStream, createWriteStream(download));
    const getLargeMBps = LARGE_MIB / seconds(started);
    if (statSync(download).size !== LARGE_MIB * MiB) throw new Error('SDK download has the wrong size');
    rmSync(download);

    started = performance.now();
    await inParallel(smallKeys, SMALL_CONCURRENCY, async (Key) => {
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `sdk/${Key}`, Body: smallBody }));
    });
    const putSmallObjectsPerSecond = SMALL_COUNT / seconds(started);

    started = performance.now();
    await inParallel(smallKeys, SMALL_CONCURRENCY, async (Key) => {
      const object = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `sdk/${Key}` }));
      await object.Body!.transformToByteArray();
    });
    const getSmallObjectsPerSecond = SMALL_COUNT / seconds(started);

    started = performance.now();
    await aws(server.url, 's3', 'cp', '--no-progress', largeFile, 's3://bench/cli/large');
    const awscliPutLargeMBps = LARGE_MIB / seconds(started);

    started = performance.now();
    await aws(server.url, 's3', 'cp', '--no-progress', 's3://bench/cli/large', download);
    const awscliGetLargeMBps = LARGE_MIB / seconds(started);
    if (statSync(download).size !== LARGE_MIB * MiB) throw new Error('awscli download has the wrong size');
    rmSync(download);

    started = performance.now();
    await aws(server.url, 's3', 'cp', '--no-progress', '--recursive', smallDir, 's3://bench/cli/small');
    const awscliPutSmallObjectsPerSecond = SMALL_COUNT / seconds(started);

    const smallDown = join(work, 'small.down');
    started = performance.now();
    await aws(server.url, 's3', 'cp', '--no-progress', '--recursive', 's3://bench/cli/small', smallDown);
    const awscliGetSmallObjectsPerSecond = SMALL_COUNT / seconds(started);

    const serverPeakRssMiB = peakRssMiB(server.pid);
    console.log(
      `S3 through the sandbox (server in a child process; peak RSS ${serverPeakRssMiB.toFixed(0)} MiB):`,
    );
    console.log('                         SDK v3          awscli v2     SDK/awscli');
    const row = (label: string, sdk: number, cli: number, unit: string) =>
      console.log(
        `  ${label.padEnd(22)} ${sdk.toFixed(1).padStart(8)} ${unit} ${cli.toFixed(1).padStart(8)} ${unit}   ${(sdk / cli).toFixed(2)}×`,
      );
    row(`PUT ${LARGE_MIB} MiB object`, putLargeMBps, awscliPutLargeMBps, 'MiB/s');
    row(`GET ${LARGE_MIB} MiB object`, getLargeMBps, awscliGetLargeMBps, 'MiB/s');
    row(`PUT ${SMALL_COUNT} × 64 KiB`, putSmallObjectsPerSecond, awscliPutSmallObjectsPerSecond, 'obj/s');
    row(`GET ${SMALL_COUNT} × 64 KiB`, getSmallObjectsPerSecond, awscliGetSmallObjectsPerSecond, 'obj/s');
    console.log(
      JSON.stringify({
        startSeconds: round(start.median, 4),
        startFirstSeconds: round(start.first, 4),
        putLargeMBps: round(putLargeMBps),
        getLargeMBps: round(getLargeMBps),
        putSmallObjectsPerSecond: round(putSmallObjectsPerSecond),
        getSmallObjectsPerSecond: round(getSmallObjectsPerSecond),
        awscliPutLargeMBps: round(awscliPutLargeMBps),
        awscliGetLargeMBps: round(awscliGetLargeMBps),
        awscliPutSmallObjectsPerSecond: round(awscliPutSmallObjectsPerSecond),
        awscliGetSmallObjectsPerSecond: round(awscliGetSmallObjectsPerSecond),
        serverPeakRssMiB: round(serverPeakRssMiB),
      }),
    );
  } finally {
    await server.stop();
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
