/**
 * `teardown`: removes what one execution's restore wrote into its target, and nothing else — a
 * drill's restored data once measured, or a disaster-recovery rollback. Resumable.
 *
 * The target prefix is listed page by page; an object counts as this restore's only while it
 * carries the restore's `caretaker:restore` tag (every object a restore writes gets it, and
 * anyone who overwrites the object afterwards replaces it). Such an object is put back from the
 * restore's rollback point when the target held that key before the restore, and deleted
 * otherwise — each write conditional on the ETag the listing showed (undo-write.ts), so an object
 * someone rewrites while the teardown runs is not touched. Anything else under the prefix — other
 * restores' objects, objects changed since — is left alone and counted as `kept`; those that were
 * this restore's until a write raced the teardown, as `leftAlone` (named in `leftAloneKeys`).
 */
import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { type Budget, expired } from '#common/backup/budget';
import type { BackupEngine } from '#common/backup/engine';
import { manifestKey, ROLLBACK_POINT_SET } from '#common/backup/layout';
import { loadManifest } from '#common/backup/load';
import { ParentIndex } from '#common/backup/parent-index';
import { exists, listPage } from '#common/backup/s3-io';
import { MAX_LISTED_LEFT_ALONE, undoRestoredObject } from '#common/backup/undo-write';
import { isErrorNamed, PreconditionFailedError } from '#common/runtime/errors';
import { mapLimited } from '#common/runtime/map-limited';
import { logger, metrics } from '#common/runtime/observability';
import { RESTORE_TAG, type RestoreIdentity } from './identity.ts';

/** Where a teardown stands between calls. */
export const teardownCursorSchema = z
  .object({
    /** The last key handled. */
    startAfter: z.string().optional(),
    deleted: z.number().int().min(0),
    putBack: z.number().int().min(0),
    kept: z.number().int().min(0),
    leftAlone: z.number().int().min(0).default(0),
    leftAloneKeys: z.array(z.string()).default([]),
  })
  .strict();

export type TeardownCursor = z.output<typeof teardownCursorSchema>;

export interface TeardownRequest {
  readonly set: string;
  readonly targetBucket: string;
  readonly targetPrefix: string;
  readonly identity: RestoreIdentity;
}

export interface TeardownResult {
  readonly set: string;
  readonly restoreId: string;
  readonly target: { readonly bucket: string; readonly prefix: string };
  /** Objects this restore wrote where nothing was before: deleted. */
  readonly deleted: number;
  /** Objects this restore overwrote: put back as they were before it. */
  readonly putBack: number;
  /** Objects under the prefix this restore did not write (or that changed since): left alone. */
  readonly kept: number;
  /** Objects this restore wrote that someone changed while the teardown ran: not touched. */
  readonly leftAlone: number;
  readonly leftAloneKeys: readonly string[];
}

export type TeardownOutcome =
  | { readonly done: true; readonly result: TeardownResult }
  | { readonly done: false; readonly cursor: TeardownCursor };

const PAGE = 200;

async function restoreTagOf(engine: BackupEngine, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    return (out.TagSet ?? []).find((tag) => tag.Key === RESTORE_TAG)?.Value;
  } catch (error) {
    if (isErrorNamed(error, 'NoSuchKey', 'NotFound')) return undefined;
    throw error;
  }
}

interface RollbackPoint {
  readonly index: ParentIndex;
  readonly frameLength: number;
}

/** The rollback point's index, loaded once it is needed (a prefix without our objects never needs it). */
function rollbackPoint(engine: BackupEngine, request: TeardownRequest): () => Promise<RollbackPoint> {
  let index: Promise<RollbackPoint> | undefined;
  return () => {
    index ??= (async () => {
      const id = request.identity.rollbackPointId;
      if (!(await exists(engine.s3, engine.bucket, manifestKey(ROLLBACK_POINT_SET, id)))) {
        throw new PreconditionFailedError(
          `Objects under s3://${request.targetBucket}/${request.targetPrefix} carry restore ${request.identity.restoreId}, but its rollback point ${id} is missing: cannot tell what was there before; nothing was changed`,
          { rollbackPointId: id, restoreId: request.identity.restoreId },
        );
      }
      const point = await loadManifest(engine, ROLLBACK_POINT_SET, id);
      return {
        index: new ParentIndex(engine, point.manifest),
        frameLength: point.manifest.encryption.frameLength,
      };
    })();
    return index;
  };
}

/** Tears down until done or out of budget. */
export async function teardownStep(
  engine: BackupEngine,
  request: TeardownRequest,
  previous: TeardownCursor | undefined,
  budget: Budget,
  concurrency: number,
): Promise<TeardownOutcome> {
  const cursor: TeardownCursor = previous ?? {
    deleted: 0,
    putBack: 0,
    kept: 0,
    leftAlone: 0,
    leftAloneKeys: [],
  };
  const rollback = rollbackPoint(engine, request);
  const target = { s3: engine.s3, bucket: request.targetBucket, tuning: engine.upload };
  let startAfter = cursor.startAfter;
  let first = true;
  for (;;) {
    if (!first && expired(budget)) return { done: false, cursor: { ...cursor, startAfter } };
    first = false;
    const page = await listPage(engine.s3, request.targetBucket, request.targetPrefix, startAfter, PAGE);
    const ours = (
      await mapLimited(page.objects, concurrency, async (object) =>
        (await restoreTagOf(engine, request.targetBucket, object.key)) === request.identity.restoreId
          ? object
          : undefined,
      )
    ).filter((object): object is (typeof page.objects)[number] => object !== undefined);
    cursor.kept += page.objects.length - ours.length;
    for (const object of ours) {
      const { index, frameLength } = await rollback();
      const before = await index.lookup(object.key);
      const outcome = await undoRestoredObject(
        engine,
        target,
        { set: ROLLBACK_POINT_SET, backupId: request.identity.rollbackPointId, frameLength },
        object.key,
        before,
        request.identity.restoreId,
        { etag: object.etag },
      );
      if (outcome === 'put-back') cursor.putBack++;
      else if (outcome === 'deleted') cursor.deleted++;
      else if (outcome === 'left-alone') {
        cursor.leftAlone++;
        if (cursor.leftAloneKeys.length < MAX_LISTED_LEFT_ALONE) cursor.leftAloneKeys.push(object.key);
        logger.warn('Left alone by the teardown: changed by someone else meanwhile', { key: object.key });
      }
    }
    startAfter = page.objects.at(-1)?.key ?? startAfter;
    if (page.next === undefined) break;
  }
  const result: TeardownResult = {
    set: request.set,
    restoreId: request.identity.restoreId,
    target: { bucket: request.targetBucket, prefix: request.targetPrefix },
    deleted: cursor.deleted,
    putBack: cursor.putBack,
    kept: cursor.kept,
    leftAlone: cursor.leftAlone,
    leftAloneKeys: cursor.leftAloneKeys,
  };
  metrics.addMetric('RestoreTornDown', 'Count', result.deleted + result.putBack);
  logger.info('Restored objects torn down', { ...result });
  return { done: true, result };
}
