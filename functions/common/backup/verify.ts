/**
 * Verification of a backup, resumable across calls:
 * 1. the manifest against its KMS seal (an edited, moved or missing manifest stops here);
 * 2. the chain back to the full backup (each ancestor's bytes against the hash its child recorded);
 * 3. every entry's stored object against a listing of the stored prefixes (missing, resized; a
 *    pack must hold its members' ranges and, for the backup's own packs, end where its last does);
 * 4. the entries in the subset read back: decrypted under the trusted key with an encryption
 *    context the manifest implies (set and storing backup; and the source key for a format-1
 *    copy), SHA-256 and size of the plaintext;
 * 5. the backup's own objects/ and packs/ prefixes for objects no entry names (extra objects).
 * Findings are collected (up to a cap) so one run reports every damaged object it saw.
 */
import * as z from 'zod';
import { logger } from '../runtime/observability.ts';
import { type Budget, expired } from './budget.ts';
import { objectsPrefix, packsPrefix } from './layout.ts';
import { type BackupStore, checkChain, type LoadedManifest, loadManifest, loadPart } from './load.ts';
import type { ManifestEntry } from './manifest.ts';
import { WorkPool } from './pool.ts';
import { IntegrityProblem, integrityFailure, PROBLEMS, type Problem, type ProblemName } from './problems.ts';
import { checkStoredObject } from './read-object.ts';
import { StoredListing } from './stored-listing.ts';
import { inSubset, type Subset } from './subset.ts';

/** Findings kept in a continuation (the count goes on). */
export const MAX_KEPT_PROBLEMS = 20;

export interface VerifyRequest {
  readonly set: string;
  readonly backupId: string;
  readonly subset: Subset;
  /** Only entries whose source key starts with this (restore of part of a backup); no extras check. */
  readonly keyPrefix?: string;
  /** Reads in flight at once. */
  readonly concurrency: number;
}

/** A finding as it travels in a continuation or a range's summary. */
export const problemSchema = z
  .object({
    problem: z.enum(Object.keys(PROBLEMS) as [ProblemName, ...ProblemName[]]),
    backupId: z.string(),
    key: z.string().optional(),
    storedKey: z.string().optional(),
    expected: z.union([z.string(), z.number()]).optional(),
    actual: z.union([z.string(), z.number()]).optional(),
    detail: z.string().optional(),
  })
  .strict();

/** Where a verification stands between calls (small: it travels in the Step Functions payload). */
export const verifyCursorSchema = z
  .object({
    manifestSha256: z.string(),
    part: z.number().int().min(0),
    index: z.number().int().min(0),
    listings: z.record(z.string(), z.string().nullable()),
    entriesChecked: z.number().int().min(0),
    objectsRead: z.number().int().min(0),
    bytesRead: z.number().int().min(0),
    chainLinks: z.number().int().min(0),
    problems: z.array(problemSchema),
    problemCount: z.number().int().min(0),
    startedAt: z.string(),
  })
  .strict();

export type VerifyCursor = z.output<typeof verifyCursorSchema>;

/** The outcome of a verification that found nothing wrong. */
export interface VerifySummary {
  readonly set: string;
  readonly backupId: string;
  readonly manifestSha256: string;
  /** Entries whose stored object was found with the right size. */
  readonly entriesChecked: number;
  /** Stored objects read back, decrypted and hashed. */
  readonly objectsRead: number;
  readonly bytesRead: number;
  readonly chainLinks: number;
  readonly startedAt: string;
}

export type VerifyOutcome =
  | { readonly done: true; readonly summary: VerifySummary; readonly loaded: LoadedManifest }
  | { readonly done: false; readonly cursor: VerifyCursor };

/** Loads and authenticates the manifest, turning a finding into the IntegrityError it is. */
export async function loadVerifiedManifest(
  store: BackupStore,
  set: string,
  backupId: string,
): Promise<LoadedManifest> {
  try {
    return await loadManifest(store, set, backupId);
  } catch (error) {
    if (error instanceof IntegrityProblem) throw integrityFailure({ set, backupId }, [error.finding]);
    throw error;
  }
}

/**
 * The sealed manifest a fanned-out step works on, refused as `edited-manifest` if it is no longer
 * the one its plan fixed (`manifestSha256`) — it changed `during` the verification or restore.
 */
export async function loadUnchangedManifest(
  store: BackupStore,
  fixed: { readonly set: string; readonly backupId: string; readonly manifestSha256: string },
  during: string,
): Promise<LoadedManifest> {
  const loaded = await loadVerifiedManifest(store, fixed.set, fixed.backupId);
  if (loaded.sha256 !== fixed.manifestSha256) {
    throw integrityFailure({ set: fixed.set, backupId: fixed.backupId }, [
      {
        problem: 'edited-manifest',
        backupId: fixed.backupId,
        detail: `the manifest changed during ${during}`,
      },
    ]);
  }
  return loaded;
}

/**
 * What is wrong with a stored object's listed size for `entry`, if anything. A copy alone must
 * have exactly its size; a copy in a pack must fit in it, and the pack must end where its last
 * member does (`packEnd`, known for the backup's own packs: bytes appended to one are found).
 */
/**
 * Where each of `backupId`'s packs named in one manifest part ends (stored key → end offset): packs
 * never span parts, so a part's entries say how long each of its packs must be.
 */
export function packEndsOf(entries: readonly ManifestEntry[], backupId: string): Map<string, number> {
  const packEnds = new Map<string, number>();
  for (const entry of entries) {
    if (entry.storedOffset === undefined || entry.storedBackupId !== backupId) continue;
    const end = entry.storedOffset + entry.storedSize;
    packEnds.set(entry.storedKey, Math.max(end, packEnds.get(entry.storedKey) ?? 0));
  }
  return packEnds;
}

