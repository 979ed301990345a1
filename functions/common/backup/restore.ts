/**
 * Restore of a backup (or the part of it under a key prefix) into a target bucket/prefix,
 * resumable across calls, in phases:
 * 1. verify: the manifest, its seal and chain, and — unless asked for `manifest` only — every
 *    object to be restored is read back first. A backup that fails is refused: nothing is written.
 * 2. rollback-point: a full Caretaker backup of the target prefix (kind `rollback-point`).
 * 3. restore: each object is decrypted, checked (SHA-256, size) and uploaded; an upload only
 *    completes when its object verified.
 * 4. rollback (only after a failure in 3): every target key the restore may have touched is put
 *    back from the rollback point, or deleted if it did not exist before — only while the object
 *    there is still the one this restore wrote (undo-write.ts: its restore tag, If-Match on its
 *    ETag); what someone else wrote or deleted during the restore is left alone and named. Then
 *    the failure is thrown, saying the target was rolled back and what was left alone.
 */
import * as z from 'zod';
import {
  CaretakerError,
  type CaretakerErrorName,
  ERROR_KINDS,
  PreconditionFailedError,
} from '../runtime/errors.ts';
import { logger, metrics } from '../runtime/observability.ts';
import { type Budget, expired, fitsNow } from './budget.ts';
import { type BackupEngine, objectMemoryWeight } from './engine.ts';
import { ROLLBACK_POINT_SET } from './layout.ts';
import { type BackupStore, checkChain, type LoadedManifest, loadManifest, loadPart } from './load.ts';
import type { Manifest, ManifestEntry } from './manifest.ts';
import { ParentIndex } from './parent-index.ts';
import { WorkPool } from './pool.ts';
import { integrityFailure } from './problems.ts';
import { assertRestorableInOneCall, restoreObject, targetKeyOf } from './restore-object.ts';
import { runBackup } from './run.ts';
import { MAX_LISTED_LEFT_ALONE, undoRestoredObject } from './undo-write.ts';
import { loadVerifiedManifest, verifyCursorSchema, verifyStep } from './verify.ts';

export interface RestoreRequest {
  readonly set: string;
  readonly backupId: string;
  /** Only entries whose source key starts with this. */
  readonly keyPrefix?: string;
  readonly targetBucket: string;
  readonly targetPrefix: string;
  /** `objects`: read back every object before writing any; `manifest`: check the manifest and chain only. */
  readonly verifyFirst: 'objects' | 'manifest';
  readonly executionId: string;
  readonly restoreId: string;
  /** The rollback point's backup id (derived from the restore id by the caller). */
  readonly rollbackPointId: string;
  /** Tags on every restored object (provenance: which restore wrote it), default none. */
  readonly objectTags?: Readonly<Record<string, string>>;
}

const position = z.object({ part: z.number().int().min(0), index: z.number().int().min(0) }).strict();
type Position = z.output<typeof position>;

/** Where a restore stands between calls (small: it travels in the Step Functions payload). */
export const restoreStateSchema = z
  .object({
    restoreId: z.string(),
    phase: z.enum(['verify', 'rollback-point', 'restore', 'rollback']),
    startedAt: z.string(),
    manifestSha256: z.string(),
    verifyCursor: verifyCursorSchema.optional(),
    cursor: position,
    objects: z.number().int().min(0),
    bytes: z.number().int().min(0),
    failure: z
      .object({ name: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) })
      .strict()
      .optional(),
    rollbackThrough: position.optional(),
    rollbackCursor: position.optional(),
    rolledBack: z.number().int().min(0).default(0),
    deleted: z.number().int().min(0).default(0),
    /** Keys someone else changed or deleted during the restore: not rolled back. */
    leftAlone: z.number().int().min(0).default(0),
    leftAloneKeys: z.array(z.string()).default([]),
  })
  .strict();

export type RestoreState = z.output<typeof restoreStateSchema>;

export interface RestoreResult {
  readonly restoreId: string;
  readonly set: string;
  readonly backupId: string;
  readonly keyPrefix?: string;
  readonly target: { readonly bucket: string; readonly prefix: string };
  readonly rollbackPointId: string;
  readonly verified: 'objects' | 'manifest';
  readonly objects: number;
  readonly bytes: number;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly durationMs: number;
}

export type RestoreOutcome =
  | { readonly done: true; readonly result: RestoreResult }
  | { readonly done: false; readonly state: RestoreState };

function before(a: Position, b: Position): boolean {
  return a.part < b.part || (a.part === b.part && a.index < b.index);
}

/** The manifest's entries from `from` on (under `keyPrefix`), with their positions, part by part. */
async function* entriesFrom(
  store: BackupStore,
  manifest: Manifest,
  from: Position,
  keyPrefix: string | undefined,
): AsyncGenerator<{ position: Position; entry: ManifestEntry }> {
  for (let part = from.part; part < manifest.parts.length; part++) {
    const loaded = await loadPart(store, manifest, manifest.parts[part]!);
    for (let index = part === from.part ? from.index : 0; index < loaded.objects.length; index++) {
      const entry = loaded.objects[index]!;
      if (keyPrefix === undefined || entry.key.startsWith(keyPrefix))
        yield { position: { part, index }, entry };
    }
  }
}

