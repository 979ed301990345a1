import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeContext } from '../../../support/lambda-context.ts';

const s3Mock = mockClient(S3Client);
let handler: (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<unknown>;
let backupIdOf: typeof import('../../../../functions/s3-backup/handler.ts').backupIdOf;

beforeAll(async () => {
  Object.assign(process.env, {
    BACKUP_BUCKET: 'caretaker-backups',
    BACKUP_KEY_ARN: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    CARETAKER_STACK: 'caretaker-prod',
  });
  ({ handler, backupIdOf } = await import('../../../../functions/s3-backup/handler.ts'));
});

beforeEach(() => {
  s3Mock.reset();
});

const set = {
  name: 'uploads',
  sourceBucket: 'example-app-uploads',
  prefix: 'uploads/',
  mode: 'incremental',
  fullEvery: 7,
};

describe('s3-backup handler', () => {
  it('rejects a bad event with a ValidationError naming every field, before touching S3', async () => {
    const bad = {
      set: { ...set, sourceBucket: 'Not_A_Bucket', fullEvery: 0 },
      step: 'sideways',
      timeBudgetMs: -1,
    };

    await expect(handler(bad, fakeContext('s3-backup'))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/step: .*set\.sourceBucket: .*set\.fullEvery: .*timeBudgetMs: /s),
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('refuses a set whose source is the backup bucket itself, before touching S3', async () => {
    // Prepare
    const event = { set: { ...set, sourceBucket: 'caretaker-backups' } };

    // Act
    const outcome = handler(event, fakeContext('s3-backup'));

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'ValidationError',
      problems: [{ path: 'set.sourceBucket', message: expect.stringMatching(/is the backup bucket itself/) }],
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('requires the backup id and batches for a Distributed Map child', async () => {
    await expect(handler({ set, step: 'batches' }, fakeContext('s3-backup'))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/batches: required for step "batches".*backupId: required/s),
    });
  });

  it('accepts a whole config backup set (extra config fields are ignored)', async () => {
    s3Mock.rejects(
      Object.assign(new Error('stop here'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
    );
    const configSet = { ...set, retention: 'daily', rpo: 'PT26H', verifySubset: '1/7' };

    await expect(handler({ set: configSet }, fakeContext('s3-backup'))).rejects.toMatchObject({
      name: 'AccessDeniedError',
    });
  });
});

describe('backupIdOf', () => {
  const event = {
    step: 'run' as const,
    set: { ...set, mode: 'incremental' as const },
    executionId: 'arn:exec:1',
    forceFull: false,
  };

  it('derives the same id on every call of one execution (so the loop keeps one backup)', () => {
    const startedAt = '2026-02-03T02:00:00.123Z';

    expect(backupIdOf({ ...event, startedAt })).toBe(backupIdOf({ ...event, startedAt }));
    expect(backupIdOf({ ...event, startedAt })).toMatch(/^20260203T020000Z-[0-9a-f]{8}$/);
  });

  it('uses the given id when there is one', () => {
    expect(backupIdOf({ ...event, backupId: '20260101T000000Z-0000abcd' })).toBe('20260101T000000Z-0000abcd');
  });
});
