/**
 * Restore fanned out over a backup's manifest parts (docs/backup-scaling.md#verify-and-restore),
 * the ranges being the same ones verification fans out over (verify-range.ts, `partRanges`):
 *
 * 1. `restoreRange`, one Distributed Map child per range, call after call: every entry of the
 *    range (under the key prefix) decrypted, checked and uploaded to its target key, tagged with
 *    the restore's id. A failure fails the child, and the Map with it.
 * 2. `combineRestoreRanges`: the children's counts added up, every part covered exactly once.
 * 3. After a failure, `rollbackRange` over EVERY range (a child that never started, or stopped
 *    half way, is undone the same way): each target key the range may have written is put back
 *    from the rollback point, or deleted when it did not exist before — only while the object
 *    there is still this restore's (undo-write.ts); anything else is left alone and counted.
 *    `combineRollbackRanges` adds those up.
 */
import * as z from 'zod';
import { PreconditionFailedError } from '../runtime/errors.ts';
import { logger } from '../runtime/observability.ts';
import { type Budget, expired, fitsNow } from './budget.ts';
import { type BackupEngine, objectMemoryWeight } from './engine.ts';
import { manifestKey, ROLLBACK_POINT_SET } from './layout.ts';
import { type LoadedManifest, loadManifest, loadPart } from './load.ts';
import type { ManifestEntry } from './manifest.ts';
import { ParentIndex } from './parent-index.ts';
import { WorkPool } from './pool.ts';
import { integrityFailure } from './problems.ts';
import { assertRestorableInOneCall, restoreObject, targetKeyOf } from './restore-object.ts';
import { exists } from './s3-io.ts';
import { MAX_LISTED_LEFT_ALONE, undoRestoredObject } from './undo-write.ts';
import { loadVerifiedManifest } from './verify.ts';
import type { PartRange } from './verify-range.ts';

/** Keys left alone one range names in its summary (the count goes on; the log names them all). */
export const RANGE_KEPT_LEFT_ALONE = 1;
/** Characters kept of a key named in a range's summary (200 summaries share one payload). */
const TRIMMED = 200;

const count = z.number().int().min(0);

/** Where one range's restore stands between calls. */
export const restoreRangeCursorSchema = z
  .object({ part: count, index: count, objects: count, bytes: count })
  .strict();
export type RestoreRangeCursor = z.output<typeof restoreRangeCursorSchema>;

/** What one range restored. */
export const restoreRangeSummarySchema = z
  .object({ from: count, to: count, objects: count, bytes: count })
  .strict();
export type RestoreRangeSummary = z.output<typeof restoreRangeSummarySchema>;

/** Where one range's rollback stands between calls. */
export const rollbackRangeCursorSchema = z
  .object({
    part: count,
    index: count,
    putBack: count,
    deleted: count,
    leftAlone: count,
    leftAloneKeys: z.array(z.string()),
  })
  .strict();
export type RollbackRangeCursor = z.output<typeof rollbackRangeCursorSchema>;

/** What one range's rollback did. */
export const rollbackRangeSummarySchema = z
  .object({
    from: count,
    to: count,
    putBack: count,
    deleted: count,
    leftAlone: count,
    leftAloneKeys: z.array(z.string()),
  })
  .strict();
export type RollbackRangeSummary = z.output<typeof rollbackRangeSummarySchema>;

/** One range of one execution's restore of a backup into a target. */
export interface RangeRestoreRequest {
  readonly set: string;
  readonly backupId: string;
  /** The manifest the plan authenticated: a different one now is an edited manifest. */
  readonly manifestSha256: string;
  readonly range: PartRange;
  /** Only entries whose source key starts with this. */
  readonly keyPrefix?: string;
  readonly targetBucket: string;
  readonly targetPrefix: string;
  readonly restoreId: string;
  readonly rollbackPointId: string;
  /** Tags on every restored object (its provenance). */
  readonly objectTags: Readonly<Record<string, string>>;
  readonly concurrency: number;
}

type Outcome<Cursor, Summary> =
  | { readonly done: true; readonly summary: Summary }
  | { readonly done: false; readonly cursor: Cursor };

