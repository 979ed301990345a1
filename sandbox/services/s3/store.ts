/**
 * Buckets and object versions in memory, bodies as files under `<dataDir>/s3/objects`.
 *
 * Bodies are written to `tmp/` while they arrive and renamed into `objects/` once complete, so a
 * reader never sees a partial file. Every version owns its files; replacing or deleting a version
 * removes them, but only after the last GET still streaming them has finished (reader counts).
 * The state is saved to `state.json` when the sandbox stops and loaded when it starts again.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { s3Errors } from './errors.ts';
import type { Bucket, ObjectVersion, Part, Upload } from './model.ts';
import { SortedKeys } from './sorted-keys.ts';

const STATE_VERSION = 1;

interface SavedBucket extends Omit<Bucket, 'objects' | 'keys' | 'uploads'> {
  readonly objects: [string, ObjectVersion[]][];
  readonly uploads: (Omit<Upload, 'parts'> & { parts: Part[] })[];
}

/** A random version id: 32 URL-safe characters. */
export function newVersionId(): string {
  return randomBytes(24).toString('base64url');
}

export const VERSION_ID = /^(null|[A-Za-z0-9_-]{32})$/;

export class S3Store {
  readonly buckets = new Map<string, Bucket>();
  private readonly objectsDir: string;
  private readonly tmpDir: string;
  private readonly statePath: string;
  private readonly readers = new Map<ObjectVersion, number>();
  private readonly pendingRemoval = new Set<ObjectVersion>();

  constructor(readonly root: string) {
    this.objectsDir = join(root, 'objects');
    this.tmpDir = join(root, 'tmp');
    this.statePath = join(root, 'state.json');
  }

  /** Loads saved state (if any), clears leftovers of interrupted uploads and unreferenced files. */
  open(): void {
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    mkdirSync(this.objectsDir, { recursive: true });
    let saved: { version: number; buckets: SavedBucket[] } | undefined;
    try {
      saved = JSON.parse(readFileSync(this.statePath, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`S3 sandbox state ${this.statePath} is unreadable: ${(error as Error).message}`);
      }
    }
    if (saved && saved.version !== STATE_VERSION) {
      throw new Error(`S3 sandbox state ${this.statePath} has unknown version ${saved.version}`);
    }
    const referenced = new Set<string>();
    for (const stored of saved?.buckets ?? []) {
      const bucket: Bucket = {
        ...stored,
        objects: new Map(stored.objects),
        keys: SortedKeys.from(stored.objects.map(([key]) => key)),
        uploads: new Map(
          stored.uploads.map((upload) => [
            upload.uploadId,
            { ...upload, parts: new Map(upload.parts.map((part) => [part.partNumber, part])) },
          ]),
        ),
      };
      this.buckets.set(bucket.name, bucket);
      for (const versions of bucket.objects.values()) {
        for (const version of versions) for (const segment of version.segments) referenced.add(segment.file);
      }
      for (const upload of bucket.uploads.values())
        for (const part of upload.parts.values()) referenced.add(part.file);
    }
    for (const file of readdirSync(this.objectsDir)) {
      if (!referenced.has(file)) rmSync(join(this.objectsDir, file), { force: true });
    }
  }

  /** Writes the state file (on stop). */
  async save(): Promise<void> {
    const buckets: SavedBucket[] = [...this.buckets.values()].map(
      ({ objects, keys: _keys, uploads, ...rest }) => ({
        ...rest,
        objects: [...objects],
        uploads: [...uploads.values()].map((upload) => ({ ...upload, parts: [...upload.parts.values()] })),
      }),
    );
    const aside = `${this.statePath}.tmp`;
    await writeFile(aside, JSON.stringify({ version: STATE_VERSION, buckets }));
    await rename(aside, this.statePath);
  }

  /** A fresh path for an incoming body. */
  tempPath(): string {
    return join(this.tmpDir, randomUUID());
  }

  /** Moves a completely received body into the objects directory; returns its file name. */
  async commitFile(tempPath: string): Promise<string> {
    const file = randomUUID();
    await rename(tempPath, join(this.objectsDir, file));
    return file;
  }

  filePath(file: string): string {
    return join(this.objectsDir, file);
  }

  /** The bucket with this name, or undefined (no error: for IAM lookups). */
  findBucket(name: string): Bucket | undefined {
    return this.buckets.get(name);
  }

  bucket(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw s3Errors.noSuchBucket(name);
    return bucket;
  }

  /** The newest version of a key (possibly a delete marker). */
  latest(bucket: Bucket, key: string): ObjectVersion | undefined {
    return bucket.objects.get(key)?.[0];
  }

  findVersion(bucket: Bucket, key: string, versionId: string): ObjectVersion | undefined {
    return bucket.objects.get(key)?.find((version) => version.versionId === versionId);
  }

  /** The id the next write gets: random while versioning is enabled, else `null`. */
  nextVersionId(bucket: Bucket): string {
    return bucket.versioning === 'Enabled' ? newVersionId() : 'null';
  }

  /** Makes `version` the newest of its key; a `null` version replaces the previous `null` one. */
  addVersion(bucket: Bucket, key: string, version: ObjectVersion): void {
    let versions = bucket.objects.get(key);
    if (!versions) {
      versions = [];
      bucket.objects.set(key, versions);
      bucket.keys.insert(key);
    }
    if (version.versionId === 'null') {
      const index = versions.findIndex((existing) => existing.versionId === 'null');
      if (index !== -1) this.discard(versions.splice(index, 1)[0]!);
    }
    versions.unshift(version);
  }

  /** Removes one version for good; returns it, or undefined when there was none. */
  removeVersion(bucket: Bucket, key: string, versionId: string): ObjectVersion | undefined {
    const versions = bucket.objects.get(key);
    const index = versions?.findIndex((version) => version.versionId === versionId) ?? -1;
    if (!versions || index === -1) return undefined;
    const [removed] = versions.splice(index, 1);
    if (versions.length === 0) {
      bucket.objects.delete(key);
      bucket.keys.remove(key);
    }
    this.discard(removed!);
    return removed;
  }

  /** Keeps a version's files on disk while a response streams them. */
  retain(version: ObjectVersion): void {
    this.readers.set(version, (this.readers.get(version) ?? 0) + 1);
  }

  release(version: ObjectVersion): void {
    const count = (this.readers.get(version) ?? 1) - 1;
    if (count > 0) {
      this.readers.set(version, count);
      return;
    }
    this.readers.delete(version);
    if (this.pendingRemoval.delete(version))
      this.removeFiles(version.segments.map((segment) => segment.file));
  }

  /** Deletes a version's files now, or when its last reader is done. */
  discard(version: ObjectVersion): void {
    if (this.readers.has(version)) this.pendingRemoval.add(version);
    else this.removeFiles(version.segments.map((segment) => segment.file));
  }

  /** Deletes files no version refers to (replaced parts, aborted uploads). */
  removeFiles(files: readonly string[]): void {
    for (const file of files) {
      rm(this.filePath(file), { force: true }).catch((error: unknown) => {
        console.error(`[sandbox:s3] could not remove ${file}:`, error);
      });
    }
  }

  /** Removes a bucket's files (on DeleteBucket, the bucket holds only uploads by then). */
  dropBucket(bucket: Bucket): void {
    for (const upload of bucket.uploads.values())
      this.removeFiles([...upload.parts.values()].map((part) => part.file));
    // Parts still arriving for these uploads then find no upload and remove their own files.
    bucket.uploads.clear();
    this.buckets.delete(bucket.name);
  }
}
