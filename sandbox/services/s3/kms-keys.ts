/**
 * SSE-KMS keys as S3 resolves them through KMS: a key id, key ARN, alias or alias ARN becomes the
 * key's ARN, and a missing, disabled or deleted key refuses the write with KMS's error, as S3
 * reports it (`KMS.<code>`). Without the sandbox's KMS running, key ids are stored as given.
 */
import type { SandboxContext } from '../../core/server.ts';
import { AwsError } from '../../core/types.ts';
import type { KmsService } from '../kms/index.ts';

/** Turns the key id a request names into the key ARN S3 stores and returns. */
export type KeyResolver = (keyId: string) => string;

export function kmsKeyResolver(context: SandboxContext, region: string): KeyResolver {
  return (keyId) => {
    const kms = context.service<KmsService>('kms');
    if (!kms) return keyId;
    const key = kms.describeKey(region, keyId);
    if (!key) throw new AwsError('KMS.NotFoundException', `Invalid keyId '${keyId}'`, 400);
    if (key.KeyState === 'Disabled')
      throw new AwsError('KMS.DisabledException', `${key.Arn} is disabled.`, 400);
    if (key.KeyState === 'PendingDeletion') {
      throw new AwsError('KMS.KMSInvalidStateException', `${key.Arn} is pending deletion.`, 400);
    }
    return key.Arn;
  };
}

/** The ARN S3 reports for SSE-KMS without a key: the account's AWS managed key for S3. */
export function managedKeyArn(context: SandboxContext, region: string): string {
  return `arn:aws:kms:${region}:${context.accountId}:alias/aws/s3`;
}