/** Rebuilds the original failure (it may have crossed a call boundary as plain data). */
function failureError(state: RestoreState, request: RestoreRequest): Error {
  const failure = state.failure!;
  const details = {
    ...failure.details,
    rolledBack: true,
    rollbackPointId: request.rollbackPointId,
    restoredBeforeFailure: state.objects,
    objectsPutBack: state.rolledBack,
    objectsDeleted: state.deleted,
    objectsLeftAlone: state.leftAlone,
    leftAloneKeys: state.leftAloneKeys,
  };
  const leftAlone = state.leftAlone
    ? `; ${state.leftAlone} object(s) changed by someone else during the restore were left as they are (${state.leftAloneKeys.join(', ')}${state.leftAlone > state.leftAloneKeys.length ? ', …' : ''})`
    : '';
  const message = `Restore of ${request.set}/${request.backupId} into s3://${request.targetBucket}/${request.targetPrefix} failed and was rolled back (rollback point ${request.rollbackPointId})${leftAlone}: ${failure.message}`;
  if (failure.name in ERROR_KINDS)
    return new CaretakerError(failure.name as CaretakerErrorName, message, details);
  const error = new Error(message);
  error.name = failure.name;
  return error;
}

function describeFailure(error: unknown): NonNullable<RestoreState['failure']> {
  if (error instanceof CaretakerError)
    return { name: error.name, message: error.message, details: error.details };
  if (error instanceof Error) return { name: error.name, message: error.message, details: {} };
  return { name: 'Error', message: String(error), details: {} };
}

/** Runs the restore until done, out of budget, or failed (after rolling back). */
export async function restoreStep(
  engine: BackupEngine,
  request: RestoreRequest,
  previous: RestoreState | undefined,
  budget: Budget,
  concurrency: number,
): Promise<RestoreOutcome> {
  if (request.targetBucket === engine.bucket) {
    throw new PreconditionFailedError('Restoring into the backup bucket is not allowed', {
      bucket: request.targetBucket,
    });
  }
  const store: BackupStore = engine;
  const loaded = await loadVerifiedManifest(store, request.set, request.backupId);
  let state: RestoreState = previous ?? {
    restoreId: request.restoreId,
    phase: 'verify',
    startedAt: new Date(budget.now()).toISOString(),
    manifestSha256: loaded.sha256,
    cursor: { part: 0, index: 0 },
    objects: 0,
    bytes: 0,
    rolledBack: 0,
    deleted: 0,
    leftAlone: 0,
    leftAloneKeys: [],
  };
  if (state.manifestSha256 !== loaded.sha256) {
    throw integrityFailure(request, [
      { problem: 'edited-manifest', backupId: request.backupId, detail: 'changed during the restore' },
    ]);
  }
  let first = true;
  const progressed = () => {
    const was = first;
    first = false;
    return !was;
  };

  if (state.phase === 'verify') {
    if (request.verifyFirst === 'objects') {
      const outcome = await verifyStep(
        store,
        {
          set: request.set,
          backupId: request.backupId,
          subset: { kind: 'all' },
          concurrency,
          ...(request.keyPrefix === undefined ? {} : { keyPrefix: request.keyPrefix }),
        },
        state.verifyCursor,
        budget,
      );
      if (!outcome.done) return { done: false, state: { ...state, verifyCursor: outcome.cursor } };
    } else {
      const chain = await checkChain(store, loaded.manifest);
      if (chain.problems.length) throw integrityFailure(request, chain.problems);
    }
    const { verifyCursor: _done, ...rest } = state;
    state = { ...rest, phase: 'rollback-point' };
    progressed();
  }

  if (state.phase === 'rollback-point') {
    if (progressed() && expired(budget)) return { done: false, state };
    const point = await runBackup(
      engine,
      {
        set: ROLLBACK_POINT_SET,
        kind: 'rollback-point',
        sourceBucket: request.targetBucket,
        prefix: request.targetPrefix,
        mode: 'full',
        fullEvery: 1,
        backupId: request.rollbackPointId,
        executionId: request.executionId,
      },
      budget,
    );
    if (!point.done) return { done: false, state };
    logger.info('Rollback point taken', {
      rollbackPointId: request.rollbackPointId,
      objects: point.result.totals.objects,
    });
    state = { ...state, phase: 'restore' };
  }

  if (state.phase === 'restore') {
    const outcome = await restorePhase(engine, request, loaded, state, budget, concurrency, first);
    if (outcome.done || outcome.state.phase === 'restore') return outcome;
    state = outcome.state;
    first = false;
  }
  return rollbackPhase(engine, request, loaded, state, budget, concurrency, first);
}

