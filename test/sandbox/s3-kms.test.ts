/**
 * SSE-KMS in the sandbox's S3 with the sandbox's KMS running: keys are resolved to their ARN,
 * and a missing or disabled key refuses the write with KMS's error, as S3 reports it.
 */
import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { withSandbox } from '../support/sandbox.ts';

withSandbox([s3Service, kmsService]);
const Bucket = 'kms-bucket';
let s3: S3Client;
let kms: KMSClient;

beforeAll(async () => {
  s3 = new S3Client({});
  kms = new KMSClient({});
  await s3.send(new CreateBucketCommand({ Bucket }));
});

async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string; message: string };
  }
  throw new Error('expected the call to fail');
}

describe('SSE-KMS with the sandbox KMS', () => {
  it('stores and returns the key ARN for a key named by alias', async () => {
    const key = await kms.send(new CreateKeyCommand({}));
    await kms.send(
      new CreateAliasCommand({ AliasName: 'alias/backups', TargetKeyId: key.KeyMetadata!.KeyId }),
    );
    const put = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'by-alias',
        Body: 'x',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'alias/backups',
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'by-alias' }));
    expect(put.SSEKMSKeyId).toBe(key.KeyMetadata!.Arn);
    expect(head.SSEKMSKeyId).toBe(key.KeyMetadata!.Arn);
  });

  it('reports the AWS managed key when SSE-KMS names no key', async () => {
    const put = await s3.send(
      new PutObjectCommand({ Bucket, Key: 'managed', Body: 'x', ServerSideEncryption: 'aws:kms' }),
    );
    expect(put.SSEKMSKeyId).toBe('arn:aws:kms:us-east-1:000000000000:alias/aws/s3');
  });

  it('refuses a key that does not exist with KMS.NotFoundException', async () => {
    const error = await failure(
      s3.send(
        new PutObjectCommand({
          Bucket,
          Key: 'missing-key',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'alias/does-not-exist',
        }),
      ),
    );
    expect(error.name).toBe('KMS.NotFoundException');
  });

  it('refuses a disabled key, also when starting a multipart upload', async () => {
    const key = await kms.send(new CreateKeyCommand({}));
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyMetadata!.KeyId }));
    const error = await failure(
      s3.send(
        new CreateMultipartUploadCommand({
          Bucket,
          Key: 'disabled-key',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: key.KeyMetadata!.KeyId,
        }),
      ),
    );
    expect(error.name).toBe('KMS.DisabledException');
  });
});
