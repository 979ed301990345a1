/**
 * The plan step: lists the source prefix page by page, decides copy or reuse for each object
 * against the parent's manifest, and writes the items as batch files — or, for a batch with
 * nothing to copy (most batches of an incremental), its manifest part at once, which leaves its
 * batch step nothing to do. Resumable: the listing cursor is the last key of the last written
 * batch, saved in the state when the step ends; a step cut short re-plans from the saved cursor
 * and rewrites the same batches.
 */
import { logger } from '../runtime/observability.ts';
import { type Budget, expired } from './budget.ts';
import { type BackupEngine, workStore } from './engine.ts';
import { compareKeys } from './keys.ts';
import { batchIndexKey, batchKey, partKey } from './layout.ts';
import { loadManifest } from './load.ts';
import {
  type ManifestPart,
  PART_FORMAT,
  PART_FORMAT_VERSION,
  PART_WRITER_METADATA,
  serializePart,
} from './manifest.ts';
import { ParentIndex } from './parent-index.ts';
import { BatchBuilder, decideItem, type PlanItem } from './plan.ts';
import { integrityFailure } from './problems.ts';
import { deleteKeys, listPage, putBytes } from './s3-io.ts';
import { type WorkState, writeBatch, writeState } from './work-state.ts';

/** A batch as the Distributed Map's ItemReader sees it (one item of `work/batches.json`). */
export interface BatchDescriptor {
  readonly batch: number;
}

/** Keys under the backup bucket's own `backups/` never belong in a backup of that bucket. */
function ownBackups(engine: BackupEngine, state: WorkState, key: string): boolean {
  return state.source.bucket === engine.bucket && key.startsWith('backups/');
}

/** The manifest part of a batch whose objects all reuse a parent's copies: what its batch step would write. */
async function writeReusePart(
  engine: BackupEngine,
  state: WorkState,
  batch: number,
  items: readonly PlanItem[],
  write: ReturnType<typeof workStore>['write'],
): Promise<void> {
  const part: ManifestPart = {
    format: PART_FORMAT,
    formatVersion: PART_FORMAT_VERSION,
    set: state.set,
    backupId: state.backupId,
    batch,
    objects: items.map((item) => {
      if (item.action !== 'reuse') throw new Error('a reuse part holds reused entries only');
      return item.entry;
    }),
    vanished: [],
  };
  // A batch file an earlier, interrupted plan wrote for this number (when it had copies) must not
  // make the batch step copy by it: the work area is this backup's own, so it can be deleted.
  await deleteKeys(engine.s3, engine.bucket, [batchKey(state.set, state.backupId, batch)]);
  await putBytes(engine.s3, engine.bucket, partKey(state.set, state.backupId, batch), serializePart(part), {
    ...write,
    contentType: 'application/json',
    metadata: { [PART_WRITER_METADATA]: 'plan' },
  });
}

/** Lists and batches until the listing is done or the budget is spent (at least one page). */
export async function planStep(engine: BackupEngine, state: WorkState, budget: Budget): Promise<WorkState> {
  if (state.plan.done) return state;
  const store = workStore(engine, state);
  const parent = state.parent ? await loadManifest(engine, state.set, state.parent.backupId) : undefined;
  if (parent && parent.sha256 !== state.parent?.manifestSha256) {
    throw integrityFailure(state, [
      {
        problem: 'edited-parent',
        backupId: state.backupId,
        expected: state.parent?.manifestSha256,
        actual: parent.sha256,
        detail: 'the parent manifest changed while this backup was planned',
      },
    ]);
  }
  const index = parent ? new ParentIndex(engine, parent.manifest) : undefined;
  const builder = new BatchBuilder(engine.batchLimits);
  let current = state;

  const flush = async () => {
    const lastKey = builder.lastKey;
    if (lastKey === undefined) return;
    const items = builder.take();
    const batch = current.plan.batches + 1;
    const copies = items.filter((item) => item.action === 'copy');
    if (copies.length) {
      // A part an earlier, interrupted plan wrote for this batch number (when its objects had
      // nothing to copy) may still be there: the batch step knows it by its writer and the batch
      // file, and writes over it. (Not deleted: the backup role may delete only in work areas.)
      await writeBatch(store, current.set, current.backupId, batch, items);
    } else {
      await writeReusePart(engine, current, batch, items, store.write);
    }
    current = {
      ...current,
      plan: {
        ...current.plan,
        batches: batch,
        startAfter: lastKey,
        listedObjects: current.plan.listedObjects + items.length,
        listedBytes:
          current.plan.listedBytes +
          items.reduce((total, item) => total + (item.action === 'copy' ? item.size : item.entry.size), 0),
        copyObjects: current.plan.copyObjects + copies.length,
        copyBytes: current.plan.copyBytes + copies.reduce((total, item) => total + item.size, 0),
      },
    };
  };

  let cursor = current.plan.startAfter;
  let more = true;
  do {
    const page = await listPage(engine.s3, current.source.bucket, current.source.prefix, cursor);
    for (const listed of page.objects) {
      if (ownBackups(engine, current, listed.key)) continue;
      if (cursor !== undefined && compareKeys(listed.key, cursor) <= 0) {
        throw new Error(`The listing of s3://${current.source.bucket} went backwards at "${listed.key}"`);
      }
      const item = decideItem(listed, index ? await index.lookup(listed.key) : undefined);
      if (builder.wouldOverflow(item)) await flush();
      builder.add(item);
    }
    cursor = page.next;
    more = page.next !== undefined;
  } while (more && !expired(budget));
  await flush();
  if (more) await writeState(store, current);

  if (!more) {
    current = { ...current, plan: { ...current.plan, done: true } };
    const descriptors: BatchDescriptor[] = Array.from({ length: current.plan.batches }, (_, i) => ({
      batch: i + 1,
    }));
    await putBytes(
      engine.s3,
      engine.bucket,
      batchIndexKey(current.set, current.backupId),
      Buffer.from(JSON.stringify(descriptors)),
      {
        ...store.write,
        contentType: 'application/json',
      },
    );
    await writeState(store, current);
    logger.info('Backup planned', {
      set: current.set,
      backupId: current.backupId,
      batches: current.plan.batches,
      objects: current.plan.listedObjects,
      toCopy: current.plan.copyObjects,
      bytesToCopy: current.plan.copyBytes,
    });
  }
  return current;
}
