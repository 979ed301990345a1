/**
 * The catalog head of a backup set (`backups/<set>/catalog-head.json`): a sealed record
 * (record-seal.ts, purpose `catalog-head`) of the newest backup s3-backup completed and a sequence
 * number that grows by one with every newer backup. s3-backup moves it forward after each backup,
 * with a conditional write on the version it read (If-Match / If-None-Match), so two backups
 * finishing together cannot move it back.
 *
 * Readers (freshness, cleanup) compare it with what the bucket holds: a sealed head naming a
 * backup that is gone means the newest backups were deleted — which the listing alone cannot
 * show, since an older backup then simply looks newest. A head that does not open, or a head that
 * was deleted (a delete marker over its versions), is tampering too.
 *
 * What it cannot catch: someone who puts back an *older* sealed head (a copy they kept) and
 * deletes every backup after it. The bucket then looks like it did then, and freshness reports
 * that older backup's true age — failing the RPO check once that age exceeds it.
 */
import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import * as z from 'zod';
import { backupIdTime } from '../retention/recovery-points.ts';
import { isErrorNamed } from '../runtime/errors.ts';
import { logger } from '../runtime/observability.ts';
import type { BackupCrypto } from './crypto.ts';
import { compareKeys } from './keys.ts';
import { backupPrefix } from './layout.ts';
import { bareEtag } from './manifest.ts';
import { openRecord, SEAL_PURPOSES, sealRecord } from './record-seal.ts';
import { taggingHeader, type WriteOptions } from './s3-io.ts';
import type { TamperFinding } from './tampering.ts';
import { CLOCK_SKEW_MS } from './verification-records.ts';

interface Store {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly crypto: BackupCrypto;
}

/** `backups/<set>/catalog-head.json`. */
export function catalogHeadKey(set: string): string {
  return `backups/${set}/catalog-head.json`;
}

const headSchema = z
  .object({
    format: z.literal('caretaker.backup.catalog-head'),
    set: z.string(),
    sequence: z.number().int().min(1),
    newestBackupId: z.string(),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .loose();

export type CatalogHead = z.output<typeof headSchema>;

export type HeadReading =
  | { readonly state: 'absent' }
  | { readonly state: 'deleted' }
  | { readonly state: 'untrusted'; readonly why: string; readonly etag: string }
  | { readonly state: 'sealed'; readonly head: CatalogHead; readonly etag: string };

async function getWithEtag(s3: S3Client, bucket: string, key: string) {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { bytes: Buffer.from(await out.Body!.transformToByteArray()), etag: bareEtag(out.ETag) };
  } catch (error) {
    if (isErrorNamed(error, 'NoSuchKey', 'NotFound')) return undefined;
    throw error;
  }
}

/** Whether the key has versions although no current object: it was deleted (versioned bucket). */
async function wasDeleted(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, MaxKeys: 10 }));
  return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].some((version) => version.Key === key);
}

/** Reads and opens a set's catalog head; with `checkDeleted`, tells a deleted head from none. */
export async function readCatalogHead(
  store: Store,
  set: string,
  options: { readonly checkDeleted?: boolean } = {},
): Promise<HeadReading> {
  const key = catalogHeadKey(set);
  const found = await getWithEtag(store.s3, store.bucket, key);
  if (!found) {
    return options.checkDeleted && (await wasDeleted(store.s3, store.bucket, key))
      ? { state: 'deleted' }
      : { state: 'absent' };
  }
  const opening = await openRecord(store.crypto, SEAL_PURPOSES.catalogHead, { set }, found.bytes);
  if (!opening.sealed) return { state: 'untrusted', why: opening.why, etag: found.etag };
  const head = headSchema.safeParse(opening.record);
  if (!head.success || head.data.set !== set) {
    return { state: 'untrusted', why: 'not a catalog head of this set', etag: found.etag };
  }
  return { state: 'sealed', head: head.data, etag: found.etag };
}

const ATTEMPTS = 5;

