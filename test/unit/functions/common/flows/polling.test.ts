import { describe, expect, it } from 'vitest';
import { POLL_SHAPES, pollIntervals, pollSchedule, pollSchedules } from '#common/flows/polling';

/** How many polls a flow makes before it sees an operation that takes `seconds` finish. */
function pollsFor(intervals: readonly number[], seconds: number): number {
  let waited = 0;
  for (const [index, wait] of intervals.entries()) {
    waited += wait;
    if (waited >= seconds) return index + 1;
  }
  return Number.POSITIVE_INFINITY;
}

describe('pollIntervals', () => {
  it('grows geometrically from the first wait up to the longest wait', () => {
    expect(pollIntervals({ firstSeconds: 30, factor: 2, maxSeconds: 300, totalSeconds: 1500 })).toEqual([
      30, 60, 120, 240, 300, 300, 300, 300,
    ]);
  });

  it('stops once the waits add up to the total', () => {
    const intervals = pollIntervals({ firstSeconds: 10, factor: 3, maxSeconds: 100, totalSeconds: 250 });

    expect(intervals).toEqual([10, 30, 90, 100, 100]);
    expect(intervals.slice(0, -1).reduce((a, b) => a + b, 0)).toBeLessThan(250);
  });

  it('refuses a shape that could never end or never wait', () => {
    expect(() => pollIntervals({ firstSeconds: 0, factor: 2, maxSeconds: 10, totalSeconds: 10 })).toThrow(
      RangeError,
    );
    expect(() => pollIntervals({ firstSeconds: 10, factor: 0.5, maxSeconds: 10, totalSeconds: 100 })).toThrow(
      RangeError,
    );
  });
});

describe('pollSchedule', () => {
  it('gives the flow its first wait, the attempt cap and a zero attempt count', () => {
    const schedule = pollSchedule({ firstSeconds: 15, factor: 2, maxSeconds: 60, totalSeconds: 200 });

    expect(schedule).toEqual({ intervals: [15, 30, 60, 60, 60], cap: 5, wait: 15, attempt: 1 });
  });
});

describe("the flows' poll loop over a schedule", () => {
  it('waits each interval once, in order, and gives up after exactly cap polls', () => {
    const schedule = pollSchedule({ firstSeconds: 10, factor: 2, maxSeconds: 40, totalSeconds: 100 });
    // As the ASL runs it: Wait $.poll.wait → poll → Choice attempt >= cap → give up; else Pass
    // { attempt: attempt + 1, wait: intervals[attempt] }.
    const waits: number[] = [];
    let { attempt, wait } = schedule;
    for (;;) {
      waits.push(wait);
      if (attempt >= schedule.cap) break;
      wait = schedule.intervals[attempt]!;
      attempt += 1;
    }

    expect(waits).toEqual(schedule.intervals);
  });
});

describe('POLL_SHAPES', () => {
  it('sees a 20-minute snapshot finish within 10 polls', () => {
    expect(pollsFor(pollIntervals(POLL_SHAPES.snapshot), 20 * 60)).toBeLessThanOrEqual(10);
  });

  it('waits at least as long as each operation may take before giving up', () => {
    for (const [operation, schedule] of Object.entries(pollSchedules())) {
      const total = schedule.intervals.reduce((a, b) => a + b, 0);
      expect(total, operation).toBeGreaterThanOrEqual(
        POLL_SHAPES[operation as keyof typeof POLL_SHAPES].totalSeconds,
      );
    }
  });
});
