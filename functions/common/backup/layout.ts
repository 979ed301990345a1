/**
 * Where a backup's pieces live in the backup bucket (the shared data contract) and how backup ids
 * are made. Pure: no I/O.
 *
 * ```
 * backups/<set>/<backupId>/manifest.json            the manifest (written last, once)
 * backups/<set>/<backupId>/manifest.seal            KMS-sealed SHA-256 of manifest.json
 * backups/<set>/<backupId>/manifest-parts/<n>.json  the object entries, one part per batch
 * backups/<set>/<backupId>/objects/<batch>/<index>  encrypted objects, one per stored object
 * backups/<set>/<backupId>/packs/<batch>/<index>    encrypted small objects, back to back (format 2)
 * backups/<set>/<backupId>/verifications/<ts>.json  one record per successful verification
 * backups/<set>/<backupId>/work/...                 work in progress (deleted once complete)
 * ```
 */
import { createHash, randomBytes } from 'node:crypto';

/** The set name rollback points (pre-restore backups) are stored under; no config set can take it. */
export const ROLLBACK_POINT_SET = '_rollback-points';

const BACKUP_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** Whether `text` is a backupId (`yyyyMMddTHHmmssZ-<8 hex>`). */
export function isBackupId(text: string): boolean {
  return BACKUP_ID.test(text);
}

/** A time as compact ISO 8601 (`20260102T030405Z`); with `millis`, `20260102T030405.678Z`. */
export function compactIso(time: Date, millis = false): string {
  const iso = time.toISOString().replace(/[-:]/g, '');
  return millis ? iso : iso.replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A backupId for a backup started at `time`. With `seed` (e.g. the execution id) the suffix is
 * derived from it, so a retried start step gets the same id; without, it is random.
 */
export function newBackupId(time: Date, seed?: string): string {
  const suffix = seed
    ? createHash('sha256').update(seed).digest('hex').slice(0, 8)
    : randomBytes(4).toString('hex');
  return `${compactIso(time)}-${suffix}`;
}

/** `backups/<set>/<backupId>/`. */
export function backupPrefix(set: string, backupId: string): string {
  return `backups/${set}/${backupId}/`;
}

/** `backups/<set>/<backupId>/manifest.json`. */
export function manifestKey(set: string, backupId: string): string {
  return `${backupPrefix(set, backupId)}manifest.json`;
}

/** `backups/<set>/<backupId>/manifest.seal`. */
export function sealKey(set: string, backupId: string): string {
  return `${backupPrefix(set, backupId)}manifest.seal`;
}

/** Zero-padded so keys sort in batch order. */
function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** `backups/<set>/<backupId>/manifest-parts/<batch>.json`: the entries of one batch. */
export function partKey(set: string, backupId: string, batch: number): string {
  return `${backupPrefix(set, backupId)}manifest-parts/${pad(batch, 8)}.json`;
}

/** `backups/<set>/<backupId>/objects/`. */
export function objectsPrefix(set: string, backupId: string): string {
  return `${backupPrefix(set, backupId)}objects/`;
}

/**
 * Where the `index`-th item of batch `batch` is stored. Names follow the plan's order, which is
 * the source keys' order, so a listing of the prefix can be merged with the manifest without
 * loading either whole; and a fixed-length name never hits S3's 1,024-byte key limit whatever
 * the source key.
 */
export function storedObjectKey(set: string, backupId: string, batch: number, index: number): string {
  return `${objectsPrefix(set, backupId)}${pad(batch, 8)}/${pad(index, 5)}`;
}

/** `backups/<set>/<backupId>/packs/`. */
export function packsPrefix(set: string, backupId: string): string {
  return `${backupPrefix(set, backupId)}packs/`;
}

/**
 * Where the pack whose first member is the `index`-th item of batch `batch` is stored. Packs have
 * a prefix of their own so each listing stays in manifest order: the members of one pack come
 * before those of the next, while objects stored alone may sit between them.
 */
export function packKey(set: string, backupId: string, batch: number, index: number): string {
  return `${packsPrefix(set, backupId)}${pad(batch, 8)}/${pad(index, 5)}`;
}

/** `backups/<set>/<backupId>/verifications/<compact ISO>.json`. */
export function verificationKey(set: string, backupId: string, verifiedAt: Date): string {
  return `${backupPrefix(set, backupId)}verifications/${compactIso(verifiedAt)}.json`;
}

/** `backups/<set>/<backupId>/work/`: state of a backup in progress. */
export function workPrefix(set: string, backupId: string): string {
  return `${backupPrefix(set, backupId)}work/`;
}

/** The backup's work state (plan cursor, batch count, completion time). */
export function stateKey(set: string, backupId: string): string {
  return `${workPrefix(set, backupId)}state.json`;
}

/** The items of one batch, written by the plan. */
export function batchKey(set: string, backupId: string, batch: number): string {
  return `${workPrefix(set, backupId)}batches/${pad(batch, 8)}.json`;
}

/** Entries finished so far in a batch interrupted by its time budget. */
export function progressKey(set: string, backupId: string, batch: number): string {
  return `${workPrefix(set, backupId)}progress/${pad(batch, 8)}.json`;
}

/** The JSON array of batch descriptors a Distributed Map reads (ItemReader). */
export function batchIndexKey(set: string, backupId: string): string {
  return `${workPrefix(set, backupId)}batches.json`;
}

/** Where the Distributed Map's ResultWriter puts child execution results. */
export function mapResultsPrefix(set: string, backupId: string): string {
  return `${workPrefix(set, backupId)}map-results/`;
}
