import { describe, expect, it } from 'vitest';
import { mapLimited, WorkPool } from '../../../../../functions/common/backup/pool.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

function tracker() {
  let running = 0;
  let peak = 0;
  let weight = 0;
  let peakWeight = 0;
  return {
    task: (w: number) => async () => {
      running++;
      weight += w;
      peak = Math.max(peak, running);
      peakWeight = Math.max(peakWeight, weight);
      await tick();
      running--;
      weight -= w;
    },
    peak: () => peak,
    peakWeight: () => peakWeight,
  };
}

describe('WorkPool', () => {
  it('runs at most `slots` tasks at once', async () => {
    const pool = new WorkPool(3, 1000);
    const t = tracker();
    for (let i = 0; i < 10; i++) await pool.start(1, t.task(1));
    await pool.settle();

    expect(t.peak()).toBe(3);
  });

  it('keeps the weight in flight within capacity', async () => {
    const pool = new WorkPool(10, 100);
    const t = tracker();
    for (let i = 0; i < 8; i++) await pool.start(40, t.task(40));
    await pool.settle();

    expect(t.peakWeight()).toBeLessThanOrEqual(80);
  });

  it('runs a task heavier than the capacity alone instead of never', async () => {
    const pool = new WorkPool(4, 10);
    const t = tracker();
    await pool.start(1, t.task(1));
    await pool.start(500, t.task(500));
    await pool.settle();

    expect(t.peak()).toBe(1);
  });

  it('reports the first failure at settle after letting the others finish', async () => {
    const pool = new WorkPool(4, 100);
    let finished = 0;
    await pool.start(1, async () => {
      throw new Error('boom');
    });
    await pool.start(1, async () => {
      await tick();
      finished++;
    });

    await expect(pool.settle()).rejects.toThrow('boom');
    expect(finished).toBe(1);
    expect(pool.failed).toBe(true);
  });
});

describe('mapLimited', () => {
  it('keeps the order of the results', async () => {
    expect(await mapLimited([3, 1, 2], 2, async (n) => n * 10)).toEqual([30, 10, 20]);
  });
});
