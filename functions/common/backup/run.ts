/**
 * Backup entry points over the steps. Each is resumable: called again with the same request it
 * continues from the state in S3, and once the manifest exists it returns the finished result.
 *
 * - {@link runBackup}: the whole backup in one function, looping call by call (small and medium sets).
 * - {@link planBackup} → {@link processBatches} (one Distributed Map child per group of batches)
 *   → {@link finalizeBackup}: the same work fanned out for prefixes with millions of objects.
 */
import { batchStep } from './batch-step.ts';
import { type Budget, expired } from './budget.ts';
import {
  type BackupEngine,
  type BackupRequest,
  type BackupResult,
  ensureState,
  finishedResult,
  workStore,
} from './engine.ts';
import { finalizeStep } from './finalize-step.ts';
import { batchIndexKey, mapResultsPrefix } from './layout.ts';
import { planStep } from './plan-step.ts';
import { readState, type WorkState, writeState } from './work-state.ts';

/** Where an unfinished backup stands (small: it goes into Step Functions payloads). */
export interface BackupProgress {
  readonly backupId: string;
  readonly set: string;
  readonly mode: 'full' | 'incremental';
  readonly phase: 'planning' | 'copying' | 'finalizing';
  readonly plannedBatches: number;
  readonly processedBatches: number;
  readonly listedObjects: number;
  readonly objectsToCopy: number;
  readonly bytesToCopy: number;
}

export type BackupOutcome =
  | { readonly done: true; readonly backupId: string; readonly result: BackupResult }
  | { readonly done: false; readonly backupId: string; readonly progress: BackupProgress };

function progressOf(state: WorkState): BackupProgress {
  return {
    backupId: state.backupId,
    set: state.set,
    mode: state.mode,
    phase: !state.plan.done
      ? 'planning'
      : state.processedBatches < state.plan.batches
        ? 'copying'
        : 'finalizing',
    plannedBatches: state.plan.batches,
    processedBatches: state.processedBatches,
    listedObjects: state.plan.listedObjects,
    objectsToCopy: state.plan.copyObjects,
    bytesToCopy: state.plan.copyBytes,
  };
}

function finished(result: BackupResult): BackupOutcome {
  return { done: true, backupId: result.backupId, result };
}

/** Plans, copies and finalizes in this call until done or out of budget (always making progress). */
export async function runBackup(
  engine: BackupEngine,
  request: BackupRequest,
  budget: Budget,
): Promise<BackupOutcome> {
  const existing = await finishedResult(engine, request.set, request.backupId);
  if (existing) return finished(existing);
  let state = await ensureState(engine, request);
  let first = true;
  while (first || !expired(budget)) {
    const mustProgress = first;
    first = false;
    if (!state.plan.done) {
      state = await planStep(engine, state, budget);
    } else if (state.processedBatches < state.plan.batches) {
      const outcome = await batchStep(engine, state, state.processedBatches + 1, budget, mustProgress);
      if (!outcome.done) break;
      state = { ...state, processedBatches: state.processedBatches + 1 };
      // A batch found done (its part written by the plan) changed nothing worth saving: a later
      // call finds it done again with one HEAD. Saved at the latest when finalize starts.
      if (outcome.worked) await writeState(workStore(engine, state), state);
    } else {
      const outcome = await finalizeStep(engine, state, budget);
      if (outcome.done) return finished(outcome.result);
      state = outcome.state;
    }
  }
  return { done: false, backupId: state.backupId, progress: progressOf(state) };
}

/** What the Distributed Map needs once planning is done. */
export interface PlanOutcome {
  readonly done: boolean;
  readonly backupId: string;
  readonly set: string;
  /** Batches written so far (all of them once done). */
  readonly batches: number;
  /** The backup bucket and the JSON array of `{ batch }` items for the ItemReader. */
  readonly bucket: string;
  readonly batchIndexKey: string;
  /** Prefix for the Distributed Map's ResultWriter. */
  readonly mapResultsPrefix: string;
  /** Set when the backup had already finished (a re-run): skip straight to its result. */
  readonly result?: BackupResult;
}

/** Plans the backup (listing and batches) until done or out of budget. */
export async function planBackup(
  engine: BackupEngine,
  request: BackupRequest,
  budget: Budget,
): Promise<PlanOutcome> {
  const base = {
    backupId: request.backupId,
    set: request.set,
    bucket: engine.bucket,
    batchIndexKey: batchIndexKey(request.set, request.backupId),
    mapResultsPrefix: mapResultsPrefix(request.set, request.backupId),
  };
  const existing = await finishedResult(engine, request.set, request.backupId);
  if (existing) return { ...base, done: true, batches: existing.totals.parts, result: existing };
  let state = await ensureState(engine, request);
  let first = true;
  while (!state.plan.done && (first || !expired(budget))) {
    first = false;
    state = await planStep(engine, state, budget);
  }
  return { ...base, done: state.plan.done, batches: state.plan.batches };
}

async function plannedState(engine: BackupEngine, set: string, backupId: string): Promise<WorkState> {
  const state = await readState({ s3: engine.s3, bucket: engine.bucket, write: { tags: {} } }, set, backupId);
  if (!state?.plan.done) throw new Error(`Backup ${set}/${backupId} has not been planned`);
  return state;
}

/** Processes the given batches (a Distributed Map child's share) until done or out of budget. */
export async function processBatches(
  engine: BackupEngine,
  set: string,
  backupId: string,
  batches: readonly number[],
  budget: Budget,
): Promise<{ readonly done: boolean; readonly remaining: number[] }> {
  if (await finishedResult(engine, set, backupId)) return { done: true, remaining: [] };
  const state = await plannedState(engine, set, backupId);
  const remaining = [...batches].sort((a, b) => a - b);
  // Batches found already done are not progress: keep going until one call's worth of work is done.
  let worked = false;
  while (remaining.length && (!worked || !expired(budget))) {
    const outcome = await batchStep(engine, state, remaining[0]!, budget, !worked);
    worked ||= outcome.worked;
    if (!outcome.done) break;
    remaining.shift();
  }
  return { done: remaining.length === 0, remaining };
}

/** Assembles, seals and writes the manifest once every batch is processed. */
export async function finalizeBackup(
  engine: BackupEngine,
  set: string,
  backupId: string,
  budget: Budget,
): Promise<BackupOutcome> {
  const existing = await finishedResult(engine, set, backupId);
  if (existing) return finished(existing);
  let state = await plannedState(engine, set, backupId);
  let first = true;
  while (first || !expired(budget)) {
    first = false;
    const outcome = await finalizeStep(engine, state, budget);
    if (outcome.done) return finished(outcome.result);
    state = outcome.state;
  }
  return { done: false, backupId, progress: progressOf({ ...state, processedBatches: state.plan.batches }) };
}
