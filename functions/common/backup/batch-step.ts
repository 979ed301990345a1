/**
 * The batch step: stores a batch's objects (several in flight, bounded by count and buffer
 * memory; small ones into packs, see pack.ts) and writes the batch's manifest part when all are
 * done. Resumable and idempotent: a batch whose part exists is done; finished entries of an
 * interrupted batch are saved in its progress file and not copied again (a pack's members count
 * as finished once the pack is written).
 */
import { PreconditionFailedError } from '../runtime/errors.ts';
import { logger } from '../runtime/observability.ts';
import { type Budget, expired, fitsInACall, fitsNow } from './budget.ts';
import { type BackupEngine, objectMemoryWeight, workStore } from './engine.ts';
import { packKey, partKey, progressKey, storedObjectKey } from './layout.ts';
import {
  type ManifestEntry,
  type ManifestPart,
  PART_FORMAT,
  PART_FORMAT_VERSION,
  PART_WRITER_METADATA,
  serializePart,
} from './manifest.ts';
import { Pack, type PackResult } from './pack.ts';
import { WorkPool } from './pool.ts';
import { deleteKeys, headMetadata, putBytes } from './s3-io.ts';
import { sealObject, storeObject } from './store-object.ts';
import {
  type BatchProgress,
  hasBatch,
  readBatch,
  readProgress,
  type WorkState,
  writeProgress,
} from './work-state.ts';

export interface BatchOutcome {
  readonly batch: number;
  readonly done: boolean;
  /** Objects stored by this call. */
  readonly copied: number;
  /** Whether this call did any work (stored objects or wrote the part), rather than find the batch done. */
  readonly worked: boolean;
}

/**
 * Packs filled or being written at once. Members finish out of order, so the next pack starts
 * while the last one waits for stragglers; more than this and the loop waits for the oldest.
 */
const MAX_OPEN_PACKS = 3;

/**
 * Processes batch `batch` until it is done or the budget is spent. With `mustProgress`, at least
 * one object is started even if the soft budget has passed (so a loop always moves forward).
 */
