/**
 * Finding backups of a set: complete ones have a manifest (it is written last); folders without
 * one are backups in progress or abandoned.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { logger } from '../observability.ts';
import { listBackupIds } from '../recovery-points.ts';
import { compareKeys } from './keys.ts';
import { manifestKey } from './layout.ts';
import { exists } from './s3-io.ts';

interface Bucket {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** Complete backups of a set, newest first, optionally only those older than `before`. */
export async function* completeBackupIds(
  store: Bucket,
  set: string,
  before?: string,
): AsyncGenerator<string> {
  const ids = await listBackupIds(store.s3, { bucket: store.bucket, set });
  for (const id of ids.reverse()) {
    if (before !== undefined && compareKeys(id, before) >= 0) continue;
    if (await exists(store.s3, store.bucket, manifestKey(set, id))) yield id;
    else logger.info('Skipping a backup without manifest (in progress or abandoned)', { set, backupId: id });
  }
}

/** The newest complete backup of a set, or undefined. */
export async function latestCompleteBackup(
  store: Bucket,
  set: string,
  before?: string,
): Promise<string | undefined> {
  for await (const id of completeBackupIds(store, set, before)) return id;
  return undefined;
}
