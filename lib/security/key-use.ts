/**
 * What each function may do with the stack key, told apart by the encryption context the AWS
 * Encryption SDK sends to KMS (`kms:EncryptionContext:caretaker:purpose`, contract.ts):
 *
 * - sealing manifests and the catalog head is s3-backup's (and backup-restore's, for its rollback
 *   points' manifests); sealing verification records is backup-verify's alone — so a function
 *   that can write backups still cannot make one look verified;
 * - health-check and cleanup may only open seals, never any object's data key;
 * - S3 itself uses the key for SSE-KMS (the bucket's default encryption) on the caller's behalf:
 *   allowed only through S3 (`kms:ViaService`).
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { PURPOSE_KEY, SEAL_PURPOSES } from '../../functions/common/contract.ts';

const PURPOSE = `kms:EncryptionContext:${PURPOSE_KEY}`;

/** Every seal purpose, for readers of seals. */
export const ALL_SEALS = Object.values(SEAL_PURPOSES);

/** The stack key through S3 (SSE-KMS of the backup bucket) for `actions`. */
export function keyThroughS3(scope: IConstruct, key: kms.IKey, actions: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions,
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(scope).region}.amazonaws.com` } },
  });
}

/** Decrypting seals of these purposes only (not backup data). */
export function openSeals(key: kms.IKey, purposes: readonly string[] = ALL_SEALS): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: { StringEquals: { [PURPOSE]: [...purposes] } },
  });
}

/** Making data keys for seals of these purposes only (a verification record's). */
export function makeSeals(key: kms.IKey, purposes: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['kms:GenerateDataKey'],
    resources: [key.keyArn],
    conditions: { StringEquals: { [PURPOSE]: [...purposes] } },
  });
}

/** An explicit refusal to make data keys for seals of these purposes, whatever else allows it. */
export function neverSeal(key: kms.IKey, purposes: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    actions: ['kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:Encrypt'],
    resources: [key.keyArn],
    conditions: { StringEquals: { [PURPOSE]: [...purposes] } },
  });
}
