/**
 * The backup manifest (format version 2; version 1 is still read): its schema, how it is built
 * from the batch parts, and its exact bytes. Pure: no I/O. docs/backup-format.md describes the
 * format for readers.
 *
 * A manifest is small: a header and one descriptor per part. The object entries live in parts
 * (`manifest-parts/<n>.json`, one per batch) whose SHA-256 the manifest records, so a backup of
 * millions of objects never needs one JSON string larger than a part, and hashing the manifest's
 * bytes covers every entry. Every manifest lists the complete set of objects at its time.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { isBackupId } from './layout.ts';

export const MANIFEST_FORMAT = 'caretaker.backup.manifest';
/**
 * User metadata key on a manifest part the plan wrote (value `plan`) for a batch of reused entries
 * only; parts the batch step writes carry none. S3 returns it lower case on HEAD.
 */
export const PART_WRITER_METADATA = 'caretaker-part-writer';

export const PART_FORMAT = 'caretaker.backup.manifest-part';
/**
 * The manifest version written. 2: stored objects' encryption context is set and storing backup
 * (data keys are reused within limits); 1: it also named the source key (one data key per object).
 * Manifests of both versions are read, and a version-2 manifest may point at objects a version-1
 * backup stored (incrementals reuse earlier copies).
 */
export const FORMAT_VERSION = 2;
/** Part version written: 2 entries may carry `storedOffset` (a copy inside a pack); 1 is still read. */
export const PART_FORMAT_VERSION = 2;

/** The AWS Encryption SDK suite every object is encrypted with: committing, no signatures. */
export const ALGORITHM_SUITE = {
  name: 'ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY',
  id: 0x0478,
} as const;

/** Encryption context keys bound into stored objects and seals (authenticated, not secret). */
export const CONTEXT_KEYS = {
  set: 'caretaker:set',
  backupId: 'caretaker:backup-id',
  /** Format 1 only: each object's own key, which made every data key single-use. */
  sourceKey: 'caretaker:source-key',
} as const;

/** The context keys of objects stored by this version (recorded in `encryption.encryptionContext`). */
export const OBJECT_CONTEXT_KEYS = [CONTEXT_KEYS.set, CONTEXT_KEYS.backupId] as const;

const sha256Text = z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256');
const backupIdSchema = z.string().refine(isBackupId, 'expected a backupId (yyyyMMddTHHmmssZ-<8 hex>)');
const isoTime = z.iso.datetime({ offset: false });
const count = z.number().int().min(0);

