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
  ({ handler } = await import('../../../../functions/backup-restore/handler.ts'));
});

beforeEach(() => {
  s3Mock.reset();
});

describe('backup-restore handler', () => {
  it('rejects a bad event with a ValidationError naming every field, before touching S3', async () => {
    const bad = { set: 'uploads', targetBucket: 'UPPER', verifyFirst: 'nothing' };

    await expect(handler(bad, fakeContext('backup-restore'))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/targetBucket: .*targetPrefix: .*verifyFirst: /s),
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('refuses to restore into the backup bucket itself', async () => {
    const event = {
      set: 'uploads',
      backupId: '20260101T000000Z-0000abcd',
      targetBucket: 'caretaker-backups',
      targetPrefix: '',
    };

    await expect(handler(event, fakeContext('backup-restore'))).rejects.toMatchObject({
      name: 'ValidationError',
      problems: [{ path: 'targetBucket', message: expect.stringMatching(/is the backup bucket itself/) }],
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });
});

describe('backup environment', () => {
  it('fails at load naming a key alias given instead of a key ARN', async () => {
    const { backupEnvironment } = await import('../../../../functions/common/backup/environment.ts');
    const saved = process.env.BACKUP_KEY_ARN;
    process.env.BACKUP_KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:alias/caretaker/prod';
    try {
      expect(() => backupEnvironment()).toThrow(/BACKUP_KEY_ARN must be a KMS key ARN \(not an alias\)/);
    } finally {
      process.env.BACKUP_KEY_ARN = saved;
    }
  });
});