/**
 * Records a completed backup in its set's catalog head: newest backup and sequence move forward
 * when `backupId` is newer than the head's, and nothing changes otherwise (a retry, or an older
 * backup finishing late). A head that does not open is replaced (and logged): the backups
 * themselves are the facts, the head only their newest end.
 */
export async function recordInCatalogHead(
  store: Store,
  write: WriteOptions,
  set: string,
  backupId: string,
  now: Date,
): Promise<CatalogHead> {
  const key = catalogHeadKey(set);
  for (let attempt = 1; ; attempt++) {
    const reading = await readCatalogHead(store, set);
    if (reading.state === 'sealed' && compareKeys(reading.head.newestBackupId, backupId) >= 0) {
      return reading.head;
    }
    if (reading.state === 'untrusted') {
      logger.warn('The catalog head does not check out: replacing it', { set, key, why: reading.why });
    }
    const head: CatalogHead = {
      format: 'caretaker.backup.catalog-head',
      set,
      sequence: (reading.state === 'sealed' ? reading.head.sequence : 0) + 1,
      newestBackupId: backupId,
      newestCreatedAt: backupIdTime(backupId)?.toISOString(),
      updatedAt: now.toISOString(),
    };
    const body = await sealRecord(store.crypto, SEAL_PURPOSES.catalogHead, { set }, head);
    try {
      await store.s3.send(
        new PutObjectCommand({
          Bucket: store.bucket,
          Key: key,
          Body: body,
          ContentLength: body.byteLength,
          ContentType: 'application/json',
          ...(Object.keys(write.tags).length ? { Tagging: taggingHeader(write.tags) } : {}),
          ...(write.sseKeyArn
            ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: write.sseKeyArn, BucketKeyEnabled: true }
            : {}),
          ...(reading.state === 'absent' || reading.state === 'deleted'
            ? { IfNoneMatch: '*' }
            : { IfMatch: `"${reading.etag}"` }),
        }),
      );
      logger.info('Catalog head moved', { set, sequence: head.sequence, newestBackupId: backupId });
      return head;
    } catch (error) {
      // Another backup of the set moved the head first: read it again and decide again.
      if (attempt < ATTEMPTS && isErrorNamed(error, 'PreconditionFailed', 'ConditionalRequestConflict'))
        continue;
      throw error;
    }
  }
}

/** What the bucket shows of a backup the head names. */
export type BackupStanding = 'sealed' | 'tampered' | 'absent' | 'unexamined';

/**
 * What a head says about the bucket: tampering when it does not open, was deleted, or names a
 * newest backup that is gone (`absent`: no folder, or a folder without manifest — a head is only
 * written after its backup's manifest). A backup whose manifest does not verify (`tampered`) is
 * reported as that folder's own finding.
 */
export function catalogHeadFindings(
  reading: HeadReading,
  set: string,
  standing: (backupId: string) => BackupStanding,
  now: Date,
): TamperFinding[] {
  const key = catalogHeadKey(set);
  switch (reading.state) {
    case 'absent':
      return [];
    case 'deleted':
      return [{ kind: 'deleted-catalog-head', key, detail: 'only older versions or a delete marker remain' }];
    case 'untrusted':
      return [{ kind: 'unsealed-catalog-head', key, detail: reading.why }];
    case 'sealed': {
      const newest = reading.head.newestBackupId;
      const at = backupIdTime(newest);
      if (at && at.getTime() > now.getTime() + CLOCK_SKEW_MS) {
        return [{ kind: 'unsealed-catalog-head', key, detail: `names ${newest}, dated in the future` }];
      }
      if (standing(newest) !== 'absent') return [];
      return [
        {
          kind: 'newest-backup-missing',
          key: backupPrefix(set, newest),
          backupId: newest,
          detail: `the sealed catalog head (sequence ${reading.head.sequence}, ${reading.head.updatedAt}) records ${newest} as the newest backup of ${set}; it is gone`,
        },
      ];
    }
  }
}