/** One object as it was at backup time and where its encrypted copy is. */
export const entrySchema = z
  .object({
    /** The source object's key. */
    key: z.string().min(1),
    /** Plaintext size in bytes. */
    size: count,
    /** SHA-256 of the plaintext, hex. */
    sha256: sha256Text,
    /** The source ETag, without quotes. */
    etag: z.string(),
    /** The source version id, when the source bucket is versioned. */
    versionId: z.string().optional(),
    lastModified: isoTime,
    /** Key of the encrypted copy in the backup bucket; may be under an earlier backup's prefix. */
    storedKey: z.string().min(1),
    /** The backup that stored the copy (the `caretaker:backup-id` in its encryption context). */
    storedBackupId: backupIdSchema,
    /** Size of the encrypted copy in bytes. */
    storedSize: count,
    /**
     * Where the copy starts inside `storedKey` when that is a pack of small objects (format 2);
     * absent when the copy is the whole stored object.
     */
    storedOffset: count.optional(),
    contentType: z.string().optional(),
    contentEncoding: z.string().optional(),
    contentDisposition: z.string().optional(),
    contentLanguage: z.string().optional(),
    cacheControl: z.string().optional(),
    /** The source object's user metadata (x-amz-meta-*). */
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export type ManifestEntry = z.output<typeof entrySchema>;

/** One part file: the entries of one batch, sorted by key. */
export const partSchema = z
  .object({
    format: z.literal(PART_FORMAT),
    formatVersion: z.union([z.literal(1), z.literal(PART_FORMAT_VERSION)]),
    set: z.string(),
    backupId: backupIdSchema,
    batch: z.number().int().min(1),
    objects: z.array(entrySchema),
    /** Keys the plan listed that were deleted at the source before they could be copied. */
    vanished: z.array(z.string()),
  })
  .strict();

export type ManifestPart = z.output<typeof partSchema>;

/** What the manifest records about one part. */
export const partDescriptorSchema = z
  .object({
    batch: z.number().int().min(1),
    key: z.string(),
    sha256: sha256Text,
    objects: count,
    bytes: count,
    storedBytes: count,
    copiedObjects: count,
    copiedBytes: count,
    reusedObjects: count,
    /** Listed by the plan but gone by the time it was copied (deleted at the source meanwhile). */
    vanishedObjects: count,
    firstKey: z.string().optional(),
    lastKey: z.string().optional(),
  })
  .strict();

export type PartDescriptor = z.output<typeof partDescriptorSchema>;

const totalsSchema = z
  .object({
    objects: count,
    bytes: count,
    storedBytes: count,
    copiedObjects: count,
    copiedBytes: count,
    reusedObjects: count,
    reusedBytes: count,
    vanishedObjects: count,
    parts: count,
  })
  .strict();

export type ManifestTotals = z.output<typeof totalsSchema>;

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    formatVersion: z.union([z.literal(1), z.literal(FORMAT_VERSION)]),
    backupId: backupIdSchema,
    set: z.string().min(1),
    /** `backup` for a scheduled/manual backup, `rollback-point` for a pre-restore backup. */
    kind: z.enum(['backup', 'rollback-point']),
    mode: z.enum(['full', 'incremental']),
    createdAt: isoTime,
    completedAt: isoTime,
    durationMs: count,
    /** The previous backup of the set and the SHA-256 of its manifest's bytes (the hash chain). */
    parent: z.object({ backupId: backupIdSchema, manifestSha256: sha256Text }).strict().nullable(),
    /** The full backup this one's chain starts at and how many incrementals lie in between. */
    chain: z.object({ fullBackupId: backupIdSchema, depth: count }).strict(),
    source: z.object({ bucket: z.string().min(1), prefix: z.string() }).strict(),
    encryption: z
      .object({
        library: z.string(),
        keyArn: z.string().min(1),
        algorithmSuite: z.literal(ALGORITHM_SUITE.name),
        algorithmSuiteId: z.literal(ALGORITHM_SUITE.id),
        commitmentPolicy: z.literal('REQUIRE_ENCRYPT_REQUIRE_DECRYPT'),
        frameLength: z.number().int().positive(),
        encryptionContext: z.array(z.string()),
        serverSideEncryption: z.literal('aws:kms'),
      })
      .strict(),
    tool: z.object({ name: z.literal('caretaker'), version: z.string() }).strict(),
    executionId: z.string(),
    totals: totalsSchema,
    parts: z.array(partDescriptorSchema),
  })
  .strict();

export type Manifest = z.output<typeof manifestSchema>;

/** SHA-256 of bytes, hex. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A part's exact bytes: one entry per line, so a part reads and diffs well. */
export function serializePart(part: ManifestPart): Buffer {
  const { objects, vanished, ...header } = part;
  const head = JSON.stringify(header).slice(0, -1);
  const lines = objects.map((entry) => JSON.stringify(entry)).join(',\n');
  const list = objects.length ? `\n${lines}\n` : '';
  return Buffer.from(`${head},"vanished":${JSON.stringify(vanished)},"objects":[${list}]}\n`);
}

