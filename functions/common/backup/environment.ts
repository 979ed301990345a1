/**
 * The environment the backup functions share (s3-backup, backup-verify, backup-restore), read
 * once at cold start. docs/backup-scaling.md explains the tuning variables.
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | BACKUP_BUCKET | the backup bucket | required |
 * | BACKUP_KEY_ARN | the stack key's ARN (client-side and SSE-KMS encryption) | required |
 * | BACKUP_TRUSTED_KEY_ARNS | comma-separated extra key ARNs old backups may be decrypted with | none |
 * | CARETAKER_STACK | stack name for the `caretaker:stack` tag | required |
 * | BACKUP_CONCURRENCY | objects in flight per function | 16 |
 * | BACKUP_MEMORY_MB | buffer memory objects in flight may hold together | 40 % of the function's memory |
 * | BACKUP_PART_SIZE_MB | multipart part size | 8 |
 * | BACKUP_QUEUE_SIZE | parts uploaded in parallel per object | 4 |
 * | BACKUP_FRAME_KB | Encryption SDK frame length | 1024 |
 * | BACKUP_DATA_KEY_MAX_AGE_S | seconds a data key is used after KMS made it | 300 |
 * | BACKUP_DATA_KEY_MAX_OBJECTS | stored objects per data key (1: a key per object) | 10000 |
 * | BACKUP_DATA_KEY_MAX_GIB | plaintext GiB per data key | 64 |
 * | BACKUP_PACK_OBJECT_KB | objects up to this size go into packs (0: no packs) | 256 |
 * | BACKUP_PACK_MB | members' size at which a pack is closed | 8 |
 * | BACKUP_BATCH_OBJECTS | objects per batch | 1000 |
 * | BACKUP_SAFETY_MARGIN_MS | time kept back from the Lambda timeout | 60000 |
 * | BACKUP_THROUGHPUT_MBPS | throughput assumed when deciding whether an object fits the time left | 40 |
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ENV, type EnvVariable, LAMBDA_ENV, OPERATOR_ENV } from '../contract.ts';
import { intEnv, MissingEnvironmentError, optionalEnv, requireEnv } from '../runtime/env.ts';
import { type BackupCrypto, backupCrypto } from './crypto.ts';
import type { DataKeyLimits } from './data-keys.ts';
import type { BackupEngine } from './engine.ts';
import type { PackSettings } from './pack.ts';
import { DEFAULT_BATCH_LIMITS } from './plan.ts';

const MIB = 1024 * 1024;

export interface BackupEnvironment {
  readonly bucket: string;
  readonly keyArn: string;
  readonly trustedKeyArns: readonly string[];
  readonly stack: string;
  readonly concurrency: number;
  readonly memoryBytes: number;
  readonly partSize: number;
  readonly queueSize: number;
  readonly frameLength: number;
  readonly dataKeys: DataKeyLimits;
  readonly pack: PackSettings;
  readonly batchObjects: number;
  readonly safetyMarginMs: number;
  readonly bytesPerSecond: number;
}

function positive(name: EnvVariable, fallback: number): number {
  const value = intEnv(name, fallback);
  if (value < 1) throw new MissingEnvironmentError(`Environment variable ${name} must be at least 1`);
  return value;
}

/** Reads and checks the backup environment; throws naming the first bad variable. */
export function backupEnvironment(): BackupEnvironment {
  const functionMb = intEnv(LAMBDA_ENV.functionMemorySize, 1024);
  const keyArn = requireEnv(ENV.backupKeyArn);
  if (!/^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/.test(keyArn)) {
    throw new MissingEnvironmentError(
      `Environment variable ${ENV.backupKeyArn} must be a KMS key ARN (not an alias), got "${keyArn}"`,
    );
  }
  const partSize = positive(OPERATOR_ENV.backupPartSizeMb, 8) * MIB;
  if (partSize < 5 * MIB)
    throw new MissingEnvironmentError(
      `Environment variable ${OPERATOR_ENV.backupPartSizeMb} must be at least 5`,
    );
  return {
    bucket: requireEnv(ENV.backupBucket),
    keyArn,
    trustedKeyArns: optionalEnv(OPERATOR_ENV.backupTrustedKeyArns, '')
      .split(',')
      .map((arn) => arn.trim())
      .filter(Boolean),
    stack: requireEnv(ENV.stackName),
    concurrency: positive(OPERATOR_ENV.backupConcurrency, 16),
    memoryBytes: positive(OPERATOR_ENV.backupMemoryMb, Math.max(128, Math.floor(functionMb * 0.4))) * MIB,
    partSize,
    queueSize: positive(OPERATOR_ENV.backupQueueSize, 4),
    frameLength: positive(OPERATOR_ENV.backupFrameKb, 1024) * 1024,
    dataKeys: {
      maxAgeMs: positive(OPERATOR_ENV.backupDataKeyMaxAgeS, 300) * 1000,
      maxMessages: Math.min(2 ** 32, positive(OPERATOR_ENV.backupDataKeyMaxObjects, 10_000)),
      maxBytes: positive(OPERATOR_ENV.backupDataKeyMaxGib, 64) * 1024 * MIB,
    },
    pack: {
      // Members are held whole in memory until their pack is written: 1 MiB at most each.
      maxObjectBytes: Math.min(1024, Math.max(0, intEnv(OPERATOR_ENV.backupPackObjectKb, 256))) * 1024,
      targetBytes: positive(OPERATOR_ENV.backupPackMb, 8) * MIB,
    },
    batchObjects: Math.min(99_999, positive(OPERATOR_ENV.backupBatchObjects, DEFAULT_BATCH_LIMITS.maxItems)),
    safetyMarginMs: intEnv(OPERATOR_ENV.backupSafetyMarginMs, 60_000),
    bytesPerSecond: positive(OPERATOR_ENV.backupThroughputMbps, 40) * MIB,
  };
}

/** The crypto for an environment. */
export function cryptoFor(environment: BackupEnvironment): BackupCrypto {
  return backupCrypto({
    keyArn: environment.keyArn,
    trustedKeyArns: [environment.keyArn, ...environment.trustedKeyArns],
    frameLength: environment.frameLength,
    dataKeys: environment.dataKeys,
  });
}

/** The backup engine for an environment. */
export function engineFor(environment: BackupEnvironment, s3: S3Client, crypto: BackupCrypto): BackupEngine {
  return {
    s3,
    bucket: environment.bucket,
    crypto,
    stack: environment.stack,
    concurrency: environment.concurrency,
    memoryBytes: environment.memoryBytes,
    upload: { partSize: environment.partSize, queueSize: environment.queueSize },
    pack: environment.pack,
    batchLimits: { ...DEFAULT_BATCH_LIMITS, maxItems: environment.batchObjects },
    now: () => new Date(),
  };
}