/** The manifest the plan authenticated, and the range inside it; anything else is an edited manifest. */
async function authenticated(engine: BackupEngine, request: RangeRestoreRequest): Promise<LoadedManifest> {
  const { set, backupId, range } = request;
  if (request.targetBucket === engine.bucket) {
    throw new PreconditionFailedError('Restoring into the backup bucket is not allowed', {
      bucket: request.targetBucket,
    });
  }
  const loaded = await loadVerifiedManifest(engine, set, backupId);
  if (loaded.sha256 !== request.manifestSha256) {
    throw integrityFailure({ set, backupId }, [
      { problem: 'edited-manifest', backupId, detail: 'the manifest changed during the restore' },
    ]);
  }
  if (range.to > loaded.manifest.parts.length || range.from >= range.to) {
    throw integrityFailure({ set, backupId }, [
      {
        problem: 'edited-manifest',
        backupId,
        detail: `parts ${range.from}-${range.to} are not in the manifest`,
      },
    ]);
  }
  return loaded;
}

/** The range's entries from `part`/`index` on (under the key prefix), part by part. */
async function* rangeEntries(
  engine: BackupEngine,
  loaded: LoadedManifest,
  request: RangeRestoreRequest,
  from: { part: number; index: number },
): AsyncGenerator<{ part: number; index: number; entry: ManifestEntry }> {
  const { manifest } = loaded;
  for (let part = from.part; part < request.range.to; part++) {
    const loadedPart = await loadPart(engine, manifest, manifest.parts[part]!);
    for (let index = part === from.part ? from.index : 0; index < loadedPart.objects.length; index++) {
      const entry = loadedPart.objects[index]!;
      if (request.keyPrefix === undefined || entry.key.startsWith(request.keyPrefix))
        yield { part, index, entry };
    }
  }
}

/** Restores the entries of one range until done or out of budget (always making progress); throws a failure. */
export async function restoreRange(
  engine: BackupEngine,
  request: RangeRestoreRequest,
  previous: RestoreRangeCursor | undefined,
  budget: Budget,
): Promise<Outcome<RestoreRangeCursor, RestoreRangeSummary>> {
  const loaded = await authenticated(engine, request);
  const { manifest } = loaded;
  const state = previous ? { ...previous } : { part: request.range.from, index: 0, objects: 0, bytes: 0 };
  const target = { s3: engine.s3, bucket: request.targetBucket, tuning: engine.upload };
  const backup = {
    set: request.set,
    backupId: request.backupId,
    frameLength: manifest.encryption.frameLength,
  };
  const pool = new WorkPool(request.concurrency, engine.memoryBytes);
  let stopAt: { part: number; index: number } | undefined;
  let dispatched = 0;
  let failure: unknown;
  try {
    for await (const { part, index, entry } of rangeEntries(engine, loaded, request, state)) {
      if (dispatched > 0 && (expired(budget) || pool.failed || !fitsNow(budget, entry.size))) {
        stopAt = { part, index };
        break;
      }
      assertRestorableInOneCall(budget, entry);
      const targetKey = targetKeyOf(entry, manifest.source.prefix, request.targetPrefix);
      dispatched++;
      await pool.start(objectMemoryWeight(engine, entry.size), async () => {
        await restoreObject(engine, target, backup, entry, targetKey, request.objectTags);
        state.objects++;
        state.bytes += entry.size;
      });
    }
  } catch (error) {
    failure = error;
  }
  // Nothing this call started may still be writing when it fails: the rollback follows a failure.
  await pool.settle().catch((error: unknown) => {
    failure ??= error;
  });
  if (failure !== undefined) {
    logger.error('Restore of a range failed', { range: request.range, error: failure });
    throw failure;
  }
  if (stopAt) return { done: false, cursor: { ...state, ...stopAt } };
  return {
    done: true,
    summary: { from: request.range.from, to: request.range.to, objects: state.objects, bytes: state.bytes },
  };
}

/** The rollback point's index, or a PreconditionFailedError when it is missing. */
async function rollbackIndex(engine: BackupEngine, request: RangeRestoreRequest) {
  const id = request.rollbackPointId;
  if (!(await exists(engine.s3, engine.bucket, manifestKey(ROLLBACK_POINT_SET, id)))) {
    throw new PreconditionFailedError(
      `Restore ${request.restoreId} into s3://${request.targetBucket}/${request.targetPrefix} cannot be rolled back: its rollback point ${id} is missing, so what was there before is unknown; nothing was changed`,
      { rollbackPointId: id, restoreId: request.restoreId },
    );
  }
  const point = await loadManifest(engine, ROLLBACK_POINT_SET, id);
  return {
    index: new ParentIndex(engine, point.manifest),
    source: { set: ROLLBACK_POINT_SET, backupId: id, frameLength: point.manifest.encryption.frameLength },
  };
}

