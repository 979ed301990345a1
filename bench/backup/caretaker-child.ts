/**
 * bench:backup's Caretaker run, in a process of its own (so its CPU and peak RSS are its own):
 * loads the real s3-backup handler, calls it until the backup is done, and prints one JSON line.
 * The module load (a Lambda cold start) is timed apart from the backup.
 *
 *   node --import tsx bench/backup/caretaker-child.ts '<task JSON>'
 */
import { getHeapStatistics } from 'node:v8';

export interface CaretakerTask {
  readonly set: {
    name: string;
    sourceBucket: string;
    prefix: string;
    mode: 'full' | 'incremental';
    fullEvery: number;
  };
  readonly executionId: string;
  readonly startedAt: string;
  readonly forceFull?: boolean;
}

/** What the child prints. */
export interface CaretakerReport {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly coldStartMs: number;
  readonly calls: number;
  readonly heapPeak: number;
  readonly result?: { readonly totals: unknown; readonly mode: string; readonly backupId: string };
}

const task = JSON.parse(process.argv[2] ?? '{}') as CaretakerTask;
const loadStart = performance.now();
const { handler } = await import('../../functions/s3-backup/handler.ts');
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
  memoryLimitInMB: '2048',
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
let outcome: { done: boolean; result?: { totals: unknown; mode: string; backupId: string } };
let calls = 0;
do {
  outcome = (await handler(task, context)) as typeof outcome;
  calls++;
} while (!outcome.done);
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuStart);
clearInterval(timer);
const report: CaretakerReport = {
  wallMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  coldStartMs,
  calls,
  heapPeak,
  ...(outcome.result ? { result: outcome.result } : {}),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
