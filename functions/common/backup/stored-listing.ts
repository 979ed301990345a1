/**
 * Walks the listing of one backup's `objects/` (or `packs/`) prefix alongside a manifest, in key
 * order, to find missing, resized and extra stored objects with one LIST request per thousand
 * objects instead of a HEAD per object. Works because stored keys are assigned in the manifest's
 * order; the members of a pack follow each other, so a key may be sought again right after.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { compareKeys } from './keys.ts';
import { headObject, type ListedObject, listPage } from './s3-io.ts';

export interface SeekResult {
  /** The listed object with exactly the sought key, if any. */
  readonly found?: ListedObject;
  /** Listed objects before the sought key that nothing asked for. */
  readonly skipped: ListedObject[];
}

export class StoredListing {
  private page: ListedObject[] = [];
  private position = 0;
  private exhausted = false;
  /** The object found last, for the next members of the same pack. */
  private last: ListedObject | undefined;
  /** The last key consumed (the listing resumes after it). */
  cursor: string | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    startAfter?: string,
  ) {
    this.cursor = startAfter;
  }

  private async peek(): Promise<ListedObject | undefined> {
    if (this.position < this.page.length) return this.page[this.position];
    if (this.exhausted) return undefined;
    const result = await listPage(this.s3, this.bucket, this.prefix, this.cursor);
    this.page = result.objects;
    this.position = 0;
    if (result.next === undefined) this.exhausted = true;
    return this.page[0];
  }

  private consume(object: ListedObject): void {
    this.position++;
    this.cursor = object.key;
  }

  /** Advances to `key`, returning it if listed and whatever was passed over. */
  async seek(key: string): Promise<SeekResult> {
    if (this.last?.key === key) return { found: this.last, skipped: [] };
    if (this.cursor === key) {
      // Consumed by an earlier call: a pack whose members a continuation split.
      const head = await headObject(this.s3, this.bucket, key);
      this.last = head && { key, size: head.size, etag: head.etag, lastModified: head.lastModified };
      return this.last ? { found: this.last, skipped: [] } : { skipped: [] };
    }
    const skipped: ListedObject[] = [];
    for (let next = await this.peek(); next; next = await this.peek()) {
      const order = compareKeys(next.key, key);
      if (order > 0) break;
      this.consume(next);
      if (order === 0) {
        this.last = next;
        return { found: next, skipped };
      }
      skipped.push(next);
    }
    return { skipped };
  }

  /** Consumes up to `limit` of the remaining objects (for the extras at the end). */
  async rest(limit: number): Promise<{ objects: ListedObject[]; more: boolean }> {
    const objects: ListedObject[] = [];
    for (let next = await this.peek(); next && objects.length < limit; next = await this.peek()) {
      this.consume(next);
      objects.push(next);
    }
    return { objects, more: (await this.peek()) !== undefined };
  }
}
