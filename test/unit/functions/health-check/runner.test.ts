import { describe, expect, it } from 'vitest';
import type { CheckOutcome } from '../../../../functions/health-check/evaluate.ts';
import {
  evaluateChecks,
  type PlannedCheck,
  runCheck,
  runChecks,
} from '../../../../functions/health-check/runner.ts';

const pass: CheckOutcome = { status: 'pass', summary: 'fine', evidence: {} };

function planned(name: string, run: PlannedCheck['run'], timeoutMs = 1000): PlannedCheck {
  return { name, kind: 'http', target: `GET http://${name}/`, timeoutMs, run };
}

const resolveAfter = (ms: number, outcome: CheckOutcome = pass) =>
  new Promise<CheckOutcome>((resolve) => setTimeout(() => resolve(outcome), ms));

describe('runCheck', () => {
  it('fails a check that outlives its budget, with the reason, and cancels its probe', async () => {
    // Prepare
    let cancelled: unknown;
    const check = planned(
      'slow',
      (signal) =>
        new Promise(() => {
          signal.addEventListener('abort', () => {
            cancelled = signal.reason;
          });
        }),
      50,
    );

    // Act
    const result = await runCheck(check);

    // Assess
    expect(result).toMatchObject({
      name: 'slow',
      kind: 'http',
      status: 'fail',
      summary: 'GET http://slow/: check could not run (TimeoutError: no answer within 50 ms)',
      evidence: { timeoutMs: 50 },
    });
    expect(cancelled).toMatchObject({ name: 'TimeoutError' });
  });

  it('fails a check whose probe throws, naming the error, instead of dropping it', async () => {
    // Act
    const result = await runCheck(planned('broken', () => Promise.reject(new Error('boom'))));

    // Assess
    expect(result).toMatchObject({ status: 'fail', evidence: { error: 'Error: boom' } });
  });

  it('fails a check at once when the deadline has already passed', async () => {
    // Act
    const result = await runCheck(
      planned('late', () => resolveAfter(10)),
      Date.now() - 1,
    );

    // Assess
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('no time left before the function deadline');
  });

  it('cuts a check short at the deadline when that comes before its own timeout', async () => {
    // Act
    const result = await runCheck(
      planned('capped', () => resolveAfter(5000), 10_000),
      Date.now() + 50,
    );

    // Assess
    expect(result.status).toBe('fail');
    expect(result.evidence.timeoutMs).toBeLessThanOrEqual(50);
  });

  it('fails a check whose probe throws before returning a promise', async () => {
    // Act
    const result = await runCheck(
      planned('sync', () => {
        throw new Error('client construction failed');
      }),
    );

    // Assess
    expect(result).toMatchObject({
      status: 'fail',
      evidence: { error: 'Error: client construction failed' },
    });
  });
});

describe('runChecks', () => {
  it('runs checks concurrently and keeps their order', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    const checks = ['a', 'b', 'c', 'd'].map((name, index) =>
      planned(name, async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await resolveAfter(50 - index * 10);
        inFlight--;
        return { ...pass, summary: name };
      }),
    );

    // Act
    const results = await runChecks(checks);

    // Assess
    expect(peak).toBe(4);
    expect(results.map((r) => r.summary)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps at most `concurrency` checks in flight', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    const checks = Array.from({ length: 6 }, (_, i) =>
      planned(`c${i}`, async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await resolveAfter(10);
        inFlight--;
        return pass;
      }),
    );

    // Act
    await runChecks(checks, { concurrency: 2 });

    // Assess
    expect(peak).toBe(2);
  });
});

describe('evaluateChecks', () => {
  it('rolls the results up and stamps the run', async () => {
    // Act
    const result = await evaluateChecks(
      [
        planned('ok', () => resolveAfter(1)),
        planned('bad', () => resolveAfter(1, { status: 'fail', summary: 'down', evidence: {} })),
      ],
      { label: 'post-restore', now: () => new Date('2026-01-01T00:00:00Z') },
    );

    // Assess
    expect(result).toMatchObject({
      status: 'unhealthy',
      checkedAt: '2026-01-01T00:00:00.000Z',
      label: 'post-restore',
    });
    expect(result.checks).toHaveLength(2);
  });
});
