/**
 * Deleting backups without ever breaking one that is kept.
 *
 * - **References**: incremental backups store only what changed and point at objects stored by
 *   earlier backups (a manifest entry's `storedKey` may lie under another backup's prefix). Before
 *   anything is deleted, every part of every kept manifest is read (each checked against the
 *   SHA-256 its manifest records) and each stored key under a backup about to go is collected:
 *   those objects stay. A part that cannot be read stops the set's cleanup.
 * - **Order, for crash safety**: a backup's verification records and `manifest.json` go first,
 *   so from that moment it is no longer a (verified) recovery point anyone would restore; then its
 *   other objects (seal, parts, its unreferenced data, leftover work). A crash in between leaves a
 *   folder without manifest, a *remnant*, which the next run finishes. Backups go newest first,
 *   so every remaining manifest's chain stays whole at every step.
 * - **Caretaker's only**: a backup goes only while its manifest is the one whose KMS seal
 *   verified (its SHA-256 checked right before); a remnant's objects are each checked for the tag, a page of up to
 *   1,000 keys at a time with {@link TAG_CHECK_CONCURRENCY} tag reads in flight.
 */
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { backupPrefix, manifestKey } from '#common/backup/layout';
import { type Manifest, partSchema, sha256Hex } from '#common/backup/manifest';
import { getBytes, listAll, listPage } from '#common/backup/s3-io';
import { IntegrityError } from '#common/runtime/errors';
import { mapLimited } from '#common/runtime/map-limited';
import { objectManaged } from './backup-inventory.ts';

/** The backupId a stored key lives under (`backups/<set>/<id>/…`), or undefined for another layout. */
function storedUnder(key: string, set: string): string | undefined {
  const prefix = `backups/${set}/`;
  if (!key.startsWith(prefix)) return undefined;
  const end = key.indexOf('/', prefix.length);
  return end === -1 ? undefined : key.slice(prefix.length, end);
}

function parsePart(bytes: Buffer) {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  return partSchema.safeParse(json);
}

/**
 * Keys that kept manifests reference under the folders of `going` (backups or remnants about to
 * be deleted). Keys in an unexpected layout count as referenced wherever they are.
 */
export async function referencedKeys(
  s3: S3Client,
  bucket: string,
  set: string,
  kept: readonly { readonly id: string; readonly manifest: Manifest }[],
  going: ReadonlySet<string>,
): Promise<Set<string>> {
  const referenced = new Set<string>();
  if (going.size === 0) return referenced;
  const parts = kept.flatMap((backup) => backup.manifest.parts.map((part) => ({ backup, part })));
  await mapLimited(parts, 8, async ({ backup, part }) => {
    const bytes = await getBytes(s3, bucket, part.key);
    const problem = !bytes
      ? 'missing'
      : sha256Hex(bytes) !== part.sha256
        ? 'does not match its SHA-256 in the manifest'
        : undefined;
    const parsed = bytes && !problem ? parsePart(bytes) : undefined;
    if (problem || !parsed?.success) {
      throw new IntegrityError(
        `Part ${part.key} of kept backup ${set}/${backup.id} is ${problem ?? 'not a manifest part'}: cannot tell which objects it references, so nothing of the set is deleted`,
        { set, backupId: backup.id, key: part.key },
      );
    }
    for (const entry of parsed.data.objects) {
      const owner = storedUnder(entry.storedKey, set);
      if (owner === undefined || going.has(owner)) referenced.add(entry.storedKey);
    }
  });
  return referenced;
}

/** What deleting one folder did (or, in a dry run, would do). */
export interface FolderDeletion {
  readonly objectsDeleted: number;
  /** Left because a kept manifest references them. */
  readonly objectsReferenced: number;
  /** Left because they do not carry the managed tag (`TAG.managed`) (remnants only). */
  readonly objectsUnmanaged: number;
  /** Stopped by the time budget before the folder was empty. */
  readonly partial: boolean;
}

export interface DeleteOptions {
  readonly dryRun: boolean;
  /** Stop starting new batches after this time (epoch ms). */
  readonly deadline: number;
}

async function deleteBatch(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const result = await s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
    }),
  );
  const errors = (result.Errors ?? []).filter((error) => error.Code !== 'NoSuchKey');
  if (errors.length) {
    throw new Error(
      `S3 refused to delete ${errors.length} object(s): ${errors
        .slice(0, 5)
        .map((error) => `${error.Key} (${error.Code})`)
        .join(', ')}`,
    );
  }
}