export function storedSizeProblem(
  entry: ManifestEntry,
  listedSize: number,
  packEnd: number | undefined,
): Pick<Problem, 'problem' | 'expected' | 'actual'> | undefined {
  if (entry.storedOffset === undefined) {
    if (listedSize === entry.storedSize) return undefined;
    return {
      problem: listedSize < entry.storedSize ? 'truncated-object' : 'stored-size-mismatch',
      expected: entry.storedSize,
      actual: listedSize,
    };
  }
  const end = entry.storedOffset + entry.storedSize;
  if (listedSize < end) return { problem: 'truncated-object', expected: end, actual: listedSize };
  if (end === packEnd && listedSize > end)
    return { problem: 'stored-size-mismatch', expected: end, actual: listedSize };
  return undefined;
}

/** Runs verification until done or out of budget; throws IntegrityError at the end if anything was found. */
export async function verifyStep(
  store: BackupStore,
  request: VerifyRequest,
  cursor: VerifyCursor | undefined,
  budget: Budget,
): Promise<VerifyOutcome> {
  const { set, backupId } = request;
  const loaded = await loadVerifiedManifest(store, set, backupId);
  const { manifest } = loaded;
  let state: VerifyCursor;
  if (cursor) {
    if (cursor.manifestSha256 !== loaded.sha256) {
      throw integrityFailure({ set, backupId }, [
        { problem: 'edited-manifest', backupId, detail: 'the manifest changed during verification' },
      ]);
    }
    state = { ...cursor, problems: [...cursor.problems] };
  } else {
    const chain = await checkChain(store, manifest);
    state = {
      manifestSha256: loaded.sha256,
      part: 0,
      index: 0,
      listings: {},
      entriesChecked: 0,
      objectsRead: 0,
      bytesRead: 0,
      chainLinks: chain.links,
      problems: chain.problems.slice(0, MAX_KEPT_PROBLEMS),
      problemCount: chain.problems.length,
      startedAt: new Date(budget.now()).toISOString(),
    };
  }
  const report = (finding: Problem) => {
    state.problemCount++;
    if (state.problems.length < MAX_KEPT_PROBLEMS) state.problems.push(finding);
    logger.warn('Verification finding', { ...finding });
  };

  const listings = new Map<string, StoredListing>();
  // One listing per storing backup and kind: its objects/ and its packs/ are each in manifest order.
  const listingName = (id: string, packed: boolean) => (packed ? `${id}#packs` : id);
  const listingFor = (id: string, packed: boolean) => {
    const name = listingName(id, packed);
    let listing = listings.get(name);
    if (!listing) {
      listing = new StoredListing(
        store.s3,
        store.bucket,
        packed ? packsPrefix(set, id) : objectsPrefix(set, id),
        state.listings[name] ?? undefined,
      );
      listings.set(name, listing);
    }
    return listing;
  };
  const checkExtras = request.keyPrefix === undefined;
  const extra = (object: { key: string }) =>
    report({ problem: 'extra-object', backupId, storedKey: object.key });

  const pool = new WorkPool(request.concurrency, Number.MAX_SAFE_INTEGER);
  let dispatched = 0;
  let stopped = false;
  const entriesAtStart = state.entriesChecked;
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

  outer: for (; state.part < manifest.parts.length; state.part++, state.index = 0) {
    if (state.entriesChecked > entriesAtStart && expired(budget)) {
      stopped = true;
      break;
    }
    const descriptor = manifest.parts[state.part]!;
    let part: Awaited<ReturnType<typeof loadPart>>;
    try {
      part = await loadPart(store, manifest, descriptor);
    } catch (error) {
      await pool.settle();
      if (error instanceof IntegrityProblem) {
        report(error.finding);
        throw integrityFailure({ set, backupId }, state.problems, state.problemCount);
      }
      throw error;
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
      const seen = await listingFor(entry.storedBackupId, packed).seek(entry.storedKey);
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
  }
  await pool.settle();
  for (const [id, listing] of listings) state.listings[id] = listing.cursor ?? null;
  if (stopped) return { done: false, cursor: state };

  if (checkExtras) {
    for (const own of [listingFor(backupId, false), listingFor(backupId, true)]) {
      for (let more = true; more; ) {
        const rest = await own.rest(1000);
        rest.objects.forEach(extra);
        more = rest.more;
      }
    }
  }
  if (state.problemCount) throw integrityFailure({ set, backupId }, state.problems, state.problemCount);
  return {
    done: true,
    loaded,
    summary: {
      set,
      backupId,
      manifestSha256: loaded.sha256,
      entriesChecked: state.entriesChecked,
      objectsRead: state.objectsRead,
      bytesRead: state.bytesRead,
      chainLinks: state.chainLinks,
      startedAt: state.startedAt,
    },
  };
}

/** The verification record of the shared contract, plus evidence. */
export function verificationRecord(
  summary: VerifySummary,
  subset: string,
  verifiedAt: Date,
  toolVersion: string,
) {
  return {
    backupId: summary.backupId,
    verifiedAt: verifiedAt.toISOString(),
    subset,
    objectsChecked: summary.objectsRead,
    ok: true as const,
    set: summary.set,
    manifestSha256: summary.manifestSha256,
    entriesChecked: summary.entriesChecked,
    bytesChecked: summary.bytesRead,
    chainLinks: summary.chainLinks,
    startedAt: summary.startedAt,
    durationMs: Math.max(0, verifiedAt.getTime() - Date.parse(summary.startedAt)),
    tool: { name: 'caretaker', version: toolVersion },
  };
}