export async function batchStep(
  engine: BackupEngine,
  state: WorkState,
  batch: number,
  budget: Budget,
  mustProgress = true,
): Promise<BatchOutcome> {
  const store = workStore(engine, state);
  const partAt = partKey(state.set, state.backupId, batch);
  // A part means the batch is done, unless the plan wrote it for a batch of reused entries only and
  // a later plan of the same number (after an interruption) found copies to make: then the batch
  // file is there and the part is written over once the copies are made.
  const existing = await headMetadata(engine.s3, engine.bucket, partAt);
  if (
    existing !== undefined &&
    (existing[PART_WRITER_METADATA] !== 'plan' || !(await hasBatch(store, state.set, state.backupId, batch)))
  ) {
    return { batch, done: true, copied: 0, worked: false };
  }
  const file = await readBatch(store, state.set, state.backupId, batch);
  const saved = await readProgress(store, state.set, state.backupId, batch);
  const done = new Map<number, BatchProgress['done'][number]>(
    (saved?.done ?? []).map((item) => [item.index, item]),
  );
  const target = {
    s3: engine.s3,
    crypto: engine.crypto,
    bucket: engine.bucket,
    tags: store.write.tags,
    tuning: engine.upload,
  };
  const pool = new WorkPool(engine.concurrency, engine.memoryBytes);
  let started = 0;
  let stopped = false;
  const request = (index: number, key: string) => ({
    sourceBucket: state.source.bucket,
    key,
    set: state.set,
    backupId: state.backupId,
    storedKey: storedObjectKey(state.set, state.backupId, batch, index),
  });

  // Packs: the one taking members, and those not written yet (oldest first).
  const packing = engine.pack.maxObjectBytes > 0;
  let filling: Pack | undefined;
  const open: Array<Promise<unknown>> = [];
  const packFailures: unknown[] = [];
  const recordPack = (result: PackResult) => {
    for (const [index, outcome] of result) {
      const item = file.items[index]!;
      const key = item.action === 'copy' ? item.key : item.entry.key;
      done.set(index, 'vanished' in outcome ? { index, vanished: key } : { index, entry: outcome.entry });
    }
  };
  const closePack = () => {
    filling?.close();
    filling = undefined;
  };
  const newPack = async (index: number) => {
    closePack();
    while (open.length >= MAX_OPEN_PACKS) await open.shift();
    const pack = new Pack(packKey(state.set, state.backupId, batch, index), engine.pack, (body) =>
      putBytes(engine.s3, engine.bucket, pack.key, body, {
        ...store.write,
        contentType: 'application/octet-stream',
      }),
    );
    open.push(
      pack.written.then(recordPack, (error: unknown) => {
        packFailures.push(error);
      }),
    );
    return pack;
  };
  /** Waits for every started object and pack; throws the first failure. */
  const settleAll = async () => {
    closePack();
    const results = await Promise.allSettled([pool.settle(), ...open]);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    if (packFailures.length) throw packFailures[0];
  };

  for (const [index, item] of file.items.entries()) {
    if (done.has(index)) continue;
    if (item.action === 'reuse') {
      done.set(index, { index, entry: item.entry });
      continue;
    }
    if (!fitsInACall(budget, item.size)) {
      await settleAll().catch((error: unknown) => {
        logger.error('An object failed while stopping for an oversized one', { error });
      });
      await saveProgress();
      throw new PreconditionFailedError(
        `s3://${state.source.bucket}/${item.key} (${item.size} bytes) cannot be stored within one function call`,
        { key: item.key, size: item.size, budgetMs: budget.hardDeadline - budget.startedAt },
      );
    }
    const first = mustProgress && started === 0;
    if (!first && (expired(budget) || !fitsNow(budget, item.size) || pool.failed || packFailures.length)) {
      stopped = true;
      break;
    }
    started++;
    if (packing && item.size <= engine.pack.maxObjectBytes) {
      if (!filling?.fits(item.size)) filling = await newPack(index);
      const pack = filling;
      pack.add(index, item.size);
      await pool.start(objectMemoryWeight(engine, item.size), async () => {
        try {
          pack.settle(index, await sealObject(target, request(index, item.key)));
        } catch (error) {
          pack.fail(error);
          throw error;
        }
      });
    } else {
      await pool.start(objectMemoryWeight(engine, item.size), async () => {
        const result = await storeObject(target, request(index, item.key));
        done.set(index, result === 'vanished' ? { index, vanished: item.key } : { index, entry: result });
      });
    }
  }

  async function saveProgress(): Promise<void> {
    const progress: BatchProgress = {
      format: 'caretaker.backup.batch-progress',
      batch,
      done: [...done.values()].filter(
        (item) => 'vanished' in item || item.entry.storedBackupId === state.backupId,
      ),
    };
    if (progress.done.length) await writeProgress(store, state.set, state.backupId, progress);
  }

  try {
    await settleAll();
  } catch (error) {
    await saveProgress();
    throw error;
  }
  if (stopped || done.size < file.items.length) {
    await saveProgress();
    return { batch, done: false, copied: started, worked: started > 0 };
  }

  const entries: ManifestEntry[] = [];
  const vanished: string[] = [];
  for (let index = 0; index < file.items.length; index++) {
    const item = done.get(index)!;
    if ('vanished' in item) vanished.push(item.vanished);
    else entries.push(item.entry);
  }
  const part: ManifestPart = {
    format: PART_FORMAT,
    formatVersion: PART_FORMAT_VERSION,
    set: state.set,
    backupId: state.backupId,
    batch,
    objects: entries,
    vanished,
  };
  await putBytes(engine.s3, engine.bucket, partAt, serializePart(part), {
    ...store.write,
    contentType: 'application/json',
  });
  if (saved) await deleteKeys(engine.s3, engine.bucket, [progressKey(state.set, state.backupId, batch)]);
  if (vanished.length) logger.warn('Objects deleted at the source during the backup', { batch, vanished });
  return { batch, done: true, copied: started, worked: true };
}
