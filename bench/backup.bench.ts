/**
 * Backup benchmark (issues 4 and 12), in one run on the sandbox's S3 and KMS started in process on
 * port 0. For each shape — 1,000 × 64 KiB ("small"), 10,000 × 1 KiB ("tiny") and 1 × 1 GiB
 * ("large") — it measures side by side:
 *
 * - Caretaker: a full backup by the real s3-backup handler, in a child process
 *   (bench/backup/caretaker-child.ts) so its CPU and peak RSS are its own; it reads, hashes,
 *   encrypts and writes every byte;
 * - rclone crypt: `rclone copy` from the source into a `crypt` remote over the same S3 — also
 *   reading, encrypting and writing every byte through the client: the fair peer;
 * - a plain SDK copy: GetObject streamed into lib-storage's Upload with Caretaker's concurrency
 *   and part settings, no hashing, no encryption (bench/backup/plain-copy-child.ts): the wire.
 *
 * It counts the KMS calls each backup made, at the sandbox. Once (in the first round) it also
 * runs the older comparisons: `aws s3 sync` and `rclone copy` between buckets (server-side
 * copies that never move the bytes), the 1 GiB object streamed through awscli, and an
 * incremental backup of the unchanged 10,000-object prefix against awscli's re-sync.
 *
 * Caretaker's and the plain copy's wall time count from their first request to the end (their
 * module load, a Lambda cold start, is apart); rclone's and awscli's are their whole process.
 * Targets to report against (figures, never pass/fail): Caretaker ÷ rclone crypt ≤ 1.0 for each
 * shape, Caretaker ÷ plain copy ≤ 1.1 for 1 GiB, ≤ 1 GenerateDataKey per 10,000 objects,
 * incremental ≥ 20× faster than full. It also backs up and verifies (fanned out over the parts, as
 * the Backup flow does) 1,000, 10,000 and 100,000 objects of 1 KiB, to show how verification time
 * grows with the object count. Ends with one JSON line of the figures (medians over the
 * rounds, with their spread).
 *
 * Run: npm run bench:backup
 *   BENCH_ROUNDS=3             repeat the side-by-side comparisons (ratios are taken per round)
 *   BENCH_CPU_PROF_DIR=<dir>   write a V8 CPU profile of every Caretaker run (node --cpu-prof)
 *   BENCH_ONLY=verify          only the fanned-out verification of 1,000, 10,000 and 100,000
 *                              objects (figures verify1kSeconds, verify10kSeconds, verify100kSeconds)
 *   BENCH_ONLY=compare         only the side-by-side copies (no verification figures)
 *   BENCH_VERIFY_CHILDREN=4    verification children at once (the Map's MaxConcurrency)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startSandbox } from '../sandbox/core/server.ts';
import { s3Service } from '../sandbox/services/s3/index.ts';
import type { CaretakerReport, CaretakerTask } from './backup/caretaker-child.ts';
import { countingKms, countsSince, type KmsCounts } from './backup/kms-counter.ts';
import {
  lastJsonLine,
  type Measurement,
  mb,
  measureProcess,
  round,
  type Spread,
  seconds,
  spreadOf,
} from './backup/measure.ts';
import type { VerifyReport, VerifyTask } from './backup/verify-child.ts';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const CARETAKER_CHILD = fileURLToPath(new URL('./backup/caretaker-child.ts', import.meta.url));
const PLAIN_CHILD = fileURLToPath(new URL('./backup/plain-copy-child.ts', import.meta.url));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const PROFILE_DIR = process.env.BENCH_CPU_PROF_DIR;
/** `verify`: only the verification at growing object counts (skips the side-by-side copies). */
const ONLY = process.env.BENCH_ONLY;
const VERIFY_CHILD = fileURLToPath(new URL('./backup/verify-child.ts', import.meta.url));
/** `compare` skips the verification (the side-by-side copies only). */
const VERIFY_COUNTS = ONLY === 'compare' ? [] : [1000, 10_000, 100_000];
/** Map children at once: the machine's cores bound it here; in AWS it is ${BackupMaxConcurrency}. */
const VERIFY_CHILDREN = Math.max(1, Number(process.env.BENCH_VERIFY_CHILDREN ?? 4));
const VERIFY_PARTS_PER_ITEM = 10;

interface Shape {
  readonly id: 'small' | 'tiny' | 'large';
  readonly label: string;
  readonly prefix: string;
  readonly objects: number;
}

