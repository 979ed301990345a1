import { describe, expect, it } from 'vitest';
import {
  type CheckResult,
  describeProblems,
  isAtLeast,
  rollUp,
} from '../../../../functions/health-check/evaluate.ts';

const check = (name: string, status: CheckResult['status']): CheckResult => ({
  name,
  kind: 'http',
  status,
  summary: `${name} summary`,
  evidence: {},
  durationMs: 1,
});

describe('rollUp', () => {
  it('is healthy when every check passes', () => {
    expect(rollUp([check('a', 'pass'), check('b', 'pass')])).toBe('healthy');
  });

  it('is healthy when no check is configured', () => {
    expect(rollUp([])).toBe('healthy');
  });

  it('is degraded when a check warns and none fails', () => {
    expect(rollUp([check('a', 'pass'), check('b', 'warn')])).toBe('degraded');
  });

  it('is unhealthy when any check fails, whatever the others say', () => {
    expect(rollUp([check('a', 'warn'), check('b', 'fail'), check('c', 'pass')])).toBe('unhealthy');
  });
});

describe('isAtLeast', () => {
  it('treats degraded and unhealthy as at least degraded', () => {
    expect([
      isAtLeast('healthy', 'degraded'),
      isAtLeast('degraded', 'degraded'),
      isAtLeast('unhealthy', 'degraded'),
    ]).toEqual([false, true, true]);
  });

  it('treats only unhealthy as at least unhealthy', () => {
    expect([isAtLeast('degraded', 'unhealthy'), isAtLeast('unhealthy', 'unhealthy')]).toEqual([false, true]);
  });
});

describe('describeProblems', () => {
  it('lists failing checks before warning ones and leaves passing ones out', () => {
    // Act
    const lines = describeProblems({
      status: 'unhealthy',
      checkedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 5,
      checks: [check('slow', 'warn'), check('fine', 'pass'), check('down', 'fail')],
    });

    // Assess
    expect(lines).toEqual(['FAIL http down: down summary', 'WARN http slow: slow summary']);
  });
});
