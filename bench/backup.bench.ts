/**
 * Backup benchmark (issue 4), in one run on the sandbox S3 started in process with the default
 * services on port 0:
 *
 * - a full backup of 1,000 × 64 KiB objects and of one 1 GiB object by Caretaker — the real
 *   s3-backup handler, run in a child process (`--child`) so its peak RSS (VmHWM) is its own —
 *   next to `aws s3 sync` (awscli v2, /usr/bin/aws) and `rclone copy` of the same prefix into
 *   another bucket of the same sandbox (both tools with their default settings; bucket to bucket
 *   they copy server-side, without reading or writing the data themselves);
 * - a full and then an incremental backup of an unchanged 10,000-object prefix by Caretaker;
 * - for scale, the 1 GiB object streamed through the client by awscli (`aws s3 cp … - | aws s3
 *   cp - …`), which moves the bytes as Caretaker must, without hashing or encryption;
 * - peak memory of each: maximum RSS of the process (GNU time), CPU of the process, and CPU the
 *   in-process sandbox spent serving it.
 *
 * Caretaker's wall time counts from its first handler call to the finished manifest (the
 * module load, a Lambda cold start, is reported apart); the peers' wall time is their whole
 * process. Targets: Caretaker's full backup ≤ 1.0× awscli's wall time while doing more
 * (reading, hashing and encrypting every byte); incremental ≥ 20× faster than full; peak
 * memory flat in object size. Ends with one JSON line of the figures, including
 * fullSmallVsAwscli and fullLargeVsAwscli (Caretaker wall ÷ awscli wall) and incrementalSpeedup.
 *
 * Run: npm run bench:backup   (npx tsx bench/backup.bench.ts)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const THIS_FILE = fileURLToPath(import.meta.url);
const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

interface ChildTask {
  readonly set: {
    name: string;
    sourceBucket: string;
    prefix: string;
    mode: 'full' | 'incremental';
    fullEvery: number;
  };
  readonly executionId: string;
  readonly startedAt: string;
}

interface Measurement {
  readonly wallMs: number;
  /** User + system CPU of the tool's process, ms. */
  readonly cpuMs: number;
  /** CPU the sandbox (this process) spent serving the run, ms. */
  readonly serverCpuMs: number;
  /** Peak resident set size (maximum RSS, as VmHWM), KiB. */
  readonly peakRssKb: number;
  readonly detail?: Record<string, unknown>;
}