const SHAPES: readonly Shape[] = [
  { id: 'small', label: '1,000 × 64 KiB', prefix: 'small/', objects: 1000 },
  { id: 'tiny', label: '10,000 × 1 KiB', prefix: 'many/', objects: 10_000 },
  { id: 'large', label: '1 × 1 GiB', prefix: 'large/', objects: 1 },
];

async function fill(s3: S3Client, bucket: string, prefix: string, count: number, size: number) {
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

async function main(): Promise<void> {
  const kmsCounts: KmsCounts = new Map();
  const dataDir = mkdtempSync(join(tmpdir(), 'caretaker-bench-backup-'));
  // S3 and KMS only: the other emulated services play no part in a backup.
  const sandbox = await startSandbox({
    port: 0,
    dataDir,
    services: [s3Service, countingKms(kmsCounts)],
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
      crypt: 'bench-rclone-crypt',
      plain: 'bench-plain-copy',
    };
    for (const Bucket of Object.values(buckets)) await s3.send(new CreateBucketCommand({ Bucket }));

    const loadAtStart = loadavg()[0] ?? 0;
    console.log(
      `Sandbox at ${sandbox.url}; Node ${execFileSync(process.execPath, ['--version']).toString().trim()} for Caretaker and the plain copy; ${cpus().length} CPUs, load average ${loadAtStart.toFixed(1)}; ${ROUNDS} round(s). Filling the source bucket …`,
    );
    if (ONLY !== 'verify') {
      await fill(s3, buckets.source, 'small/', 1000, 64 * KIB);
      await fill(s3, buckets.source, 'many/', 10_000, 1 * KIB);
      await fillLarge(s3, buckets.source, 'large/one-gib.bin', GIB);
    }

    const base = { PATH: process.env.PATH, HOME: process.env.HOME };
    const childEnv: NodeJS.ProcessEnv = {
      ...base,
      ...sandboxEnv,
      BACKUP_BUCKET: buckets.backups,
      BACKUP_KEY_ARN: keyArn,
      CARETAKER_STACK: 'caretaker-bench',
      CARETAKER_ENVIRONMENT: 'bench',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_DISABLED: 'true',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
    };
    const awsEnv: NodeJS.ProcessEnv = {
      ...base,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    // rclone 1.60 refuses to start with AWS_CA_BUNDLE set; base carries none.
    const rcloneEnv: NodeJS.ProcessEnv = { ...base, RCLONE_CONFIG: '/dev/null' };
    const s3Remote = `:s3,provider=Other,endpoint='${sandbox.url}',access_key_id=bench,secret_access_key=bench,region=us-east-1,force_path_style=true`;
    const cryptPassword = execFileSync('/usr/bin/rclone', ['obscure', 'caretaker-bench'], { env: rcloneEnv })
      .toString()
      .trim();

    const awscliSync = (prefix: string, into: string) =>
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
    const rcloneServerSide = (prefix: string, into: string) =>
      measureProcess(
        '/usr/bin/rclone',
        ['copy', `${s3Remote}:${buckets.source}/${prefix}`, `${s3Remote}:${buckets.rclone}/${into}`],
        rcloneEnv,
      );
    const rcloneCrypt = (prefix: string, into: string) =>
      measureProcess(
        '/usr/bin/rclone',
        [
          'copy',
          `${s3Remote}:${buckets.source}/${prefix}`,
          `:crypt,remote="${s3Remote}:${buckets.crypt}/${into}",password='${cryptPassword}':`,
        ],
        rcloneEnv,
      );
    const plainCopy = async (prefix: string, intoPrefix: string): Promise<Measurement> => {
      const job = { bucket: buckets.source, prefix, into: buckets.plain, intoPrefix };
      const run = await measureProcess(
        process.execPath,
        ['--import', 'tsx', PLAIN_CHILD, JSON.stringify(job)],
        { ...base, ...sandboxEnv },
      );
      const report = lastJsonLine<{ wallMs: number; cpuMs: number; objects: number }>(run.stdout);
      return { ...run, wallMs: report.wallMs, cpuMs: report.cpuMs, detail: { objects: report.objects } };
    };
    let day = 0;
    const caretaker = async (set: string, prefix: string): Promise<Measurement> => {
      const task: CaretakerTask = {
        set: { name: set, sourceBucket: buckets.source, prefix, mode: 'incremental', fullEvery: 7 },
        executionId: `bench-${set}-${++day}`,
        startedAt: new Date(Date.UTC(2026, 0, day)).toISOString(),
      };
      const profile = PROFILE_DIR
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${PROFILE_DIR}`,
            `--cpu-prof-name=caretaker-${set}-${day}.cpuprofile`,
          ]
        : [];
      const kmsBefore = new Map(kmsCounts);
      const run = await measureProcess(
        process.execPath,
        [...profile, '--import', 'tsx', CARETAKER_CHILD, JSON.stringify(task)],
        childEnv,
      );
      const report = lastJsonLine<CaretakerReport>(run.stdout);
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
          backupId: report.result?.backupId,
          kms: countsSince(kmsCounts, kmsBefore),
          totals: report.result?.totals,
        },
      };
    };

    const rows: Array<[string, Measurement]> = [];
    const measure = async (label: string, run: () => Promise<Measurement>) => {
      const result = await run();
      rows.push([label, result]);
      const kms = result.detail?.kms ? `  KMS ${JSON.stringify(result.detail.kms)}` : '';
      console.log(
        `  ${label.padEnd(48)} wall ${seconds(result.wallMs).padStart(7)} s  cpu ${seconds(result.cpuMs).padStart(7)} s  sandbox ${seconds(result.serverCpuMs).padStart(7)} s  peak ${mb(result.peakRssKb).padStart(5)} MB${kms}`,
      );
      return result;
    };

    // Verification fanned out over the manifest's parts, at growing object counts (issue 12 point 3).
    const verifyFigures: Record<string, number> = {};
    if (VERIFY_COUNTS.length)
      console.log(
        `Verification fanned out (${VERIFY_CHILDREN} children at once, ${VERIFY_PARTS_PER_ITEM} parts of 1,000 objects per item), 1 KiB objects:`,
      );
    for (const count of VERIFY_COUNTS) {
      const prefix = `verify-${count}/`;
      await fill(s3, buckets.source, prefix, count, 1 * KIB);
      const backupRun = await measure(
        `caretaker full ${count.toLocaleString('en')} × 1 KiB (to verify)`,
        () => caretaker(`verify-${count}`, prefix),
      );
      const backupId = (backupRun.detail as { backupId?: string }).backupId!;
      const task: VerifyTask = { set: `verify-${count}`, backupId, partsPerItem: VERIFY_PARTS_PER_ITEM };
      const verified = await measure(
        `caretaker verify (fanned out) ${count.toLocaleString('en')} objects`,
        async () => {
          const run = await measureProcess(
            process.execPath,
            ['--import', 'tsx', VERIFY_CHILD, JSON.stringify(task)],
            { ...childEnv, BENCH_VERIFY_CHILDREN: String(VERIFY_CHILDREN) },
          );
          const report = lastJsonLine<VerifyReport>(run.stdout);
          if (report.objectsChecked !== count)
            throw new Error(`verified ${report.objectsChecked} of ${count} objects`);
          return {
            wallMs: report.wallMs,
            cpuMs: report.cpuMs,
            serverCpuMs: run.serverCpuMs,
            peakRssKb: run.peakRssKb,
            detail: { parts: report.parts, items: report.items, rangeCalls: report.rangeCalls },
          };
        },
      );
      const label = count >= 1000 ? `${count / 1000}k` : String(count);
      verifyFigures[`verify${label}Seconds`] = round(verified.wallMs / 1000);
      verifyFigures[`verify${label}MsPerObject`] = round(verified.wallMs / count);
    }
    if (VERIFY_COUNTS.length)
      console.log(
        `Verify time by object count: ${VERIFY_COUNTS.map((count) => {
          const label = count >= 1000 ? `${count / 1000}k` : String(count);
          return `${count.toLocaleString('en')} → ${verifyFigures[`verify${label}Seconds`]} s (${verifyFigures[`verify${label}MsPerObject`]} ms/object)`;
        }).join(', ')}`,
      );
    if (ONLY === 'verify') {
      console.log(JSON.stringify({ ...verifyFigures, verifyChildren: VERIFY_CHILDREN, cpus: cpus().length }));
      return;
    }

    type RoundResult = Record<
      Shape['id'],
      { caretaker: Measurement; crypt: Measurement; plain: Measurement }
    >;
    const rounds: RoundResult[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      console.log(
        `Round ${r} of ${ROUNDS} (load average ${loadavg()[0]?.toFixed(1)}): full copies through the client`,
      );
      const result = {} as RoundResult;
      for (const shape of SHAPES) {
        const name = `${shape.id}-r${r}`;
        result[shape.id] = {
          caretaker: await measure(`r${r} caretaker full ${shape.label}`, () =>
            caretaker(name, shape.prefix),
          ),
          crypt: await measure(`r${r} rclone crypt ${shape.label}`, () => rcloneCrypt(shape.prefix, name)),
          plain: await measure(`r${r} plain SDK copy ${shape.label}`, () =>
            plainCopy(shape.prefix, `${name}/`),
          ),
        };
      }
      rounds.push(result);
    }

    console.log('Once: server-side copies between buckets, awscli through the client, an incremental backup');
    const smallAws = await measure('awscli s3 sync 1,000 × 64 KiB', () => awscliSync('small/', 'small/'));
    const smallRclone = await measure('rclone copy (server-side) 1,000 × 64 KiB', () =>
      rcloneServerSide('small/', 'small/'),
    );
    const largeAws = await measure('awscli s3 sync 1 × 1 GiB', () => awscliSync('large/', 'large/'));
    const largeRclone = await measure('rclone copy (server-side) 1 × 1 GiB', () =>
      rcloneServerSide('large/', 'large/'),
    );
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
    // Chains onto round 1's full backup of the same set (nothing changed at the source).
    const manyIncremental = await measure('caretaker incremental, nothing changed', () =>
      caretaker('tiny-r1', 'many/'),
    );
    const manyAws = await measure('awscli s3 sync 10,000 × 1 KiB', () => awscliSync('many/', 'many/'));
    const manyAwsAgain = await measure('awscli s3 sync again, nothing changed', () =>
      awscliSync('many/', 'many/'),
    );

    const over = (pick: (round: RoundResult) => number): Spread => spreadOf(rounds.map(pick));
    const ratio = (shape: Shape['id'], peer: 'crypt' | 'plain') =>
      over((round) => round[shape].caretaker.wallMs / round[shape][peer].wallMs);
    const wall = (shape: Shape['id'], who: 'caretaker' | 'crypt' | 'plain') =>
      over((round) => round[shape][who].wallMs / 1000);
    const kmsTotal = (m: Measurement) =>
      Object.values((m.detail?.kms ?? {}) as Record<string, number>).reduce((sum, n) => sum + n, 0);
    const kmsOp = (m: Measurement, operation: string) =>
      ((m.detail?.kms ?? {}) as Record<string, number>)[operation] ?? 0;
    const tinyObjects = SHAPES.find((shape) => shape.id === 'tiny')!.objects;
    const spreads = {
      fullSmallVsRcloneCrypt: ratio('small', 'crypt'),
      fullTinyVsRcloneCrypt: ratio('tiny', 'crypt'),
      fullLargeVsRcloneCrypt: ratio('large', 'crypt'),
      fullSmallVsPlainCopy: ratio('small', 'plain'),
      fullTinyVsPlainCopy: ratio('tiny', 'plain'),
      fullLargeVsPlainCopy: ratio('large', 'plain'),
      kmsCallsPer10kObjects: over((round) => (kmsTotal(round.tiny.caretaker) * 10_000) / tinyObjects),
      caretakerSmallSeconds: wall('small', 'caretaker'),
      caretakerTinySeconds: wall('tiny', 'caretaker'),
      caretakerLargeSeconds: wall('large', 'caretaker'),
      rcloneCryptSmallSeconds: wall('small', 'crypt'),
      rcloneCryptTinySeconds: wall('tiny', 'crypt'),
      rcloneCryptLargeSeconds: wall('large', 'crypt'),
      plainCopySmallSeconds: wall('small', 'plain'),
      plainCopyTinySeconds: wall('tiny', 'plain'),
      plainCopyLargeSeconds: wall('large', 'plain'),
    };
    const first = rounds[0]!;
    const figures = {
      ...Object.fromEntries(Object.entries(spreads).map(([name, spread]) => [name, spread.median])),
      generateDataKeyPer10kObjects: spreadOf(
        rounds.map((round) => (kmsOp(round.tiny.caretaker, 'GenerateDataKey') * 10_000) / tinyObjects),
      ).median,
      kmsCallsPerBackup: Object.fromEntries(
        SHAPES.map((shape) => [shape.id, first[shape.id].caretaker.detail?.kms ?? {}]),
      ),
      fullSmallVsAwscli: round(first.small.caretaker.wallMs / smallAws.wallMs),
      fullLargeVsAwscli: round(first.large.caretaker.wallMs / largeAws.wallMs),
      fullLargeVsAwscliThroughClient: round(first.large.caretaker.wallMs / largeAwsStream.wallMs),
      fullSmallVsRclone: round(first.small.caretaker.wallMs / smallRclone.wallMs),
      fullLargeVsRclone: round(first.large.caretaker.wallMs / largeRclone.wallMs),
      incrementalSpeedup: round(first.tiny.caretaker.wallMs / manyIncremental.wallMs),
      awscliResyncSpeedup: round(manyAws.wallMs / manyAwsAgain.wallMs),
      caretakerPeakRssSmallMb: Math.round(first.small.caretaker.peakRssKb / 1024),
      caretakerPeakRssLargeMb: Math.round(first.large.caretaker.peakRssKb / 1024),
      caretakerPeakRssLargeVsSmall: round(first.large.caretaker.peakRssKb / first.small.caretaker.peakRssKb),
      awscliPeakRssLargeMb: Math.round(largeAws.peakRssKb / 1024),
      rclonePeakRssLargeMb: Math.round(largeRclone.peakRssKb / 1024),
      rcloneCryptPeakRssLargeMb: Math.round(first.large.crypt.peakRssKb / 1024),
      caretakerLargeMiBps: round(GIB / MIB / spreads.caretakerLargeSeconds.median),
      awscliSmallSeconds: round(smallAws.wallMs / 1000),
      awscliLargeSeconds: round(largeAws.wallMs / 1000),
      rcloneSmallSeconds: round(smallRclone.wallMs / 1000),
      rcloneLargeSeconds: round(largeRclone.wallMs / 1000),
      caretakerManyFullSeconds: round(first.tiny.caretaker.wallMs / 1000),
      caretakerManyIncrementalSeconds: round(manyIncremental.wallMs / 1000),
      fullSmallCpuVsAwscli: round(first.small.caretaker.cpuMs / smallAws.cpuMs),
      fullLargeCpuVsAwscli: round(first.large.caretaker.cpuMs / largeAws.cpuMs),
      fullSmallCpuVsRcloneCrypt: round(first.small.caretaker.cpuMs / first.small.crypt.cpuMs),
      fullTinyCpuVsRcloneCrypt: round(first.tiny.caretaker.cpuMs / first.tiny.crypt.cpuMs),
      fullLargeCpuVsRcloneCrypt: round(first.large.caretaker.cpuMs / first.large.crypt.cpuMs),
      rounds: ROUNDS,
      spread: Object.fromEntries(Object.entries(spreads).map(([name, s]) => [name, [s.min, s.max]])),
      cpus: cpus().length,
      loadAverageStart: round(loadAtStart),
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
    const show = (s: Spread) => (ROUNDS > 1 ? `${s.median}× (${s.min}–${s.max})` : `${s.median}×`);
    console.log(
      `Caretaker full ÷ rclone crypt (wall, median of ${ROUNDS}, range): small ${show(spreads.fullSmallVsRcloneCrypt)}, tiny ${show(spreads.fullTinyVsRcloneCrypt)}, 1 GiB ${show(spreads.fullLargeVsRcloneCrypt)} (target ≤ 1.0 each)`,
    );
    console.log(
      `Caretaker full ÷ plain SDK copy: small ${show(spreads.fullSmallVsPlainCopy)}, tiny ${show(spreads.fullTinyVsPlainCopy)}, 1 GiB ${show(spreads.fullLargeVsPlainCopy)} (target ≤ 1.1 for 1 GiB)`,
    );
    console.log(
      `KMS calls per backup (first round): ${JSON.stringify(figures.kmsCallsPerBackup)}; per 10,000 objects: ${spreads.kmsCallsPer10kObjects.median} in all, ${figures.generateDataKeyPer10kObjects} GenerateDataKey (target ≤ 1 GenerateDataKey per 10,000 objects)`,
    );
    console.log(
      `Incremental speed-up over full (10,000 unchanged): ${figures.incrementalSpeedup}× (target ≥ 20)`,
    );
    console.log(
      `Server-side peers (they never move the bytes): Caretaker ÷ awscli sync small ${figures.fullSmallVsAwscli}×, 1 GiB ${figures.fullLargeVsAwscli}×; ÷ rclone copy small ${figures.fullSmallVsRclone}×, 1 GiB ${figures.fullLargeVsRclone}×`,
    );
    console.log(
      `Caretaker peak RSS: ${figures.caretakerPeakRssSmallMb} MB for 64 KiB objects, ${figures.caretakerPeakRssLargeMb} MB for 1 GiB (${figures.caretakerPeakRssLargeVsSmall}×; flat means ≈ 1)`,
    );
    console.log(JSON.stringify({ ...figures, ...verifyFigures }));
  } finally {
    await sandbox.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
