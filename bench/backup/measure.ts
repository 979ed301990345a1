/**
 * Measuring the processes bench:backup compares: wall time, CPU of the process, CPU the
 * in-process sandbox spent serving it, peak RSS (GNU time), and figures over rounds.
 */
import { spawn } from 'node:child_process';

export interface Measurement {
  readonly wallMs: number;
  /** User + system CPU of the tool's process, ms. */
  readonly cpuMs: number;
  /** CPU the sandbox (the bench's own process) spent serving the run, ms. */
  readonly serverCpuMs: number;
  /** Peak resident set size (maximum RSS, as VmHWM), KiB. */
  readonly peakRssKb: number;
  readonly detail?: Record<string, unknown>;
}

/** Runs a process under GNU time to its end; rejects on a non-zero exit. */
export function measureProcess(
  command: string,
  args: readonly string[],
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

/** The last JSON line a child printed (its report; anything before it is ignored). */
export function lastJsonLine<T>(stdout: string): T {
  const line = stdout
    .trim()
    .split('\n')
    .filter((text) => text.startsWith('{'))
    .at(-1);
  if (!line) throw new Error(`The child printed no report: ${stdout.slice(-500)}`);
  return JSON.parse(line) as T;
}

/** Median, lowest and highest of a set of figures. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spreadOf(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median: round(median), min: round(sorted[0]!), max: round(sorted.at(-1)!) };
}

export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

export function mb(kb: number): string {
  return (kb / 1024).toFixed(0);
}
