import { describe, expect, it } from 'vitest';
import { budgetFrom, expired, fitsInACall, fitsNow } from '../../../../../functions/common/backup/budget.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const MIB = 1024 * 1024;

describe('budgetFrom', () => {
  it('keeps the safety margin back from the Lambda deadline', () => {
    const c = clock();
    const budget = budgetFrom({ remainingMs: 900_000, safetyMarginMs: 60_000, now: c.now });

    expect(budget.hardDeadline - budget.startedAt).toBe(840_000);
    expect(budget.softDeadline).toBe(budget.hardDeadline);
  });

  it('stops new work at a shorter requested budget, never past the hard deadline', () => {
    const c = clock();
    const short = budgetFrom({ remainingMs: 900_000, timeBudgetMs: 100, now: c.now });
    const long = budgetFrom({
      remainingMs: 90_000,
      safetyMarginMs: 60_000,
      timeBudgetMs: 800_000,
      now: c.now,
    });

    expect(expired(short)).toBe(false);
    c.advance(100);
    expect(expired(short)).toBe(true);
    expect(long.softDeadline - long.startedAt).toBe(30_000);
  });
});

describe('fitsNow and fitsInACall', () => {
  it('admits an object only if its estimated transfer ends before the hard deadline', () => {
    const c = clock();
    const budget = budgetFrom({
      remainingMs: 70_000,
      safetyMarginMs: 60_000,
      bytesPerSecond: 10 * MIB,
      now: c.now,
    });

    expect(fitsNow(budget, 50 * MIB)).toBe(true);
    c.advance(6_000);
    expect(fitsNow(budget, 50 * MIB)).toBe(false);
    expect(fitsInACall(budget, 50 * MIB)).toBe(true);
  });

  it('says an object can never fit when it would not fit even a whole call', () => {
    const budget = budgetFrom({ remainingMs: 900_000, safetyMarginMs: 60_000, bytesPerSecond: MIB });

    expect(fitsInACall(budget, 2000 * MIB)).toBe(false);
  });
});
