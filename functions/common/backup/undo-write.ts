/**
 * Undoing what a restore wrote at one target key — a failed restore's rollback, or a disaster-
 * recovery teardown — without ever undoing someone else's write (docs/security.md): the object
 * there is put back from the rollback point, or deleted when there was none before, only while it
 * is still the one this restore wrote. That is decided by
 *
 * 1. its ETag, read first (a HEAD, or the listing it came from), and its version when the bucket
 *    is versioned;
 * 2. its `caretaker:restore` tag, read second (of that version): every object a restore writes
 *    carries its restore id, and a write by anyone else replaces the tags;
 * 3. the write itself, conditional on that ETag (PutObject/CompleteMultipartUpload or DeleteObject
 *    with If-Match): a write that lands after step 1 makes it fail, and the object stays.
 *
 * An object that is not ours any more, or that someone deleted meanwhile, is left alone and
 * counted; the caller reports those keys.
 */
import { DeleteObjectCommand, GetObjectTaggingCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { TAG } from '../contract.ts';
import { isErrorNamed } from '../runtime/errors.ts';
import { bareEtag, type ManifestEntry } from './manifest.ts';
import type { ReadSource } from './read-object.ts';
import { type RestoreTarget, restoreObject } from './restore-object.ts';

/** Tag on every object a restore wrote: its restore id (`restore-<rollback point id>`). */
export const RESTORE_TAG = TAG.restore;

/** What undoing one key did. */
export type UndoOutcome =
  /** Put back as it was before the restore. */
  | 'put-back'
  /** Deleted: the restore had created it. */
  | 'deleted'
  /** Nothing to do: it is as it was before the restore (or the restore never got to it). */
  | 'unchanged'
  /** Someone else changed or deleted it during (or since) the restore: not touched. */
  | 'left-alone';

/** The rollback point a key is put back from. */
export interface RollbackSource {
  readonly set: string;
  readonly backupId: string;
  readonly frameLength: number;
}

/** The precondition failures a conditional write can answer when the object moved on. */
const MOVED_ON = ['PreconditionFailed', 'ConditionalRequestConflict', 'NoSuchKey', 'NotFound'];

async function head(
  target: RestoreTarget,
  key: string,
): Promise<{ etag: string; versionId?: string } | undefined> {
  try {
    const out = await target.s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }));
    return { etag: bareEtag(out.ETag), ...(out.VersionId ? { versionId: out.VersionId } : {}) };
  } catch (error) {
    if (isErrorNamed(error, 'NotFound', 'NoSuchKey')) return undefined;
    throw error;
  }
}

async function restoreTagOf(
  target: RestoreTarget,
  key: string,
  versionId?: string,
): Promise<string | undefined> {
  try {
    const out = await target.s3.send(
      new GetObjectTaggingCommand({
        Bucket: target.bucket,
        Key: key,
        ...(versionId && versionId !== 'null' ? { VersionId: versionId } : {}),
      }),
    );
    return (out.TagSet ?? []).find((tag) => tag.Key === RESTORE_TAG)?.Value;
  } catch (error) {
    if (isErrorNamed(error, 'NoSuchKey', 'NotFound', 'NoSuchVersion')) return undefined;
    throw error;
  }
}

/**
 * Undoes restore `restoreId` at `key`: `previous` is the rollback point's entry for it (undefined
 * when the key did not exist before). `seen` is the object as a listing just showed it, when the
 * caller has that (it stands for the HEAD).
 */
export async function undoRestoredObject(
  source: ReadSource,
  target: RestoreTarget,
  rollback: RollbackSource,
  key: string,
  previous: ManifestEntry | undefined,
  restoreId: string,
  seen?: { readonly etag: string },
): Promise<UndoOutcome> {
  const current = seen ? { etag: seen.etag } : await head(target, key);
  if (!current) return previous ? 'left-alone' : 'unchanged';
  if (previous && current.etag === previous.etag) return 'unchanged';
  const versionId = 'versionId' in current ? current.versionId : undefined;
  if ((await restoreTagOf(target, key, versionId)) !== restoreId) return 'left-alone';
  const ifMatch = `"${current.etag}"`;
  try {
    if (previous) {
      await restoreObject(source, target, rollback, previous, key, {}, { IfMatch: ifMatch });
      return 'put-back';
    }
    await target.s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key, IfMatch: ifMatch }));
    return 'deleted';
  } catch (error) {
    if (isErrorNamed(error, ...MOVED_ON)) return 'left-alone';
    throw error;
  }
}

/** Keys left alone listed in a result (the count goes on). */
export const MAX_LISTED_LEFT_ALONE = 20;