/** Runs a process under GNU time to its end; rejects on a non-zero exit. */
function measureProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Measurement & { stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const serverStart = process.cpuUsage();
    const child = spawn('/usr/bin/time', ['-f', 'BENCH_TIME %e %U %S %M', command, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const server = process.cpuUsage(serverStart);
      const times = /BENCH_TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
      if (code !== 0 || !times) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`));
        return;
      }
      resolve({
        wallMs,
        cpuMs: (Number(times[2]) + Number(times[3])) * 1000,
        serverCpuMs: (server.user + server.system) / 1000,
        peakRssKb: Number(times[4]),
        stdout,
      });
    });
  });
}

/** In the child: runs the real handler until the backup is done and reports on stdout. */
async function runChild(task: ChildTask): Promise<void> {
  const loadStart = performance.now();
  const { handler } = await import('../functions/s3-backup/handler.ts');
  const coldStartMs = performance.now() - loadStart;
  // Sampled sparingly: process.memoryUsage() reads /proc and costs real CPU at high rates.
  let heapPeak = 0;
  const timer = setInterval(() => {
    heapPeak = Math.max(heapPeak, getHeapStatistics().used_heap_size);
  }, 100);
  const deadline = Date.now() + 15 * 60_000;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'caretaker-s3-backup',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:caretaker-s3-backup',
    memoryLimitInMB: '1024',
    awsRequestId: 'bench',
    logGroupName: '/aws/lambda/caretaker-s3-backup',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let outcome: { done: boolean; result?: { totals: unknown; mode: string } };
  let calls = 0;
  do {
    outcome = (await handler(task, context)) as typeof outcome;
    calls++;
  } while (!outcome.done);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  clearInterval(timer);
  process.stdout.write(
    `${JSON.stringify({ wallMs, cpuMs, coldStartMs, calls, heapPeak, result: outcome.result })}\n`,
  );
}

async function caretaker(task: ChildTask, env: NodeJS.ProcessEnv): Promise<Measurement> {
  const run = await measureProcess(
    process.execPath,
    ['--import', 'tsx', THIS_FILE, '--child', JSON.stringify(task)],
    env,
  );
  const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}');
  return {
    // The backup itself, without the module load (a Lambda cold start), which is reported apart.
    wallMs: report.wallMs,
    cpuMs: report.cpuMs,
    serverCpuMs: run.serverCpuMs,
    peakRssKb: run.peakRssKb,
    detail: {
      coldStartMs: Math.round(report.coldStartMs),
      calls: report.calls,
      heapPeakMb: Math.round(report.heapPeak / MIB),
      mode: report.result?.mode,
      totals: report.result?.totals,
    },
  };
}

async function fill(
  s3: S3Client,
  bucket: string,
  prefix: string,
  count: number,
  size: number,
): Promise<void> {
  const body = randomBytes(size);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      // Each object differs (its index in the first bytes), so none is a copy of another.
      const own = Buffer.from(body);
      own.writeUInt32BE(index, 0);
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}${String(index).padStart(6, '0')}.bin`,
          Body: own,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

async function fillLarge(s3: S3Client, bucket: string, key: string, size: number): Promise<void> {
  const chunk = randomBytes(8 * MIB);
  async function* generate() {
    for (let sent = 0; sent < size; sent += chunk.length) {
      const part = Buffer.from(chunk.subarray(0, Math.min(chunk.length, size - sent)));
      part.writeDoubleBE(sent, 0);
      yield part;
    }
  }
  await new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: Readable.from(generate()) },
    partSize: 16 * MIB,
    queueSize: 4,
  }).done();
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

function mb(kb: number): string {
  return (kb / 1024).toFixed(0);
}

async function main(): Promise<void> {
  const { startDefaultSandbox } = await import('../sandbox/index.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'caretaker-bench-backup-'));
  const sandbox = await startDefaultSandbox({
    port: 0,
    dataDir,
    settings: { lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } } },
  });
  try {
    const sandboxEnv = sandbox.env();
    Object.assign(process.env, sandboxEnv);
    const s3 = new S3Client({});
    const keyArn = (await new KMSClient({}).send(new CreateKeyCommand({ Description: 'bench' }))).KeyMetadata!
      .Arn!;
    const buckets = {
      source: 'bench-source',
      backups: 'bench-backups',
      aws: 'bench-awscli',
      rclone: 'bench-rclone',
    };
    for (const Bucket of Object.values(buckets)) await s3.send(new CreateBucketCommand({ Bucket }));

    console.log(
      `Sandbox at ${sandbox.url} (${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(1)}); filling the source bucket …`,
    );
    await fill(s3, buckets.source, 'small/', 1000, 64 * KIB);
    await fill(s3, buckets.source, 'many/', 10_000, 1 * KIB);
    await fillLarge(s3, buckets.source, 'large/one-gib.bin', GIB);

    const childEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...sandboxEnv,
      BACKUP_BUCKET: buckets.backups,
      BACKUP_KEY_ARN: keyArn,
      CARETAKER_STACK: 'caretaker-bench',
      CARETAKER_ENVIRONMENT: 'bench',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_DISABLED: 'true',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    };
    const awsEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const rcloneEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      RCLONE_CONFIG: '/dev/null',
    };
    const rcloneFlags = [
      '--s3-provider=Other',
      `--s3-endpoint=${sandbox.url}`,
      '--s3-access-key-id=bench',
      '--s3-secret-access-key=bench',
      '--s3-region=us-east-1',
      '--s3-force-path-style=true',
    ];
    const awscli = (prefix: string, into: string) =>
      measureProcess(
        '/usr/bin/aws',
        [
          's3',
          'sync',
          `s3://${buckets.source}/${prefix}`,
          `s3://${buckets.aws}/${into}`,
          '--endpoint-url',
          sandbox.url,
          '--only-show-errors',
        ],
        awsEnv,
      );
    const rclone = (prefix: string, into: string) =>
      measureProcess(
        '/usr/bin/rclone',
        ['copy', `:s3:${buckets.source}/${prefix}`, `:s3:${buckets.rclone}/${into}`, ...rcloneFlags],
        rcloneEnv,
      );
    let day = 0;
    const task = (name: string, prefix: string, mode: 'full' | 'incremental' = 'incremental'): ChildTask => ({
      set: { name, sourceBucket: buckets.source, prefix, mode, fullEvery: 7 },
      executionId: `bench-${name}-${++day}`,
      startedAt: new Date(Date.UTC(2026, 0, day)).toISOString(),
    });

    const rows: Array<[string, Measurement]> = [];
    const measure = async (label: string, run: () => Promise<Measurement>) => {
      const result = await run();
      rows.push([label, result]);
      console.log(
        `  ${label.padEnd(42)} wall ${seconds(result.wallMs).padStart(7)} s  cpu ${seconds(result.cpuMs).padStart(7)} s  sandbox ${seconds(result.serverCpuMs).padStart(7)} s  peak ${mb(result.peakRssKb).padStart(5)} MB`,
      );
      return result;
    };

    console.log('Full backups (wall time, peak RSS):');
    const smallCaretaker = await measure('caretaker full 1,000 × 64 KiB', () =>
      caretaker(task('small', 'small/'), childEnv),
    );
    const smallAws = await measure('awscli s3 sync 1,000 × 64 KiB', () => awscli('small/', 'small/'));
    const smallRclone = await measure('rclone copy 1,000 × 64 KiB', () => rclone('small/', 'small/'));
    const largeCaretaker = await measure('caretaker full 1 × 1 GiB', () =>
      caretaker(task('large', 'large/'), childEnv),
    );
    const largeAws = await measure('awscli s3 sync 1 × 1 GiB', () => awscli('large/', 'large/'));
    const largeRclone = await measure('rclone copy 1 × 1 GiB', () => rclone('large/', 'large/'));
    // For scale: the same bytes streamed through the client by awscli (download | upload), as
    // Caretaker has to, but without hashing or encryption.
    const largeAwsStream = await measure('awscli cp through the client, 1 × 1 GiB', () =>
      measureProcess(
        '/bin/sh',
        [
          '-c',
          `/usr/bin/aws s3 cp s3://${buckets.source}/large/one-gib.bin - --endpoint-url ${sandbox.url} | /usr/bin/aws s3 cp - s3://${buckets.aws}/streamed/one-gib.bin --endpoint-url ${sandbox.url} --expected-size ${GIB}`,
        ],
        awsEnv,
      ),
    );
    console.log('Incremental backup of an unchanged 10,000-object prefix:');
    const manyFull = await measure('caretaker full 10,000 × 1 KiB', () =>
      caretaker(task('many', 'many/'), childEnv),
    );
    const manyIncremental = await measure('caretaker incremental, nothing changed', () =>
      caretaker(task('many', 'many/'), childEnv),
    );
    const manyAws = await measure('awscli s3 sync 10,000 × 1 KiB', () => awscli('many/', 'many/'));
    const manyAwsAgain = await measure('awscli s3 sync again, nothing changed', () =>
      awscli('many/', 'many/'),
    );

    const figures = {
      fullSmallVsAwscli: round(smallCaretaker.wallMs / smallAws.wallMs),
      fullLargeVsAwscli: round(largeCaretaker.wallMs / largeAws.wallMs),
      fullLargeVsAwscliThroughClient: round(largeCaretaker.wallMs / largeAwsStream.wallMs),
      fullSmallVsRclone: round(smallCaretaker.wallMs / smallRclone.wallMs),
      fullLargeVsRclone: round(largeCaretaker.wallMs / largeRclone.wallMs),
      incrementalSpeedup: round(manyFull.wallMs / manyIncremental.wallMs),
      awscliResyncSpeedup: round(manyAws.wallMs / manyAwsAgain.wallMs),
      caretakerPeakRssSmallMb: Math.round(smallCaretaker.peakRssKb / 1024),
      caretakerPeakRssLargeMb: Math.round(largeCaretaker.peakRssKb / 1024),
      caretakerPeakRssLargeVsSmall: round(largeCaretaker.peakRssKb / smallCaretaker.peakRssKb),
      awscliPeakRssLargeMb: Math.round(largeAws.peakRssKb / 1024),
      rclonePeakRssLargeMb: Math.round(largeRclone.peakRssKb / 1024),
      caretakerSmallSeconds: round(smallCaretaker.wallMs / 1000),
      caretakerLargeSeconds: round(largeCaretaker.wallMs / 1000),
      caretakerLargeMiBps: round(GIB / MIB / (largeCaretaker.wallMs / 1000)),
      awscliSmallSeconds: round(smallAws.wallMs / 1000),
      awscliLargeSeconds: round(largeAws.wallMs / 1000),
      rcloneSmallSeconds: round(smallRclone.wallMs / 1000),
      rcloneLargeSeconds: round(largeRclone.wallMs / 1000),
      caretakerManyFullSeconds: round(manyFull.wallMs / 1000),
      caretakerManyIncrementalSeconds: round(manyIncremental.wallMs / 1000),
      fullSmallCpuVsAwscli: round(smallCaretaker.cpuMs / smallAws.cpuMs),
      fullLargeCpuVsAwscli: round(largeCaretaker.cpuMs / largeAws.cpuMs),
      cpus: cpus().length,
      loadAverage: round(loadavg()[0] ?? 0),
    };
    console.log('');
    console.log('| run | wall s | process CPU s | sandbox CPU s | peak RSS MB | notes |');
    console.log('| --- | ---: | ---: | ---: | ---: | --- |');
    for (const [label, m] of rows) {
      const notes = m.detail ? JSON.stringify({ ...m.detail, totals: undefined }) : '';
      console.log(
        `| ${label} | ${seconds(m.wallMs)} | ${seconds(m.cpuMs)} | ${seconds(m.serverCpuMs)} | ${mb(m.peakRssKb)} | ${notes} |`,
      );
    }
    console.log('');
    console.log(
      `Caretaker full ÷ awscli: small ${figures.fullSmallVsAwscli}× (target ≤ 1.0), 1 GiB ${figures.fullLargeVsAwscli}× (target ≤ 1.0)`,
    );
    console.log(
      `Caretaker full ÷ rclone: small ${figures.fullSmallVsRclone}×, 1 GiB ${figures.fullLargeVsRclone}×`,
    );
    console.log(
      `Incremental speed-up over full (10,000 unchanged): ${figures.incrementalSpeedup}× (target ≥ 20)`,
    );
    console.log(
      `Caretaker peak RSS: ${figures.caretakerPeakRssSmallMb} MB for 64 KiB objects, ${figures.caretakerPeakRssLargeMb} MB for 1 GiB (${figures.caretakerPeakRssLargeVsSmall}×; flat means ≈ 1)`,
    );
    console.log(JSON.stringify(figures));
  } finally {
    await sandbox.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) {
  await runChild(JSON.parse(process.argv[childIndex + 1] ?? '{}') as ChildTask);
} else {
  await main();
}