/** The manifest's exact bytes (the bytes the seal and the next backup's chain hash cover). */
export function serializeManifest(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** The descriptor of a part from its bytes and entries. */
export function describePart(part: ManifestPart, key: string, bytes: Uint8Array): PartDescriptor {
  const own = part.objects.filter((entry) => entry.storedBackupId === part.backupId);
  const first = part.objects[0];
  const last = part.objects[part.objects.length - 1];
  return {
    batch: part.batch,
    key,
    sha256: sha256Hex(bytes),
    objects: part.objects.length,
    bytes: sum(part.objects.map((entry) => entry.size)),
    storedBytes: sum(part.objects.map((entry) => entry.storedSize)),
    copiedObjects: own.length,
    copiedBytes: sum(own.map((entry) => entry.size)),
    reusedObjects: part.objects.length - own.length,
    vanishedObjects: part.vanished.length,
    ...(first ? { firstKey: first.key } : {}),
    ...(last ? { lastKey: last.key } : {}),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Totals over the parts. */
export function totalsOf(parts: readonly PartDescriptor[]): ManifestTotals {
  const copiedBytes = sum(parts.map((part) => part.copiedBytes));
  const bytes = sum(parts.map((part) => part.bytes));
  return {
    objects: sum(parts.map((part) => part.objects)),
    bytes,
    storedBytes: sum(parts.map((part) => part.storedBytes)),
    copiedObjects: sum(parts.map((part) => part.copiedObjects)),
    copiedBytes,
    reusedObjects: sum(parts.map((part) => part.reusedObjects)),
    reusedBytes: bytes - copiedBytes,
    vanishedObjects: sum(parts.map((part) => part.vanishedObjects)),
    parts: parts.length,
  };
}

/** Everything about a backup except what the parts tell. */
export type ManifestHeader = Omit<Manifest, 'format' | 'formatVersion' | 'totals' | 'parts' | 'durationMs'>;

/** Assembles the manifest from its header and its parts' descriptors (in batch order). */
export function buildManifest(header: ManifestHeader, parts: readonly PartDescriptor[]): Manifest {
  const ordered = [...parts].sort((a, b) => a.batch - b.batch);
  ordered.forEach((part, index) => {
    if (part.batch !== index + 1)
      throw new Error(`Manifest parts are not 1..n: part ${index + 1} is missing`);
  });
  return {
    format: MANIFEST_FORMAT,
    formatVersion: FORMAT_VERSION,
    ...header,
    durationMs: Math.max(0, Date.parse(header.completedAt) - Date.parse(header.createdAt)),
    totals: totalsOf(ordered),
    parts: ordered,
  };
}

/** The encryption context of an object stored by `storedBackupId` (format 2). */
export function objectContext(set: string, storedBackupId: string): Record<string, string> {
  return { [CONTEXT_KEYS.set]: set, [CONTEXT_KEYS.backupId]: storedBackupId };
}

/** The encryption context of an object a format-1 backup stored for `sourceKey`. */
export function formatOneObjectContext(
  set: string,
  storedBackupId: string,
  sourceKey: string,
): Record<string, string> {
  return { ...objectContext(set, storedBackupId), [CONTEXT_KEYS.sourceKey]: sourceKey };
}

/**
 * The contexts a stored copy of `entry` may carry. An entry does not say which version stored
 * its copy (an incremental reuses copies of earlier backups), and need not: both shapes name the
 * set and the storing backup, KMS and the header authenticate whichever the message has, and the
 * format-1 shape must name this very entry. What binds a format-2 copy to its entry is the
 * SHA-256 and size the sealed manifest records, checked before a read completes.
 */
export function acceptedObjectContexts(
  set: string,
  entry: Pick<ManifestEntry, 'key' | 'storedBackupId'>,
): [Record<string, string>, Record<string, string>] {
  return [
    objectContext(set, entry.storedBackupId),
    formatOneObjectContext(set, entry.storedBackupId, entry.key),
  ];
}

/** S3 ETags come quoted; the manifest keeps them bare. */
export function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

/** Parses manifest bytes, or returns what is wrong with them. */
export function parseManifest(bytes: Uint8Array): Manifest | string {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const result = manifestSchema.safeParse(json);
  return result.success ? result.data : `not a manifest: ${result.error.issues[0]?.message ?? 'invalid'}`;
}
