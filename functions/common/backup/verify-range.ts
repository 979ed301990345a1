/**
 * Verification fanned out over a backup's manifest parts (docs/backup-scaling.md#verify-and-restore):
 *
 * 1. `planVerification`: the manifest against its seal and the chain, once; the parts split into
 *    at most {@link MAX_MAP_ITEMS} ranges, the Distributed Map's items (they travel in the
 *    Step Functions payload, so the plan, not an S3 file anyone could edit, says what is covered).
 * 2. `verifyRange`, one child per range, call after call: each entry's stored object against a
 *    listing of its own batch folder (`objects/<batch>/`, `packs/<batch>/`), the entries in the
 *    subset read back, and the backup's own batch folders for objects no entry names.
 * 3. `combineRanges` + `strayStoredObjects`: the children's summaries added up, and the backup's
 *    `objects/` and `packs/` folders that belong to no part (extra objects outside any batch).
 *
 * A range reports its findings in its summary (a few, trimmed, and the count) instead of failing,
 * so the Map's children all finish and the aggregate names the first problems of every range.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { logger } from '../runtime/observability.ts';
import { type Budget, expired } from './budget.ts';
import { objectsPrefix, packsPrefix } from './layout.ts';
import { type BackupStore, checkChain, type LoadedManifest, loadPart } from './load.ts';
import type { ManifestEntry } from './manifest.ts';
import { WorkPool } from './pool.ts';
import { IntegrityProblem, integrityFailure, type Problem } from './problems.ts';
import { checkStoredObject } from './read-object.ts';
import { StoredListing } from './stored-listing.ts';
import { inSubset, type Subset } from './subset.ts';
import {
  loadVerifiedManifest,
  MAX_KEPT_PROBLEMS,
  packEndsOf,
  problemSchema,
  storedSizeProblem,
} from './verify.ts';

/**
 * Items of one Distributed Map at most: with one trimmed finding each, the children's summaries
 * stay under ~150 KB of the 256 KiB payload the Map's result lives in.
 */
export const MAX_MAP_ITEMS = 200;
/** Findings one range keeps in its summary (the count goes on; the function's log has them all). */
export const RANGE_KEPT_PROBLEMS = 1;
/** Characters kept of each text field of a finding in a range's summary. */
const TRIMMED = 200;

/** Parts `from` (inclusive) to `to` (exclusive), by index in the manifest's parts. */
export interface PartRange {
  readonly from: number;
  readonly to: number;
}

/** Splits `parts` parts into ranges of `perItem` parts, more per range when that would exceed MAX_MAP_ITEMS. */
export function partRanges(parts: number, perItem: number): PartRange[] {
  const width = Math.max(1, perItem, Math.ceil(parts / MAX_MAP_ITEMS));
  const ranges: PartRange[] = [];
  for (let from = 0; from < parts; from += width) ranges.push({ from, to: Math.min(parts, from + width) });
  return ranges;
}

/** What the plan of a fanned-out verification found before any child runs. */
export interface VerificationPlan {
  readonly loaded: LoadedManifest;
  readonly chainLinks: number;
  readonly ranges: PartRange[];
}

/** Authenticates the manifest and its chain (a finding stops here) and splits the parts into ranges. */
export async function planVerification(
  store: BackupStore,
  set: string,
  backupId: string,
  partsPerItem: number,
): Promise<VerificationPlan> {
  const loaded = await loadVerifiedManifest(store, set, backupId);
  const chain = await checkChain(store, loaded.manifest);
  if (chain.problems.length) throw integrityFailure({ set, backupId }, chain.problems);
  return { loaded, chainLinks: chain.links, ranges: partRanges(loaded.manifest.parts.length, partsPerItem) };
}

/** Where one range's verification stands between calls. */
export const rangeCursorSchema = z
  .object({
    part: z.number().int().min(0),
    index: z.number().int().min(0),
    /** Per listed folder (`<backupId>#<folder>`), the last key consumed. */
    listings: z.record(z.string(), z.string().nullable()),
    entriesChecked: z.number().int().min(0),
    objectsRead: z.number().int().min(0),
    bytesRead: z.number().int().min(0),
    problems: z.array(problemSchema),
    problemCount: z.number().int().min(0),
  })
  .strict();

export type RangeCursor = z.output<typeof rangeCursorSchema>;

/** What one range found: counts, and its first finding (trimmed) with the number of findings. */
export const rangeSummarySchema = z
  .object({
    from: z.number().int().min(0),
    to: z.number().int().min(0),
    entriesChecked: z.number().int().min(0),
    objectsRead: z.number().int().min(0),
    bytesRead: z.number().int().min(0),
    problemCount: z.number().int().min(0),
    problems: z.array(problemSchema),
  })
  .strict();

export type RangeSummary = z.output<typeof rangeSummarySchema>;

