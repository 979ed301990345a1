/**
 * Retention planner benchmark: plans 10,000 / 100,000 / 1,000,000 random recovery points (fixed
 * seed, random order, three years of history) with a rich policy in a DST time zone.
 *
 * Targets (issue 5): 1,000,000 points in ≤ 2 s on one core; 10× the points in ≤ 12× the time.
 * As a peer measured in the same run, it also times a plain sort of the same timestamps, so the
 * figures can be read against this machine's speed.
 *
 * Each size is planned several times and the best run counts. Times are CPU seconds (user +
 * system, garbage-collector threads included, so never less than one core's work): on a shared
 * machine the wall clock also counts the time other processes held the core, which makes the
 * growth ratio meaningless there. Wall-clock figures are printed too. Ends with one JSON line:
 * {"seconds10k", "seconds100k", "seconds1M", "growth10x"} in CPU seconds, plus the wall-clock
 * "wallSeconds1M" and "wallGrowth10x".
 *
 * Run: npx tsx bench/retention.bench.ts   (pin to one core: taskset -c 0 npx tsx …)
 */
import os from 'node:os';
import { planRetention, type RetentionPoint } from '#common/retention/retention';
import type { RetentionPolicyInput } from '#common/retention/retention-policy';

const NOW = new Date('2026-03-29T12:00:00Z');
const HISTORY_MS = 3 * 365 * 86_400_000;

const POLICY: RetentionPolicyInput = {
  keepLast: 10,
  keepHourly: 48,
  keepDaily: 30,
  keepWeekly: 26,
  keepMonthly: 24,
  keepYearly: -1,
  keepWithin: 'P14D',
  timeZone: 'Europe/Berlin',
  minKeep: 5,
  minAge: 'PT12H',
};

/** mulberry32: a small seeded PRNG, so every run plans the same histories. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function history(count: number, seed: number): RetentionPoint[] {
  const next = random(seed);
  const points: RetentionPoint[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const time = NOW.getTime() - Math.floor(next() * HISTORY_MS);
    const createdAt = new Date(time).toISOString();
    points[i] = {
      // Shaped like a backupId: <UTC yyyyMMddTHHmmssZ>-<8 hex>.
      id: `${createdAt.slice(0, 19).replace(/[-:]/g, '')}Z-${i.toString(16).padStart(8, '0')}`,
      createdAt,
      managed: next() < 0.95,
      verified: next() < 0.3,
    };
  }
  return points;
}

interface Timing {
  /** Wall-clock seconds of the fastest run. */
  readonly wall: number;
  /** CPU seconds (user + system) of the run with the least CPU time. */
  readonly cpu: number;
}

/**
 * Best of `repeat` runs, by wall clock and by CPU time separately: the run least disturbed by
 * garbage collection and by other processes. CPU time is printed too because on a shared machine
 * the wall clock also counts the time other processes held the core.
 */
function best(repeat: number, run: () => void): Timing {
  let wall = Number.POSITIVE_INFINITY;
  let cpu = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeat; i++) {
    const startCpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    run();
    wall = Math.min(wall, Number(process.hrtime.bigint() - start) / 1e9);
    const used = process.cpuUsage(startCpu);
    cpu = Math.min(cpu, (used.user + used.system) / 1e6);
  }
  return { wall, cpu };
}

const sizes = [10_000, 100_000, 1_000_000] as const;
const repeats = [30, 15, 7] as const;
const histories = sizes.map((size, i) => history(size, 42 + i));

// Warm up the JIT on a separate history so the first measured size is not penalised.
for (let i = 0; i < 5; i++) planRetention(history(10_000, 7), POLICY, { now: NOW });

const results: Timing[] = [];
for (const [i, points] of histories.entries()) {
  let kept = 0;
  const timing = best(repeats[i]!, () => {
    kept = planRetention(points, POLICY, { now: NOW }).filter((d) => d.action === 'keep').length;
  });
  results.push(timing);
  console.log(
    `${sizes[i]!.toLocaleString('en-US').padStart(9)} points: ${timing.wall.toFixed(3)} s wall, ${timing.cpu.toFixed(3)} s CPU (${kept} kept)`,
  );
}

const millionTimes = histories[2]!.map((point) => Date.parse(String(point.createdAt)));
const peer = best(5, () => {
  Float64Array.from(millionTimes).sort();
});
const [at10k, at100k, at1M] = results as [Timing, Timing, Timing];
console.log(
  `peer: sorting 1,000,000 timestamps takes ${peer.cpu.toFixed(3)} s CPU; planning 1,000,000 points takes ${(at1M.cpu / peer.cpu).toFixed(1)}× that`,
);
console.log(
  `targets: 1M ≤ 2 s: ${at1M.cpu.toFixed(3)} s CPU, ${at1M.wall.toFixed(3)} s wall (${Math.max(at1M.cpu, at1M.wall) <= 2 ? 'met' : 'missed'}); ` +
    `10× points ≤ 12× time: ${(at1M.wall / at100k.wall).toFixed(2)}× wall, ${(at1M.cpu / at100k.cpu).toFixed(2)}× CPU`,
);
const cores = os.availableParallelism();
const load = os.loadavg().map((n) => n.toFixed(2));
console.log(`load average: ${load.join(' ')} on ${cores} core${cores === 1 ? '' : 's'}`);
const round = (n: number): number => Math.round(n * 10_000) / 10_000;
console.log(
  JSON.stringify({
    seconds10k: round(at10k.cpu),
    seconds100k: round(at100k.cpu),
    seconds1M: round(at1M.cpu),
    growth10x: round(at1M.cpu / at100k.cpu),
    wallSeconds1M: round(at1M.wall),
    wallGrowth10x: round(at1M.wall / at100k.wall),
  }),
);
