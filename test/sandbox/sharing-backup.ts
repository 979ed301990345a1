/**
 * A complete backup made by hand whose entries point at another backup's stored objects (as an
 * incremental's reused copies do, but from a folder retention may delete): what cleanup must never
 * break. Shared by the cleanup tests. Not a test file itself.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { recordInCatalogHead } from '../../functions/common/backup/catalog-head.ts';
import { backupCrypto } from '../../functions/common/backup/crypto.ts';
import { manifestKey, partKey, sealKey } from '../../functions/common/backup/layout.ts';
import {
  buildManifest,
  describePart,
  manifestSchema,
  partSchema,
  serializeManifest,
  serializePart,
  sha256Hex,
} from '../../functions/common/backup/manifest.ts';
import { sealContext, sealPlaintext } from '../../functions/common/backup/seal.ts';

export interface SharingStore {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly keyArn: string;
}

async function json(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await out.Body!.transformToString());
}

/** Writes a complete backup `id` whose entries are those of `from`, stored where `from` stored them. */
export async function sharingBackup(
  store: SharingStore,
  set: string,
  from: string,
  id: string,
): Promise<string> {
  const { s3, bucket } = store;
  const source = manifestSchema.parse(await json(s3, bucket, manifestKey(set, from)));
  const objects = [];
  for (const descriptor of source.parts) {
    objects.push(...partSchema.parse(await json(s3, bucket, descriptor.key)).objects);
  }
  const part = {
    format: 'caretaker.backup.manifest-part' as const,
    formatVersion: 1 as const,
    set,
    backupId: id,
    batch: 1,
    objects,
    vanished: [],
  };
  const partBytes = serializePart(part);
  const put = (Key: string, Body: Buffer) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, Tagging: 'caretaker:managed=true' }));
  await put(partKey(set, id, 1), partBytes);
  const { format: _f, formatVersion: _v, totals: _t, parts: _p, durationMs: _d, ...header } = source;
  const manifest = buildManifest(
    {
      ...header,
      backupId: id,
      parent: null,
      chain: { fullBackupId: id, depth: 0 },
      mode: 'full',
      createdAt: '2026-01-05T02:00:00.000Z',
      completedAt: '2026-01-05T02:00:01.000Z',
    },
    [describePart(part, partKey(set, id, 1), partBytes)],
  );
  const manifestBytes = serializeManifest(manifest);
  await put(manifestKey(set, id), manifestBytes);
  // Sealed as s3-backup seals: it is a backup made with the stack key, only by hand.
  const crypto = backupCrypto({ keyArn: store.keyArn });
  await put(
    sealKey(set, id),
    await crypto.encrypt(sealPlaintext(sha256Hex(manifestBytes)), sealContext(set, id)),
  );
  await recordInCatalogHead({ s3, bucket, crypto }, { tags: {} }, set, id, new Date());
  return id;
}