export interface RangeRequest {
  readonly set: string;
  readonly backupId: string;
  readonly subset: Subset;
  readonly range: PartRange;
  /** The manifest the plan authenticated: a different one now is an edited manifest. */
  readonly manifestSha256: string;
  /** Only entries whose source key starts with this (a restore of part of a backup); no extras check. */
  readonly keyPrefix?: string;
  readonly concurrency: number;
}

export type RangeOutcome =
  | { readonly done: true; readonly summary: RangeSummary }
  | { readonly done: false; readonly cursor: RangeCursor };

function trim(finding: Problem): Problem {
  const cut = (value: string | number | undefined) =>
    typeof value === 'string' && value.length > TRIMMED ? `${value.slice(0, TRIMMED)}…` : value;
  const trimmed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(finding)) if (value !== undefined) trimmed[name] = cut(value);
  return trimmed as unknown as Problem;
}

/** The folder a stored key sits in (`…/objects/00000003/`). */
function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

/** `objects/<batch>/` and `packs/<batch>/` of `backupId`: where batch `batch` stored its copies. */
function batchFolders(set: string, backupId: string, batch: number): string[] {
  const name = String(batch).padStart(8, '0');
  return [`${objectsPrefix(set, backupId)}${name}/`, `${packsPrefix(set, backupId)}${name}/`];
}

/** Verifies the entries of one range of parts until done or out of budget. */
export async function verifyRange(
  store: BackupStore,
  request: RangeRequest,
  cursor: RangeCursor | undefined,
  budget: Budget,
): Promise<RangeOutcome> {
  const { set, backupId, range } = request;
  const loaded = await loadVerifiedManifest(store, set, backupId);
  if (loaded.sha256 !== request.manifestSha256) {
    throw integrityFailure({ set, backupId }, [
      { problem: 'edited-manifest', backupId, detail: 'the manifest changed during verification' },
    ]);
  }
  const { manifest } = loaded;
  if (range.to > manifest.parts.length || range.from >= range.to) {
    throw integrityFailure({ set, backupId }, [
      {
        problem: 'edited-manifest',
        backupId,
        detail: `parts ${range.from}-${range.to} are not in the manifest`,
      },
    ]);
  }
  const state: RangeCursor = cursor
    ? { ...cursor, problems: [...cursor.problems], listings: { ...cursor.listings } }
    : {
        part: range.from,
        index: 0,
        listings: {},
        entriesChecked: 0,
        objectsRead: 0,
        bytesRead: 0,
        problems: [],
        problemCount: 0,
      };
  const report = (finding: Problem) => {
    state.problemCount++;
    if (state.problems.length < MAX_KEPT_PROBLEMS) state.problems.push(finding);
    logger.warn('Verification finding', { ...finding });
  };
  const checkExtras = request.keyPrefix === undefined;
  const extra = (object: { key: string }) =>
    report({ problem: 'extra-object', backupId, storedKey: object.key });

  // One listing per (storing backup, folder): stored keys follow the manifest's order within a folder.
  const listings = new Map<string, StoredListing>();
  const listingFor = (storingBackupId: string, folder: string) => {
    const name = `${storingBackupId}#${folder}`;
    let listing = listings.get(name);
    if (!listing) {
      listing = new StoredListing(store.s3, store.bucket, folder, state.listings[name] ?? undefined);
      listings.set(name, listing);
    }
    return listing;
  };
  const drop = (name: string) => {
    listings.delete(name);
    delete state.listings[name];
  };

  const pool = new WorkPool(request.concurrency, Number.MAX_SAFE_INTEGER);
  const read = (entry: ManifestEntry) =>
    pool.start(1, async () => {
      const finding = await checkStoredObject(store, {
        set,
        backupId,
        entry,
        frameLength: manifest.encryption.frameLength,
      });
      state.objectsRead++;
      state.bytesRead += entry.size;
      if (finding) report(finding);
    });
  let dispatched = 0;
  let stopped = false;
  outer: for (; state.part < range.to; state.part++, state.index = 0) {
    if (dispatched > 0 && expired(budget)) {
      stopped = true;
      break;
    }
    const descriptor = manifest.parts[state.part]!;
    let part: Awaited<ReturnType<typeof loadPart>>;
    try {
      part = await loadPart(store, manifest, descriptor);
    } catch (error) {
      if (!(error instanceof IntegrityProblem)) throw error;
      report(error.finding);
      continue;
    }
    const packEnds = packEndsOf(part.objects, backupId);
    for (; state.index < part.objects.length; state.index++) {
      const entry = part.objects[state.index]!;
      if (request.keyPrefix !== undefined && !entry.key.startsWith(request.keyPrefix)) continue;
      const packed = entry.storedOffset !== undefined;
      const reading = inSubset(
        packed ? `${entry.storedKey}@${entry.storedOffset}` : entry.storedKey,
        request.subset,
      );
      if (reading && dispatched > 0 && expired(budget)) {
        stopped = true;
        break outer;
      }
      const own = entry.storedBackupId === backupId;
      const seen = await listingFor(entry.storedBackupId, folderOf(entry.storedKey)).seek(entry.storedKey);
      if (own && checkExtras) seen.skipped.forEach(extra);
      state.entriesChecked++;
      if (!seen.found) {
        report({ problem: 'missing-object', backupId, key: entry.key, storedKey: entry.storedKey });
        continue;
      }
      const sizeProblem = storedSizeProblem(entry, seen.found.size, packEnds.get(entry.storedKey));
      if (sizeProblem) {
        report({ ...sizeProblem, backupId, key: entry.key, storedKey: entry.storedKey });
        continue;
      }
      if (reading) {
        dispatched++;
        await read(entry);
      }
    }
    // The part is done: what is left in its own batch folders is in no entry.
    if (checkExtras) {
      for (const folder of batchFolders(set, backupId, descriptor.batch)) {
        const listing = listingFor(backupId, folder);
        for (let more = true; more; ) {
          const rest = await listing.rest(1000);
          rest.objects.forEach(extra);
          more = rest.more;
        }
      }
    }
    for (const name of [...listings.keys()]) drop(name);
  }
  await pool.settle();
  for (const [name, listing] of listings) state.listings[name] = listing.cursor ?? null;
  if (stopped) return { done: false, cursor: state };
  return {
    done: true,
    summary: {
      from: range.from,
      to: range.to,
      entriesChecked: state.entriesChecked,
      objectsRead: state.objectsRead,
      bytesRead: state.bytesRead,
      problemCount: state.problemCount,
      problems: state.problems.slice(0, RANGE_KEPT_PROBLEMS).map(trim),
    },
  };
}

