/**
 * Writes one backed-up object to a target key: the verified plaintext stream (see read-object)
 * is uploaded with the object's recorded HTTP headers and user metadata. The upload only
 * completes if the plaintext verified, so a bad object is never left at the target.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { PreconditionFailedError } from '../runtime/errors.ts';
import { type Budget, fitsInACall } from './budget.ts';
import type { ManifestEntry } from './manifest.ts';
import { type ReadSource, readVerified } from './read-object.ts';
import { type UploadTuning, uploadStream } from './s3-io.ts';

export interface RestoreTarget {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly tuning: UploadTuning;
}

/** Refuses an object that could not be restored even in a whole call of its own (at the budget's throughput). */
export function assertRestorableInOneCall(budget: Budget, entry: ManifestEntry): void {
  if (!fitsInACall(budget, entry.size)) {
    throw new PreconditionFailedError(
      `"${entry.key}" (${entry.size} bytes) cannot be restored within one call`,
      {
        key: entry.key,
      },
    );
  }
}

/** The target key of an entry: the target prefix plus the key relative to the backup's source prefix. */
export function targetKeyOf(
  entry: Pick<ManifestEntry, 'key'>,
  sourcePrefix: string,
  targetPrefix: string,
): string {
  if (!entry.key.startsWith(sourcePrefix)) {
    throw new Error(`Manifest key "${entry.key}" is outside the backup's source prefix "${sourcePrefix}"`);
  }
  return `${targetPrefix}${entry.key.slice(sourcePrefix.length)}`;
}

/**
 * Restores one entry of backup `backupId` (set `set`) to `targetKey`, verifying it as it is
 * written, with `tags` on the restored object (a restore's provenance; none when putting back)
 * and, when putting back, a `condition` on the object it replaces (If-Match: undo-write.ts).
 */
export async function restoreObject(
  source: ReadSource,
  target: RestoreTarget,
  backup: { readonly set: string; readonly backupId: string; readonly frameLength: number },
  entry: ManifestEntry,
  targetKey: string,
  tags: Readonly<Record<string, string>> = {},
  condition: { readonly IfMatch?: string } = {},
): Promise<void> {
  await readVerified(source, { ...backup, entry }, (plaintext) =>
    uploadStream(target.s3, target.bucket, targetKey, plaintext, {
      tags,
      tuning: target.tuning,
      ...(entry.metadata ? { metadata: entry.metadata } : {}),
      headers: {
        ...(entry.contentType ? { ContentType: entry.contentType } : {}),
        ...(entry.contentEncoding ? { ContentEncoding: entry.contentEncoding } : {}),
        ...(entry.contentDisposition ? { ContentDisposition: entry.contentDisposition } : {}),
        ...(entry.contentLanguage ? { ContentLanguage: entry.contentLanguage } : {}),
        ...(entry.cacheControl ? { CacheControl: entry.cacheControl } : {}),
        ...condition,
      },
    }),
  );
}
