import { describe, expect, it } from 'vitest';
import {
  aliasAt,
  aliasRollbackDecision,
  currentPercent,
  describeAlias,
  originalVersionOf,
  sameAlias,
} from '../../../../functions/update/canary.ts';

describe('canary steps', () => {
  it('routes the step’s share to the target and keeps the original primary below 100 %', () => {
    expect(aliasAt('3', '4', 25)).toEqual({ functionVersion: '3', weights: { '4': 0.25 } });
  });

  it('makes the target the only version at 100 %', () => {
    expect(aliasAt('3', '4', 100)).toEqual({ functionVersion: '4', weights: {} });
  });

  it('reads the current share in percent', () => {
    expect(currentPercent({ functionVersion: '3', weights: { '4': 0.05 } }, '4')).toBe(5);
    expect(currentPercent({ functionVersion: '4', weights: {} }, '4')).toBe(100);
    expect(currentPercent({ functionVersion: '3', weights: {} }, '4')).toBe(0);
  });

  it('compares aliases without float noise', () => {
    expect(
      sameAlias(
        { functionVersion: '3', weights: { '4': 0.1 + 0.2 } },
        { functionVersion: '3', weights: { '4': 0.3 } },
      ),
    ).toBe(true);
    expect(
      sameAlias({ functionVersion: '3', weights: {} }, { functionVersion: '3', weights: { '4': 0.05 } }),
    ).toBe(false);
  });
});

describe('originalVersionOf', () => {
  it('is the primary version while the alias routes to the target', () => {
    expect(originalVersionOf({ functionVersion: '3', weights: { '4': 0.5 } }, '4')).toBe('3');
  });

  it('takes the given original once the target is primary', () => {
    expect(originalVersionOf({ functionVersion: '4', weights: {} }, '4', '3')).toBe('3');
  });

  it('refuses an alias that also routes to a third version', () => {
    expect(() => originalVersionOf({ functionVersion: '3', weights: { '5': 0.1 } }, '4')).toThrow(
      expect.objectContaining({ name: 'PreconditionFailedError' }),
    );
  });

  it('refuses an alias someone moved to another primary version', () => {
    expect(() => originalVersionOf({ functionVersion: '2', weights: {} }, '4', '3')).toThrow(
      expect.objectContaining({
        name: 'PreconditionFailedError',
        message: expect.stringMatching(/changed by someone else/),
      }),
    );
  });
});

describe('aliasRollbackDecision', () => {
  it('finds nothing to roll back on the original version without routing', () => {
    expect(aliasRollbackDecision({ functionVersion: '7', weights: {} }, '7', '8')).toBe('unchanged');
  });

  it('rolls back what a shift leaves: a share to the target, or the target alone', () => {
    expect(aliasRollbackDecision({ functionVersion: '7', weights: { '8': 0.5 } }, '7', '8')).toBe('revert');
    expect(aliasRollbackDecision({ functionVersion: '8', weights: {} }, '7', '8')).toBe('revert');
  });

  it('refuses what someone else set: another primary, or routing to a third version', () => {
    expect(aliasRollbackDecision({ functionVersion: '9', weights: {} }, '7', '8')).toBe('conflict');
    expect(aliasRollbackDecision({ functionVersion: '7', weights: { '9': 0.1 } }, '7', '8')).toBe('conflict');
  });
});

describe('describeAlias', () => {
  it('says which version serves and what is routed elsewhere', () => {
    expect(describeAlias({ functionVersion: '7', weights: { '8': 0.1 } })).toBe(
      'version 7, 10 % to version 8',
    );
  });
});
