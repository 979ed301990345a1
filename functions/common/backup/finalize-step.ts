/**
 * The finalize step: describes every part (SHA-256, counts, key range), builds the manifest,
 * seals it with KMS, writes it once (If-None-Match: *) and last, then removes the work area.
 * Deterministic: the completion time is fixed on the first attempt, so a retried finalize writes
 * byte-identical manifest bytes and any seal made for them stays valid.
 */
import { PreconditionFailedError } from '../runtime/errors.ts';
import { logger, metrics } from '../runtime/observability.ts';
import { type Budget, expired } from './budget.ts';
import { ENCRYPTION_LIBRARY } from './crypto.ts';
import { type BackupEngine, type BackupResult, resultOf, workStore } from './engine.ts';
import { manifestKey, partKey, sealKey, workPrefix } from './layout.ts';
import {
  ALGORITHM_SUITE,
  buildManifest,
  describePart,
  OBJECT_CONTEXT_KEYS,
  type PartDescriptor,
  parseManifest,
  partSchema,
  serializeManifest,
  sha256Hex,
} from './manifest.ts';
import { mapLimited } from './pool.ts';
import { AlreadyExistsError, deleteKeys, getBytes, listAll, putBytes } from './s3-io.ts';
import { parseSealPlaintext, sealContext, sealPlaintext } from './seal.ts';
import { TOOL_VERSION } from './version.ts';
import { type WorkState, writeState } from './work-state.ts';

/** Parts described per round between budget checks. */
const PARTS_PER_ROUND = 32;

export type FinalizeOutcome =
  | { readonly done: true; readonly result: BackupResult }
  | { readonly done: false; readonly state: WorkState };

async function describe(engine: BackupEngine, state: WorkState, batch: number): Promise<PartDescriptor> {
  const key = partKey(state.set, state.backupId, batch);
  const bytes = await getBytes(engine.s3, engine.bucket, key);
  if (!bytes) {
    throw new PreconditionFailedError(
      `Batch ${batch} of backup ${state.set}/${state.backupId} has not been processed`,
      {
        set: state.set,
        backupId: state.backupId,
        batch,
      },
    );
  }
  const part = partSchema.parse(JSON.parse(bytes.toString('utf8')));
  return describePart(part, key, bytes);
}

/** Writes the seal for `sha256` unless a valid one is there already. */
async function writeSeal(engine: BackupEngine, state: WorkState, sha256: string): Promise<void> {
  const key = sealKey(state.set, state.backupId);
  const context = sealContext(state.set, state.backupId);
  const write = { ...workStore(engine, state).write, contentType: 'application/octet-stream' };
  const seal = await engine.crypto.encrypt(sealPlaintext(sha256), context);
  try {
    await putBytes(engine.s3, engine.bucket, key, seal, { ...write, createOnly: true });
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    const existing = await getBytes(engine.s3, engine.bucket, key);
    const sealed = existing ? parseSealPlaintext(await engine.crypto.decrypt(existing, context)) : undefined;
    if (sealed !== sha256) await putBytes(engine.s3, engine.bucket, key, seal, write);
  }
}

/** Describes parts within the budget; when all are described, writes seal and manifest. */
export async function finalizeStep(
  engine: BackupEngine,
  state: WorkState,
  budget: Budget,
): Promise<FinalizeOutcome> {
  const store = workStore(engine, state);
  let current = state;
  if (!current.completedAt) {
    current = { ...current, completedAt: engine.now().toISOString() };
    await writeState(store, current);
  }
  const described = new Map(current.finalizedParts.map((part) => [part.batch, part]));
  const pending = Array.from({ length: current.plan.batches }, (_, i) => i + 1).filter(
    (batch) => !described.has(batch),
  );
  let first = true;
  while (pending.length && (first || !expired(budget))) {
    first = false;
    const round = pending.splice(0, PARTS_PER_ROUND);
    for (const part of await mapLimited(round, 8, (batch) => describe(engine, current, batch))) {
      described.set(part.batch, part);
    }
  }
  if (pending.length) {
    current = { ...current, finalizedParts: [...described.values()] };
    await writeState(store, current);
    return { done: false, state: current };
  }

  const manifest = buildManifest(
    {
      backupId: current.backupId,
      set: current.set,
      kind: current.kind,
      mode: current.mode,
      createdAt: current.createdAt,
      completedAt: current.completedAt!,
      parent: current.parent,
      chain: current.chain,
      source: current.source,
      encryption: {
        library: ENCRYPTION_LIBRARY,
        keyArn: current.keyArn,
        algorithmSuite: ALGORITHM_SUITE.name,
        algorithmSuiteId: ALGORITHM_SUITE.id,
        commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT',
        frameLength: current.frameLength,
        encryptionContext: [...OBJECT_CONTEXT_KEYS],
        serverSideEncryption: 'aws:kms',
      },
      tool: { name: 'caretaker', version: TOOL_VERSION },
      executionId: current.executionId,
    },
    [...described.values()],
  );
  const bytes = serializeManifest(manifest);
  const sha256 = sha256Hex(bytes);
  await writeSeal(engine, current, sha256);
  const key = manifestKey(current.set, current.backupId);
  try {
    await putBytes(engine.s3, engine.bucket, key, bytes, {
      ...store.write,
      contentType: 'application/json',
      createOnly: true,
    });
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    const existing = await getBytes(engine.s3, engine.bucket, key);
    if (!existing || sha256Hex(existing) !== sha256) {
      throw new PreconditionFailedError(
        `A different manifest already exists for ${current.set}/${current.backupId}`,
        {
          set: current.set,
          backupId: current.backupId,
        },
      );
    }
  }
  const work: string[] = [];
  for await (const object of listAll(engine.s3, engine.bucket, workPrefix(current.set, current.backupId))) {
    work.push(object.key);
  }
  await deleteKeys(engine.s3, engine.bucket, work);

  const parsed = parseManifest(bytes);
  if (typeof parsed === 'string') throw new Error(`Caretaker wrote an unreadable manifest: ${parsed}`);
  const result = resultOf({ manifest: parsed, bytes, sha256 });
  metrics.addMetric('BackupObjects', 'Count', result.totals.objects);
  metrics.addMetric('BackupBytesCopied', 'Bytes', result.totals.copiedBytes);
  metrics.addMetric('BackupDuration', 'Milliseconds', result.durationMs);
  logger.info('Backup complete', { ...result });
  return { done: true, result };
}