/** The children's summaries added up; every part must be covered exactly once. */
export function combineRanges(
  subject: { readonly set: string; readonly backupId: string },
  parts: number,
  summaries: readonly RangeSummary[],
) {
  const covered = new Array<number>(parts).fill(0);
  for (const summary of summaries) for (let part = summary.from; part < summary.to; part++) covered[part]!++;
  const gaps = covered.flatMap((times, part) => (times === 1 ? [] : [part]));
  const problems: Problem[] = [];
  let problemCount = 0;
  for (const summary of [...summaries].sort((a, b) => a.from - b.from)) {
    problemCount += summary.problemCount;
    for (const finding of summary.problems) if (problems.length < MAX_KEPT_PROBLEMS) problems.push(finding);
  }
  if (gaps.length) {
    problemCount++;
    if (problems.length < MAX_KEPT_PROBLEMS) {
      problems.unshift({
        problem: 'edited-manifest',
        backupId: subject.backupId,
        detail: `parts not verified exactly once: ${gaps.slice(0, 10).join(', ')}${gaps.length > 10 ? ', …' : ''}`,
      });
    }
  }
  const sum = (field: 'entriesChecked' | 'objectsRead' | 'bytesRead') =>
    summaries.reduce((total, summary) => total + summary[field], 0);
  return {
    entriesChecked: sum('entriesChecked'),
    objectsRead: sum('objectsRead'),
    bytesRead: sum('bytesRead'),
    problems,
    problemCount,
  };
}

/**
 * Stored objects of the backup outside every part's batch folders: objects right under
 * `objects/` or `packs/`, and folders of batches the manifest has no part for. The batch folders
 * themselves are the children's (verifyRange). One LIST per 1,000 folders, plus the strays.
 */
export async function strayStoredObjects(store: BackupStore, loaded: LoadedManifest): Promise<Problem[]> {
  const { set, backupId, parts } = loaded.manifest;
  const expected = new Set(parts.flatMap((part) => batchFolders(set, backupId, part.batch)));
  const found: Problem[] = [];
  for (const prefix of [objectsPrefix(set, backupId), packsPrefix(set, backupId)]) {
    let token: string | undefined;
    do {
      const page = await store.s3.send(
        new ListObjectsV2Command({
          Bucket: store.bucket,
          Prefix: prefix,
          Delimiter: '/',
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? [])
        found.push({ problem: 'extra-object', backupId, storedKey: object.Key! });
      for (const folder of page.CommonPrefixes ?? []) {
        if (expected.has(folder.Prefix!)) continue;
        const listing = new StoredListing(store.s3, store.bucket, folder.Prefix!);
        for (let more = true; more; ) {
          const rest = await listing.rest(1000);
          for (const object of rest.objects)
            found.push({ problem: 'extra-object', backupId, storedKey: object.key });
          more = rest.more && found.length < MAX_KEPT_PROBLEMS;
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return found;
}