async function restorePhase(
  engine: BackupEngine,
  request: RestoreRequest,
  loaded: LoadedManifest,
  start: RestoreState,
  budget: Budget,
  concurrency: number,
  mustProgress: boolean,
): Promise<RestoreOutcome> {
  const { manifest } = loaded;
  const state = { ...start };
  const target = { s3: engine.s3, bucket: request.targetBucket, tuning: engine.upload };
  const backup = {
    set: request.set,
    backupId: request.backupId,
    frameLength: manifest.encryption.frameLength,
  };
  const pool = new WorkPool(concurrency, engine.memoryBytes);
  let lastDispatched: Position | undefined;
  let stopAt: Position | undefined;
  let dispatched = 0;
  try {
    for await (const { position, entry } of entriesFrom(engine, manifest, state.cursor, request.keyPrefix)) {
      const may = mustProgress && dispatched === 0;
      if (!may && (expired(budget) || pool.failed || !fitsNow(budget, entry.size))) {
        stopAt = position;
        break;
      }
      assertRestorableInOneCall(budget, entry);
      const targetKey = targetKeyOf(entry, manifest.source.prefix, request.targetPrefix);
      lastDispatched = position;
      dispatched++;
      await pool.start(objectMemoryWeight(engine, entry.size), async () => {
        await restoreObject(engine, target, backup, entry, targetKey, request.objectTags);
        state.objects++;
        state.bytes += entry.size;
      });
    }
    await pool.settle();
  } catch (error) {
    await pool.settle().catch((other: unknown) => logger.warn('Another object failed too', { error: other }));
    logger.error('Restore failed; rolling back the target', { error });
    return {
      done: false,
      state: {
        ...state,
        phase: 'rollback',
        failure: describeFailure(error),
        ...(lastDispatched ? { rollbackThrough: lastDispatched } : {}),
        rollbackCursor: { part: 0, index: 0 },
      },
    };
  }
  if (stopAt) return { done: false, state: { ...state, cursor: stopAt } };

  const completedAt = new Date(budget.now());
  const result: RestoreResult = {
    restoreId: request.restoreId,
    set: request.set,
    backupId: request.backupId,
    ...(request.keyPrefix === undefined ? {} : { keyPrefix: request.keyPrefix }),
    target: { bucket: request.targetBucket, prefix: request.targetPrefix },
    rollbackPointId: request.rollbackPointId,
    verified: request.verifyFirst,
    objects: state.objects,
    bytes: state.bytes,
    startedAt: state.startedAt,
    completedAt: completedAt.toISOString(),
    durationMs: Math.max(0, completedAt.getTime() - Date.parse(state.startedAt)),
  };
  metrics.addMetric('RestoreObjects', 'Count', result.objects);
  metrics.addMetric('RestoreBytes', 'Bytes', result.bytes);
  logger.info('Restore complete', { ...result });
  return { done: true, result };
}

async function rollbackPhase(
  engine: BackupEngine,
  request: RestoreRequest,
  loaded: LoadedManifest,
  start: RestoreState,
  budget: Budget,
  concurrency: number,
  mustProgress: boolean,
): Promise<RestoreOutcome> {
  const state = { ...start };
  const through = state.rollbackThrough;
  if (through) {
    const point = await loadManifest(engine, ROLLBACK_POINT_SET, request.rollbackPointId);
    const index = new ParentIndex(engine, point.manifest);
    const target = { s3: engine.s3, bucket: request.targetBucket, tuning: engine.upload };
    const backup = {
      set: ROLLBACK_POINT_SET,
      backupId: request.rollbackPointId,
      frameLength: point.manifest.encryption.frameLength,
    };
    const pool = new WorkPool(concurrency, engine.memoryBytes);
    let handled = 0;
    let stopAt: Position | undefined;
    const from = state.rollbackCursor ?? { part: 0, index: 0 };
    for await (const { position, entry } of entriesFrom(engine, loaded.manifest, from, request.keyPrefix)) {
      if (before(through, position)) break;
      if (!(mustProgress && handled === 0) && expired(budget)) {
        stopAt = position;
        break;
      }
      handled++;
      const targetKey = targetKeyOf(entry, loaded.manifest.source.prefix, request.targetPrefix);
      const previous = await index.lookup(targetKey);
      await pool.start(objectMemoryWeight(engine, previous?.size ?? 0), async () => {
        const outcome = await undoRestoredObject(
          engine,
          target,
          backup,
          targetKey,
          previous,
          request.restoreId,
        );
        if (outcome === 'put-back') state.rolledBack++;
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
    try {
      await pool.settle();
    } catch (error) {
      const failure = describeFailure(error);
      throw new CaretakerError(
        'PreconditionFailedError',
        `Restore of ${request.set}/${request.backupId} failed (${state.failure?.message}) and rolling back s3://${request.targetBucket}/${request.targetPrefix} failed too (${failure.message}); rollback point ${request.rollbackPointId} holds the target's previous state`,
        { restoreFailure: state.failure, rollbackFailure: failure, rollbackPointId: request.rollbackPointId },
        { cause: error },
      );
    }
    if (stopAt) return { done: false, state: { ...state, rollbackCursor: stopAt } };
  }
  logger.warn('Target rolled back after a failed restore', {
    rollbackPointId: request.rollbackPointId,
    objectsPutBack: state.rolledBack,
    objectsDeleted: state.deleted,
    objectsLeftAlone: state.leftAlone,
  });
  metrics.addMetric('RestoreRolledBack', 'Count', 1);
  throw failureError(state, request);
}
