import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeContext } from '../../../support/lambda-context.ts';

const s3Mock = mockClient(S3Client);
let handler: (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<unknown>;

beforeAll(async () => {
  Object.assign(process.env, {
    BACKUP_BUCKET: 'caretaker-backups',
    BACKUP_KEY_ARN: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    CARETAKER_STACK: 'caretaker-prod',
  });
  ({ handler } = await import('../../../../functions/backup-verify/handler.ts'));
});

beforeEach(() => {
  s3Mock.reset();
});

describe('backup-verify handler', () => {
  it('rejects a bad subset, set and backup id with a ValidationError before touching S3', async () => {
    const bad = { set: 'Uploads!', backupId: 'yesterday', subset: '8/7' };

    await expect(handler(bad, fakeContext('backup-verify'))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/set: .*backupId: expected a backupId.*subset: expected 1 <= n <= t/s),
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('reports a set without any complete backup as NotFoundError', async () => {
    s3Mock.resolves({ CommonPrefixes: [], IsTruncated: false });

    await expect(handler({ set: 'uploads' }, fakeContext('backup-verify'))).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringMatching(/uploads has no complete backup/),
    });
  });

  it('reports a missing manifest as IntegrityError naming the backup', async () => {
    s3Mock.rejects(
      Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }),
    );

    await expect(
      handler({ set: 'uploads', backupId: '20260101T000000Z-0000abcd' }, fakeContext('backup-verify')),
    ).rejects.toMatchObject({
      name: 'IntegrityError',
      details: expect.objectContaining({
        problem: 'missing-manifest',
        backupId: '20260101T000000Z-0000abcd',
      }),
    });
  });
});
