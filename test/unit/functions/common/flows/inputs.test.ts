import { describe, expect, it } from 'vitest';
import { backupSet } from '#common/config-sections';
import { ValidationError } from '#common/errors';
import type { FlowContext } from '#common/flows/context';
import { flowInputSchema } from '#common/flows/inputs';
import { parseOrThrow } from '#common/validation';
import { flowContext } from '../../../../support/flow-context.ts';

const context: FlowContext = flowContext({
  environmentName: 'prod',
  backupSets: [
    backupSet.parse({
      name: 'uploads',
      sourceBucket: 'app-uploads',
      prefix: 'uploads/',
      retention: 'standard',
      verifySubset: '1/7',
    }),
  ],
});

function problems(flow: 'Backup' | 'Cleanup', input: unknown): string[] {
  try {
    parseOrThrow(flowInputSchema(flow, context), input);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('Cleanup input', () => {
  it('requires dryRun, so no input means nothing is deleted', () => {
    expect(problems('Cleanup', {})).toEqual([
      'dryRun: expected boolean, received nothing (the field is missing)',
    ]);
  });

  it('refuses an unknown field instead of ignoring it', () => {
    expect(problems('Cleanup', { dryRun: false, dryrun: true })).toEqual(['dryrun: unknown field']);
  });

  it('accepts a dry run', () => {
    expect(parseOrThrow(flowInputSchema('Cleanup', context), { dryRun: true })).toEqual({ dryRun: true });
  });
});

describe('Backup input', () => {
  it('plans a configured set as configured, with its verify subset', () => {
    expect(parseOrThrow(flowInputSchema('Backup', context), { set: 'uploads' })).toEqual({
      set: {
        name: 'uploads',
        sourceBucket: 'app-uploads',
        prefix: 'uploads/',
        mode: 'incremental',
        fullEvery: 7,
      },
      forceFull: false,
      verifySubset: '1/7',
      backupId: null,
      timeBudgetMs: null,
    });
  });

  it('lets a run choose what to verify and force a full backup', () => {
    expect(
      parseOrThrow(flowInputSchema('Backup', context), {
        set: 'uploads',
        verifySubset: 'all',
        forceFull: true,
      }),
    ).toMatchObject({ verifySubset: 'all', forceFull: true });
  });

  it('refuses a set that is not configured, listing the configured ones', () => {
    expect(problems('Backup', { set: 'other' })).toEqual(['set: expected a configured backup set (uploads)']);
  });

  it('names every bad field at once', () => {
    expect(problems('Backup', { set: 'uploads', backupId: 'latest', verifySubset: '8/7', extra: 1 })).toEqual(
      [
        'verifySubset: expected 1 <= n <= t in "n/t"',
        'backupId: expected a backup id (yyyyMMddTHHmmssZ-<8 hex>)',
        'extra: unknown field',
      ],
    );
  });
});
