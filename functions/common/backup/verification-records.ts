/**
 * Verification records (`backups/<set>/<id>/verifications/<time>.json`), sealed: backup-verify
 * writes one after a verification found nothing wrong, with a KMS seal (record-seal.ts) bound to
 * the set, the backup and purpose `verification-record`. A backup is a *verified recovery point*
 * only through a record that
 * - opens with that seal (anyone who can write to the bucket can write a record; only
 *   backup-verify's role can make the seal),
 * - names this set and backup, and the SHA-256 of the very manifest that is sealed now,
 * - is not dated in the future (by its key or its `verifiedAt`).
 * Anything else under `verifications/` is a {@link TamperFinding}: never counted, always reported.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { backupIdTime, verificationTime } from '../retention/recovery-points.ts';
import type { BackupCrypto } from './crypto.ts';
import { backupPrefix, verificationKey } from './layout.ts';
import { openRecord, SEAL_PURPOSES, sealRecord } from './record-seal.ts';
import { getBytes, listAll, putBytes, type WriteOptions } from './s3-io.ts';
import type { TamperFinding } from './tampering.ts';

/** How far in the future a backup or record time may be before it is not trusted (clock skew). */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** Records opened per backup before the rest are counted unread (bounds KMS calls per decision). */
export const MAX_RECORDS_OPENED = 20;

interface Store {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly crypto: BackupCrypto;
}

const recordSchema = z
  .object({
    backupId: z.string(),
    set: z.string(),
    verifiedAt: z.iso.datetime({ offset: true }),
    manifestSha256: z.string(),
    ok: z.literal(true),
  })
  .loose();

/** Writes a verification record with its seal. */
export async function writeVerificationRecord(
  store: Store,
  record: { readonly set: string; readonly backupId: string; readonly verifiedAt: string } & Readonly<
    Record<string, unknown>
  >,
  write: WriteOptions,
): Promise<string> {
  const key = verificationKey(record.set, record.backupId, new Date(record.verifiedAt));
  const bytes = await sealRecord(
    store.crypto,
    SEAL_PURPOSES.verification,
    { set: record.set, backupId: record.backupId },
    record,
  );
  await putBytes(store.s3, store.bucket, key, bytes, { ...write, contentType: 'application/json' });
  return key;
}

/** The newest verification record that counts, and what did not count on the way. */
export interface VerificationCheck {
  readonly verifiedAt?: Date;
  readonly key?: string;
  readonly tampering: TamperFinding[];
}

/**
 * The newest verification record of a backup that counts (see the module comment), reading the
 * records newest first and stopping at the first that does. `manifestSha256` is the SHA-256 of
 * the backup's manifest as its seal vouches for it.
 */
export async function newestTrustedVerification(
  store: Store,
  set: string,
  backupId: string,
  manifestSha256: string,
  now: Date,
): Promise<VerificationCheck> {
  const latest = now.getTime() + CLOCK_SKEW_MS;
  const prefix = `${backupPrefix(set, backupId)}verifications/`;
  const keys: string[] = [];
  for await (const object of listAll(store.s3, store.bucket, prefix)) keys.push(object.key);
  keys.sort().reverse();
  const tampering: TamperFinding[] = [];
  const about = (key: string) => ({ key, backupId });
  let opened = 0;
  for (const key of keys) {
    const named = verificationTime(key);
    if (named && named.getTime() > latest) {
      tampering.push({
        ...about(key),
        kind: 'future-dated-verification',
        detail: `named ${named.toISOString()}`,
      });
      continue;
    }
    if (opened >= MAX_RECORDS_OPENED) {
      tampering.push({
        ...about(key),
        kind: 'unsealed-verification',
        detail: `not opened: ${MAX_RECORDS_OPENED} newer records of this backup did not check out`,
      });
      continue;
    }
    opened++;
    const bytes = await getBytes(store.s3, store.bucket, key);
    if (!bytes) continue;
    const opening = await openRecord(store.crypto, SEAL_PURPOSES.verification, { set, backupId }, bytes);
    if (!opening.sealed) {
      tampering.push({ ...about(key), kind: 'unsealed-verification', detail: opening.why });
      continue;
    }
    const record = recordSchema.safeParse(opening.record);
    if (!record.success) {
      tampering.push({ ...about(key), kind: 'mismatched-verification', detail: 'not a verification record' });
      continue;
    }
    const { data } = record;
    if (data.set !== set || data.backupId !== backupId || data.manifestSha256 !== manifestSha256) {
      tampering.push({
        ...about(key),
        kind: 'mismatched-verification',
        detail: `it verified ${data.set}/${data.backupId} with manifest ${data.manifestSha256.slice(0, 12)}…`,
      });
      continue;
    }
    const verifiedAt = new Date(data.verifiedAt);
    const created = backupIdTime(backupId);
    if (verifiedAt.getTime() > latest) {
      tampering.push({
        ...about(key),
        kind: 'future-dated-verification',
        detail: `verifiedAt ${data.verifiedAt}`,
      });
      continue;
    }
    if (created && verifiedAt < created) {
      tampering.push({
        ...about(key),
        kind: 'mismatched-verification',
        detail: `verifiedAt ${data.verifiedAt} is before the backup was taken`,
      });
      continue;
    }
    return { verifiedAt, key, tampering };
  }
  return { tampering };
}