/** Undoes what the restore may have written for one range, until done or out of budget. */
export async function rollbackRange(
  engine: BackupEngine,
  request: RangeRestoreRequest,
  previous: RollbackRangeCursor | undefined,
  budget: Budget,
): Promise<Outcome<RollbackRangeCursor, RollbackRangeSummary>> {
  const loaded = await authenticated(engine, request);
  const { index, source } = await rollbackIndex(engine, request);
  const state: RollbackRangeCursor = previous
    ? { ...previous, leftAloneKeys: [...previous.leftAloneKeys] }
    : { part: request.range.from, index: 0, putBack: 0, deleted: 0, leftAlone: 0, leftAloneKeys: [] };
  const target = { s3: engine.s3, bucket: request.targetBucket, tuning: engine.upload };
  const pool = new WorkPool(request.concurrency, engine.memoryBytes);
  let stopAt: { part: number; index: number } | undefined;
  let handled = 0;
  for await (const { part, index: at, entry } of rangeEntries(engine, loaded, request, state)) {
    if (handled > 0 && (expired(budget) || pool.failed)) {
      stopAt = { part, index: at };
      break;
    }
    handled++;
    const targetKey = targetKeyOf(entry, loaded.manifest.source.prefix, request.targetPrefix);
    const before = await index.lookup(targetKey);
    await pool.start(objectMemoryWeight(engine, before?.size ?? 0), async () => {
      const outcome = await undoRestoredObject(engine, target, source, targetKey, before, request.restoreId);
      if (outcome === 'put-back') state.putBack++;
      else if (outcome === 'deleted') state.deleted++;
      else if (outcome === 'left-alone') {
        state.leftAlone++;
        if (state.leftAloneKeys.length < MAX_LISTED_LEFT_ALONE) state.leftAloneKeys.push(targetKey);
        logger.warn('Left alone by the rollback: changed by someone else during the restore', {
          key: targetKey,
        });
      }
    });
  }
  await pool.settle();
  if (stopAt) return { done: false, cursor: { ...state, ...stopAt } };
  const trim = (key: string) => (key.length > TRIMMED ? `${key.slice(0, TRIMMED)}…` : key);
  return {
    done: true,
    summary: {
      from: request.range.from,
      to: request.range.to,
      putBack: state.putBack,
      deleted: state.deleted,
      leftAlone: state.leftAlone,
      leftAloneKeys: state.leftAloneKeys.slice(0, RANGE_KEPT_LEFT_ALONE).map(trim),
    },
  };
}

/** The parts of `parts` not covered exactly once by `ranges` (none: every part once). */
export function partsNotCoveredOnce(parts: number, ranges: readonly PartRange[]): number[] {
  const covered = new Array<number>(parts).fill(0);
  let outside = false;
  for (const range of ranges) {
    for (let part = range.from; part < range.to; part++) {
      if (part < parts) covered[part]!++;
      else outside = true;
    }
  }
  const gaps = covered.flatMap((times, part) => (times === 1 ? [] : [part]));
  return outside ? [...gaps, parts] : gaps;
}

function listed(parts: readonly number[]): string {
  return `${parts.slice(0, 10).join(', ')}${parts.length > 10 ? ', …' : ''}`;
}

/** The children's counts added up; a part not restored exactly once is an IntegrityError. */
export function combineRestoreRanges(
  subject: { readonly set: string; readonly backupId: string },
  parts: number,
  summaries: readonly RestoreRangeSummary[],
): { objects: number; bytes: number } {
  const gaps = partsNotCoveredOnce(parts, summaries);
  if (gaps.length) {
    throw integrityFailure(subject, [
      {
        problem: 'edited-manifest',
        backupId: subject.backupId,
        detail: `parts not restored exactly once: ${listed(gaps)}`,
      },
    ]);
  }
  return {
    objects: summaries.reduce((total, summary) => total + summary.objects, 0),
    bytes: summaries.reduce((total, summary) => total + summary.bytes, 0),
  };
}

/** What the rollback did, added up; `uncovered` names the parts not rolled back exactly once. */
export function combineRollbackRanges(parts: number, summaries: readonly RollbackRangeSummary[]) {
  const sum = (field: 'putBack' | 'deleted' | 'leftAlone') =>
    summaries.reduce((total, summary) => total + summary[field], 0);
  return {
    putBack: sum('putBack'),
    deleted: sum('deleted'),
    leftAlone: sum('leftAlone'),
    leftAloneKeys: [...summaries]
      .sort((a, b) => a.from - b.from)
      .flatMap((summary) => summary.leftAloneKeys)
      .slice(0, MAX_LISTED_LEFT_ALONE),
    uncovered: partsNotCoveredOnce(parts, summaries),
  };
}
