/**
 * The inventory of a backup set for retention: every folder under `backups/<set>/`, classified
 * by what it holds (docs/backup-format.md layout):
 *
 * - **complete**: `manifest.json` exists (it is written last). Its manifest is read (for the
 *   chain), its tags (`caretaker:managed`), its verification records (verified or not);
 * - **in progress**: no manifest but `work/` (a backup writes its work state before anything
 *   else, and deletes it only after its manifest): never touched, and its parent is held;
 * - **remnant**: neither: what is left of a deleted backup whose objects a crash interrupted,
 *   or objects still referenced when it was deleted.
 *
 * A manifest that cannot be read makes the whole inventory fail: without every manifest, nothing
 * can be said about what is still referenced.
 */
import { GetObjectTaggingCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { manifestKey, stateKey } from '#common/backup/layout';
import type { Manifest } from '#common/backup/manifest';
import { parseManifest } from '#common/backup/manifest';
import { getBytes } from '#common/backup/s3-io';
import { workStateSchema } from '#common/backup/work-state';
import { TAG } from '#common/caretaker-tags';
import { IntegrityError, isErrorNamed } from '#common/errors';
import { mapLimited } from '#common/map-limited';
import { backupIdTime, backupSetPrefix, listBackupIds, listVerifications } from '#common/recovery-points';

export interface CompleteBackup {
  readonly id: string;
  readonly createdAt: Date;
  readonly manifest: Manifest;
  readonly managed: boolean;
  readonly verified: boolean;
}

export interface BackupInventory {
  readonly complete: CompleteBackup[];
  /** Backups in progress and the parent each builds on (null: full, or state unreadable). */
  readonly inProgress: { readonly id: string; readonly parent: string | null }[];
  readonly remnants: string[];
}

interface Location {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly set: string;
}

/** Whether an object carries `caretaker:managed=true`; undefined when it does not exist. */
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

async function readComplete(location: Location, id: string): Promise<CompleteBackup> {
  const { s3, bucket, set } = location;
  const key = manifestKey(set, id);
  const bytes = await getBytes(s3, bucket, key);
  const parsed = bytes ? parseManifest(bytes) : 'vanished while listing';
  if (typeof parsed === 'string' || parsed.backupId !== id || parsed.set !== set) {
    throw new IntegrityError(
      `Cannot read the manifest of ${set}/${id} (${typeof parsed === 'string' ? parsed : 'not this backup'}): refusing to clean up the set`,
      { set, backupId: id, key },
    );
  }
  const [managed, verifications] = await Promise.all([
    objectManaged(s3, bucket, key),
    listVerifications(s3, { bucket, set }, id),
  ]);
  return {
    id,
    createdAt: backupIdTime(id)!,
    manifest: parsed,
    managed: managed === true,
    verified: verifications.length > 0,
  };
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

/** Lists and classifies every backup of a set. */
export async function backupInventory(s3: S3Client, bucket: string, set: string): Promise<BackupInventory> {
  const location = { s3, bucket, set };
  const ids = await listBackupIds(s3, { bucket, set });
  const entries = await mapLimited(ids, 8, async (id) => {
    const { files, folders } = await folderOf(location, id);
    if (files.has('manifest.json'))
      return { kind: 'complete' as const, backup: await readComplete(location, id) };
    if (folders.has('work'))
      return { kind: 'in-progress' as const, id, parent: await parentInProgress(location, id) };
    return { kind: 'remnant' as const, id };
  });
  const inventory: BackupInventory = { complete: [], inProgress: [], remnants: [] };
  for (const entry of entries) {
    if (entry.kind === 'complete') inventory.complete.push(entry.backup);
    else if (entry.kind === 'remnant') inventory.remnants.push(entry.id);
  }
  for (const entry of entries) {
    if (entry.kind !== 'in-progress') continue;
    // Unreadable state: assume the parent a backup picks, the newest complete one before it.
    const parent =
      entry.parent !== undefined
        ? entry.parent
        : (inventory.complete.filter((backup) => backup.id < entry.id).at(-1)?.id ?? null);
    inventory.inProgress.push({ id: entry.id, parent });
  }
  return inventory;
}
