/**
 * The backup engine's shared pieces: what it needs (S3, crypto, tuning), what it is asked
 * (a set's source and mode under a backup id), how a backup starts (parent choice, mode, state),
 * and what a finished backup reports.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { MANAGED_VALUE, TAG } from '../contract.ts';
import { IntegrityError, PreconditionFailedError } from '../runtime/errors.ts';
import { logger } from '../runtime/observability.ts';
import { latestCompleteBackup } from './catalog.ts';
import type { BackupCrypto } from './crypto.ts';
import { manifestKey } from './layout.ts';
import { type LoadedManifest, loadManifest } from './load.ts';
import type { Manifest, ManifestTotals } from './manifest.ts';
import type { PackSettings } from './pack.ts';
import { type BatchLimits, chooseMode } from './plan.ts';
import { IntegrityProblem } from './problems.ts';
import { exists, type UploadTuning, type WriteOptions } from './s3-io.ts';
import { readState, type WorkState, type WorkStore, writeState } from './work-state.ts';

/** What the engine works with. */
export interface BackupEngine {
  readonly s3: S3Client;
  /** The backup bucket. */
  readonly bucket: string;
  readonly crypto: BackupCrypto;
  /** Stack name for the `caretaker:stack` tag. */
  readonly stack: string;
  /** Objects in flight at once. */
  readonly concurrency: number;
  /** Buffer memory the objects in flight may hold together, bytes. */
  readonly memoryBytes: number;
  readonly upload: UploadTuning;
  /** Which objects are stored together in packs. */
  readonly pack: PackSettings;
  readonly batchLimits: BatchLimits;
  readonly now: () => Date;
}

/**
 * Buffer memory one object in flight may hold, for the engine's memory budget: its upload parts
 * (the whole object when it fits in one part) plus two encryption frames. Backup and restore alike.
 */
export function objectMemoryWeight(engine: BackupEngine, size: number): number {
  const { partSize, queueSize } = engine.upload;
  const upload = size <= partSize ? size : (queueSize + 1) * partSize;
  return upload + 2 * engine.crypto.frameLength;
}

/** One backup to take (or continue). */
export interface BackupRequest {
  readonly set: string;
  readonly kind: 'backup' | 'rollback-point';
  readonly sourceBucket: string;
  readonly prefix: string;
  readonly mode: 'full' | 'incremental';
  readonly fullEvery: number;
  readonly backupId: string;
  readonly executionId: string;
}

/** What a finished backup reports (small: it goes into Step Functions payloads). */
export interface BackupResult {
  readonly backupId: string;
  readonly set: string;
  readonly kind: 'backup' | 'rollback-point';
  readonly mode: 'full' | 'incremental';
  readonly parentBackupId: string | null;
  readonly manifestKey: string;
  readonly manifestSha256: string;
  readonly createdAt: string;
  readonly completedAt: string;
  readonly durationMs: number;
  readonly keyArn: string;
  readonly totals: ManifestTotals;
}

/** The `caretaker:*` tags of everything a backup writes. */
export function backupTags(engine: BackupEngine, state: Pick<WorkState, 'kind' | 'set' | 'executionId'>) {
  return {
    [TAG.managed]: MANAGED_VALUE,
    [TAG.kind]: state.kind,
    [TAG.stack]: engine.stack,
    [TAG.execution]: state.executionId,
    [TAG.target]: state.set,
  };
}

/** How the engine writes into the backup bucket for a backup. */
export function writeOptions(
  engine: BackupEngine,
  state: Pick<WorkState, 'kind' | 'set' | 'executionId'>,
): WriteOptions {
  return { tags: backupTags(engine, state), sseKeyArn: engine.crypto.keyArn };
}

export function workStore(
  engine: BackupEngine,
  state: Pick<WorkState, 'kind' | 'set' | 'executionId'>,
): WorkStore {
  return { s3: engine.s3, bucket: engine.bucket, write: writeOptions(engine, state) };
}