/** Tag checks of a remnant's objects in flight at once (GetObjectTagging is one request per object). */
export const TAG_CHECK_CONCURRENCY = 16;

/**
 * The crash-safe first step of deleting a complete backup: its verification records, then its
 * `manifest.json`. From here on it is no longer a (verified) recovery point, and its folder may be
 * emptied in any order. Returns the number of objects deleted.
 */
export async function deleteRecordsAndManifest(
  s3: S3Client,
  bucket: string,
  set: string,
  id: string,
): Promise<number> {
  const verifications: string[] = [];
  for await (const object of listAll(s3, bucket, `${backupPrefix(set, id)}verifications/`))
    verifications.push(object.key);
  await deleteBatch(s3, bucket, verifications);
  await deleteBatch(s3, bucket, [manifestKey(set, id)]);
  return verifications.length + 1;
}

/** What emptying one page of a folder did, and where the next page starts. */
export interface PageDeletion {
  readonly objectsDeleted: number;
  readonly objectsReferenced: number;
  readonly objectsUnmanaged: number;
  /** The last key of this page: the next page starts after it; undefined when the folder is done. */
  readonly next: string | undefined;
}

/**
 * Empties one listing page (up to 1,000 keys) of a backup folder, after `startAfter`: every key
 * not `referenced` goes in one DeleteObjects. With `checkTags` (a remnant) only keys that carry
 * the managed tag (`TAG.managed`) go; their tags are read {@link TAG_CHECK_CONCURRENCY} at a time. A dry
 * run counts instead of deleting. `counted` is counted as deleted without being deleted (the
 * manifest of a complete backup in a dry run, which a real run deletes first).
 */
export async function emptyFolderPage(
  s3: S3Client,
  bucket: string,
  prefix: string,
  startAfter: string | undefined,
  referenced: ReadonlySet<string>,
  options: { readonly checkTags: boolean; readonly dryRun: boolean; readonly counted?: string },
): Promise<PageDeletion> {
  const page = await listPage(s3, bucket, prefix, startAfter);
  let kept = 0;
  let counted = 0;
  const candidates: string[] = [];
  for (const { key } of page.objects) {
    if (key === options.counted) counted++;
    else if (referenced.has(key)) kept++;
    else candidates.push(key);
  }
  const managed = options.checkTags
    ? await mapLimited(candidates, TAG_CHECK_CONCURRENCY, (key) => objectManaged(s3, bucket, key))
    : candidates.map(() => true);
  // Listing order kept: only the keys whose check said managed go (a key gone meanwhile is neither).
  const going = candidates.filter((_key, index) => managed[index] === true);
  if (!options.dryRun) await deleteBatch(s3, bucket, going);
  return {
    objectsDeleted: going.length + counted,
    objectsReferenced: kept,
    objectsUnmanaged: managed.filter((value) => value === false).length,
    next: page.next,
  };
}

/**
 * Empties a backup folder of everything not referenced: verification records and manifest
 * first (when `complete`), then the rest, page by page. A remnant's objects are each checked for
 * the managed tag (`TAG.managed`). Idempotent: what is gone already is not an error.
 */
export async function deleteFolder(
  s3: S3Client,
  bucket: string,
  set: string,
  id: string,
  referenced: ReadonlySet<string>,
  complete: boolean,
  options: DeleteOptions,
): Promise<FolderDeletion> {
  const prefix = backupPrefix(set, id);
  let deleted = 0;
  let kept = 0;
  let unmanaged = 0;
  if (complete && !options.dryRun) deleted += await deleteRecordsAndManifest(s3, bucket, set, id);
  const pageOptions = {
    checkTags: !complete,
    dryRun: options.dryRun,
    ...(complete && options.dryRun ? { counted: manifestKey(set, id) } : {}),
  };
  let startAfter: string | undefined;
  do {
    if (Date.now() > options.deadline)
      return { objectsDeleted: deleted, objectsReferenced: kept, objectsUnmanaged: unmanaged, partial: true };
    const page = await emptyFolderPage(s3, bucket, prefix, startAfter, referenced, pageOptions);
    deleted += page.objectsDeleted;
    kept += page.objectsReferenced;
    unmanaged += page.objectsUnmanaged;
    startAfter = page.next;
  } while (startAfter !== undefined);
  return { objectsDeleted: deleted, objectsReferenced: kept, objectsUnmanaged: unmanaged, partial: false };
}
