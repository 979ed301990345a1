/**
 * The inventory of a backup set for retention: every folder under `backups/<set>/`, classified
 * by what it holds (docs/backup-format.md layout), on sealed facts only (docs/security.md):
 *
 * - **complete**: `manifest.json` exists (it is written last) and its KMS seal verifies: a backup
 *   Caretaker wrote. Verified when a sealed verification record of that manifest exists (only the
 *   newest verified backup is looked for: the planner needs no other);
 * - **tampered**: a manifest whose seal does not verify (forged, or a real one edited), or a
 *   folder dated in the future: no recovery point, never deleted, reported;
 * - **in progress**: no manifest but `work/` (a backup writes its work state before anything
 *   else, and deletes it only after its manifest): never touched, and its parent is held;
 * - **remnant**: neither: what is left of a deleted backup whose objects a crash interrupted,
 *   or objects still referenced when it was deleted.
 *
 * Whether a backup is Caretaker's is its seal, not an object tag anyone with write access could
 * set. A manifest that cannot be read for another reason (KMS refusing access, S3 failing) makes
 * the whole inventory fail: without every manifest, nothing can be said about what is referenced.
 */
import { GetObjectTaggingCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { HeadReading } from '#common/backup/catalog-head';
import { readCatalogHead } from '#common/backup/catalog-head';
import type { BackupCrypto } from '#common/backup/crypto';
import { manifestKey, stateKey } from '#common/backup/layout';
import { type Manifest, parseManifest } from '#common/backup/manifest';
import { getBytes } from '#common/backup/s3-io';
import { TamperLog } from '#common/backup/tampering';
import { isFutureDated, openBackup } from '#common/backup/trusted-backups';
import { newestTrustedVerification } from '#common/backup/verification-records';
import { workStateSchema } from '#common/backup/work-state';
import { TAG } from '#common/caretaker-tags';
import { backupIdTime, backupSetPrefix, listBackupIds } from '#common/retention/recovery-points';
import { isErrorNamed } from '#common/runtime/errors';
import { mapLimited } from '#common/runtime/map-limited';

export interface CompleteBackup {
  readonly id: string;
  readonly createdAt: Date;
  readonly manifest: Manifest;
  /** SHA-256 of the manifest's bytes, as its seal vouches for them. */
  readonly sha256: string;
  /** Sealed, hence Caretaker's. */
  readonly managed: true;
  readonly verified: boolean;
}

export interface BackupInventory {
  readonly complete: CompleteBackup[];
  /** Backups in progress and the parent each builds on (null: full, or state unreadable). */
  readonly inProgress: { readonly id: string; readonly parent: string | null }[];
  readonly remnants: string[];
  /** Folders that do not check out (forged or edited manifests, future dates): left alone. */
  readonly tampered: string[];
  /**
   * Real backups whose manifest was edited after it was sealed: their true parent cannot be read,
   * so every older backup is held for them.
   */
  readonly edited: string[];
  /**
   * The parent each tampered folder's manifest names, when it parses: kept backups may chain
   * through such a folder (a child's seal vouches for its parent's bytes, not the parent's seal),
   * so its ancestors are held as a kept child's would be. Holding more is the safe mistake.
   */
  readonly tamperedLinks: { readonly id: string; readonly parent: string | null }[];
  readonly tampering: TamperLog;
  readonly head: HeadReading;
}

interface Location {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly set: string;
  readonly crypto: BackupCrypto;
}

/** Whether an object carries the managed tag (`TAG.managed`); undefined when it does not exist. */
export async function objectManaged(s3: S3Client, bucket: string, key: string): Promise<boolean | undefined> {
  try {
    const out = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    return (out.TagSet ?? []).some((tag) => tag.Key === TAG.managed && tag.Value === 'true');
  } catch (error) {
    if (isErrorNamed(error, 'NoSuchKey', 'NotFound')) return undefined;
    throw error;
  }
}

/** What sits directly in a backup's folder: its files and its sub-folders. */
async function folderOf(
  location: Location,
  id: string,
): Promise<{ files: Set<string>; folders: Set<string> }> {
  const prefix = `${backupSetPrefix(location.set)}${id}/`;
  const files = new Set<string>();
  const folders = new Set<string>();
  let token: string | undefined;
  do {
    const page = await location.s3.send(
      new ListObjectsV2Command({
        Bucket: location.bucket,
        Prefix: prefix,
        Delimiter: '/',
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) if (object.Key) files.add(object.Key.slice(prefix.length));
    for (const common of page.CommonPrefixes ?? []) {
      if (common.Prefix) folders.add(common.Prefix.slice(prefix.length, -1));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { files, folders };
}

/** The parent a backup in progress builds on: null for a full one, undefined when its state is unreadable. */
async function parentInProgress(location: Location, id: string): Promise<string | null | undefined> {
  const bytes = await getBytes(location.s3, location.bucket, stateKey(location.set, id));
  if (!bytes) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const state = workStateSchema.safeParse(json);
  return state.success ? (state.data.parent?.backupId ?? null) : undefined;
}

/** Lists and classifies every backup of a set (future-dated ones by their id alone). */
export async function backupInventory(
  s3: S3Client,
  bucket: string,
  set: string,
  crypto: BackupCrypto,
  now: Date,
): Promise<BackupInventory> {
  const location = { s3, bucket, set, crypto };
  const store = { s3, bucket, crypto };
  const ids = await listBackupIds(s3, { bucket, set });
  const entries = await mapLimited(ids, 8, async (id) => {
    if (isFutureDated(id, now)) return { kind: 'future' as const, id };
    const { files, folders } = await folderOf(location, id);
    if (files.has('manifest.json')) {
      const opened = await openBackup(store, set, id);
      if (opened.kind === 'sealed') {
        return {
          kind: 'complete' as const,
          id,
          manifest: opened.loaded.manifest,
          sha256: opened.loaded.sha256,
        };
      }
      if (opened.kind === 'tampered') {
        const bytes = await getBytes(s3, bucket, manifestKey(set, id));
        const parsed = bytes ? parseManifest(bytes) : undefined;
        const parent = parsed && typeof parsed !== 'string' ? (parsed.parent?.backupId ?? null) : undefined;
        return { kind: 'tampered' as const, id, finding: opened.finding, parent };
      }
    }
    if (folders.has('work'))
      return { kind: 'in-progress' as const, id, parent: await parentInProgress(location, id) };
    return { kind: 'remnant' as const, id };
  });
  const tampering = new TamperLog();
  const complete: Omit<CompleteBackup, 'verified'>[] = [];
  const inventory = {
    inProgress: [] as { id: string; parent: string | null }[],
    remnants: [] as string[],
    tampered: [] as string[],
    edited: [] as string[],
    tamperedLinks: [] as { id: string; parent: string | null }[],
  };
  for (const entry of entries) {
    if (entry.kind === 'complete') {
      complete.push({
        id: entry.id,
        createdAt: backupIdTime(entry.id)!,
        manifest: entry.manifest,
        sha256: entry.sha256,
        managed: true,
      });
    } else if (entry.kind === 'remnant') inventory.remnants.push(entry.id);
    else if (entry.kind === 'future') {
      inventory.tampered.push(entry.id);
      tampering.add({
        kind: 'future-dated-backup',
        key: `${backupSetPrefix(set)}${entry.id}/`,
        backupId: entry.id,
        detail: `dated ${backupIdTime(entry.id)!.toISOString()}`,
      });
    } else if (entry.kind === 'tampered') {
      inventory.tampered.push(entry.id);
      if (entry.finding.kind === 'edited-manifest') inventory.edited.push(entry.id);
      if (entry.parent !== undefined) inventory.tamperedLinks.push({ id: entry.id, parent: entry.parent });
      tampering.add(entry.finding);
    }
  }
  for (const entry of entries) {
    if (entry.kind !== 'in-progress') continue;
    // Unreadable state: assume the parent a backup picks, the newest complete one before it.
    const parent =
      entry.parent !== undefined
        ? entry.parent
        : (complete.filter((backup) => backup.id < entry.id).at(-1)?.id ?? null);
    inventory.inProgress.push({ id: entry.id, parent });
  }
  // Only the newest verified backup matters to the planner (its floor): look for it newest first.
  let verifiedId: string | undefined;
  for (const backup of [...complete].reverse()) {
    const check = await newestTrustedVerification(store, set, backup.id, backup.sha256, now);
    tampering.addAll(check.tampering);
    if (check.verifiedAt) {
      verifiedId = backup.id;
      break;
    }
  }
  const head = await readCatalogHead(store, set, { checkDeleted: true });
  return {
    ...inventory,
    complete: complete.map((backup) => ({ ...backup, verified: backup.id === verifiedId })),
    tampering,
    head,
  };
}