/** The result of a finished backup, from its manifest. */
export function resultOf(loaded: LoadedManifest): BackupResult {
  const { manifest } = loaded;
  return {
    backupId: manifest.backupId,
    set: manifest.set,
    kind: manifest.kind,
    mode: manifest.mode,
    parentBackupId: manifest.parent?.backupId ?? null,
    manifestKey: manifestKey(manifest.set, manifest.backupId),
    manifestSha256: loaded.sha256,
    createdAt: manifest.createdAt,
    completedAt: manifest.completedAt,
    durationMs: manifest.durationMs,
    keyArn: manifest.encryption.keyArn,
    totals: manifest.totals,
  };
}

/** The finished backup's result if its manifest exists (and checks out), else undefined. */
export async function finishedResult(
  engine: BackupEngine,
  set: string,
  backupId: string,
): Promise<BackupResult | undefined> {
  if (!(await exists(engine.s3, engine.bucket, manifestKey(set, backupId)))) return undefined;
  return resultOf(await loadManifest(engine, set, backupId));
}

/** The newest complete backup of the set older than `backupId`, authenticated by its seal. */
async function latestComplete(
  engine: BackupEngine,
  set: string,
  backupId: string,
): Promise<LoadedManifest | undefined> {
  const id = await latestCompleteBackup(engine, set, backupId);
  if (!id) return undefined;
  try {
    return await loadManifest(engine, set, id);
  } catch (error) {
    if (error instanceof IntegrityProblem) {
      // Chaining onto a manifest that fails its seal would launder the tampering into the chain.
      throw new IntegrityError(
        `Refusing to take an incremental backup of ${set} onto ${id}: ${error.message}. ` +
          'Verify that backup and investigate; run with forceFull to start a new chain.',
        { ...error.details, set, parentBackupId: id },
        { cause: error },
      );
    }
    throw error;
  }
}

/** Loads the backup's work state, or decides mode and parent and creates it. */
export async function ensureState(engine: BackupEngine, request: BackupRequest): Promise<WorkState> {
  const store = workStore(engine, request);
  const existing = await readState(store, request.set, request.backupId);
  if (existing) {
    if (existing.source.bucket !== request.sourceBucket || existing.source.prefix !== request.prefix) {
      throw new PreconditionFailedError(
        `Backup ${request.set}/${request.backupId} is already in progress for s3://${existing.source.bucket}/${existing.source.prefix}`,
        { set: request.set, backupId: request.backupId },
      );
    }
    return existing;
  }
  const parent =
    request.mode === 'incremental' ? await latestComplete(engine, request.set, request.backupId) : undefined;
  const decision = chooseMode({ ...request, keyArn: engine.crypto.keyArn }, parent?.manifest);
  const linked: Manifest | undefined = decision.mode === 'incremental' ? parent?.manifest : undefined;
  const state: WorkState = {
    format: 'caretaker.backup.state',
    backupId: request.backupId,
    set: request.set,
    kind: request.kind,
    mode: decision.mode,
    modeReason: decision.reason,
    createdAt: engine.now().toISOString(),
    executionId: request.executionId,
    source: { bucket: request.sourceBucket, prefix: request.prefix },
    parent: linked && parent ? { backupId: linked.backupId, manifestSha256: parent.sha256 } : null,
    chain: linked
      ? { fullBackupId: linked.chain.fullBackupId, depth: linked.chain.depth + 1 }
      : { fullBackupId: request.backupId, depth: 0 },
    keyArn: engine.crypto.keyArn,
    frameLength: engine.crypto.frameLength,
    plan: { done: false, batches: 0, listedObjects: 0, listedBytes: 0, copyObjects: 0, copyBytes: 0 },
    processedBatches: 0,
    finalizedParts: [],
  };
  await writeState(store, state);
  logger.info('Backup started', {
    set: state.set,
    backupId: state.backupId,
    mode: state.mode,
    reason: state.modeReason,
  });
  return state;
}
