/**
 * The persisted state of a backup in progress (`work/state.json`), its batch files and batch
 * progress files. Everything a later call (or another Distributed Map child) needs lives here,
 * in S3 under the backup's own prefix, never in a Step Functions payload.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { batchKey, progressKey, stateKey } from './layout.ts';
import { entrySchema, partDescriptorSchema } from './manifest.ts';
import type { PlanItem } from './plan.ts';
import { getBytes, putBytes, type WriteOptions } from './s3-io.ts';

const count = z.number().int().min(0);

export const workStateSchema = z
  .object({
    format: z.literal('caretaker.backup.state'),
    backupId: z.string(),
    set: z.string(),
    kind: z.enum(['backup', 'rollback-point']),
    mode: z.enum(['full', 'incremental']),
    modeReason: z.string(),
    createdAt: z.string(),
    executionId: z.string(),
    source: z.object({ bucket: z.string(), prefix: z.string() }).strict(),
    parent: z.object({ backupId: z.string(), manifestSha256: z.string() }).strict().nullable(),
    chain: z.object({ fullBackupId: z.string(), depth: count }).strict(),
    keyArn: z.string(),
    frameLength: z.number().int().positive(),
    plan: z
      .object({
        done: z.boolean(),
        startAfter: z.string().optional(),
        batches: count,
        listedObjects: count,
        listedBytes: count,
        copyObjects: count,
        copyBytes: count,
      })
      .strict(),
    /** Batches 1..processedBatches are done (the single-function loop processes them in order). */
    processedBatches: count,
    completedAt: z.string().optional(),
    /** Part descriptors computed so far by finalize. */
    finalizedParts: z.array(partDescriptorSchema),
  })
  .strict();

export type WorkState = z.output<typeof workStateSchema>;

const copyItemSchema = z
  .object({
    action: z.literal('copy'),
    key: z.string(),
    size: count,
    etag: z.string(),
    lastModified: z.string(),
  })
  .strict();
const reuseItemSchema = z.object({ action: z.literal('reuse'), entry: entrySchema }).strict();

export const batchFileSchema = z
  .object({
    format: z.literal('caretaker.backup.batch'),
    set: z.string(),
    backupId: z.string(),
    batch: z.number().int().min(1),
    items: z.array(z.discriminatedUnion('action', [copyItemSchema, reuseItemSchema])),
  })
  .strict();

export type BatchFile = z.output<typeof batchFileSchema>;

/** Entries finished so far in a batch (by index in the batch), and keys found vanished. */
export const progressSchema = z
  .object({
    format: z.literal('caretaker.backup.batch-progress'),
    batch: z.number().int().min(1),
    done: z.array(
      z.union([
        z.object({ index: count, entry: entrySchema }).strict(),
        z.object({ index: count, vanished: z.string() }).strict(),
      ]),
    ),
  })
  .strict();

export type BatchProgress = z.output<typeof progressSchema>;

/** Where work files go and how they are written. */
export interface WorkStore {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly write: WriteOptions;
}

async function readJson<S extends z.ZodType>(
  store: WorkStore,
  key: string,
  schema: S,
): Promise<z.output<S> | undefined> {
  const bytes = await getBytes(store.s3, store.bucket, key);
  if (!bytes) return undefined;
  return schema.parse(JSON.parse(bytes.toString('utf8')));
}

async function writeJson(store: WorkStore, key: string, value: unknown): Promise<void> {
  await putBytes(store.s3, store.bucket, key, Buffer.from(JSON.stringify(value)), {
    ...store.write,
    contentType: 'application/json',
  });
}

export function readState(store: WorkStore, set: string, backupId: string): Promise<WorkState | undefined> {
  return readJson(store, stateKey(set, backupId), workStateSchema);
}

export function writeState(store: WorkStore, state: WorkState): Promise<void> {
  return writeJson(store, stateKey(state.set, state.backupId), state);
}

export async function readBatch(
  store: WorkStore,
  set: string,
  backupId: string,
  batch: number,
): Promise<BatchFile> {
  const file = await readJson(store, batchKey(set, backupId, batch), batchFileSchema);
  if (!file) throw new Error(`Batch ${batch} of backup ${set}/${backupId} is missing from the work area`);
  return file;
}

/** Whether the work area holds a batch file for `batch` (a batch with copies, as last planned). */
export async function hasBatch(
  store: WorkStore,
  set: string,
  backupId: string,
  batch: number,
): Promise<boolean> {
  return (await readJson(store, batchKey(set, backupId, batch), batchFileSchema)) !== undefined;
}

export function writeBatch(
  store: WorkStore,
  set: string,
  backupId: string,
  batch: number,
  items: PlanItem[],
): Promise<void> {
  const file: BatchFile = { format: 'caretaker.backup.batch', set, backupId, batch, items };
  return writeJson(store, batchKey(set, backupId, batch), file);
}

export function readProgress(store: WorkStore, set: string, backupId: string, batch: number) {
  return readJson(store, progressKey(set, backupId, batch), progressSchema);
}

export function writeProgress(
  store: WorkStore,
  set: string,
  backupId: string,
  progress: BatchProgress,
): Promise<void> {
  return writeJson(store, progressKey(set, backupId, progress.batch), progress);
}
