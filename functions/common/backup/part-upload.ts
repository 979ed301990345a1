/**
 * Streams a body into S3 as one PUT (when it fits a part) or a multipart upload whose parts are
 * filled in place: chunks are copied once into part-sized buffers that are reused for the next
 * parts, while up to `queueSize` parts are on the wire. lib-storage's Upload concatenates every
 * part into a freshly allocated buffer instead; profiling a 1 GiB backup showed that allocation
 * (page faults on new memory) and the garbage collection it drives as the largest CPU costs after
 * hashing and encryption (docs/backup-scaling.md). Any failure aborts the multipart upload, so no
 * half-written object is ever completed.
 */

import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { logger } from '../runtime/observability.ts';
import { type UploadTuning, unsignedPayload, type WriteOptions, writeParams } from './s3-io.ts';

/** S3 allows at most 10,000 parts per upload. */
const MAX_PARTS = 10_000;

/** Collects chunks until a part is full; hands out full parts as reused buffers. */
class PartFiller {
  private readonly free: Buffer[] = [];
  private current: Buffer | undefined;
  private filled = 0;
  /** Whether the body outgrew one part (parts are being handed out). */
  private started = false;
  /** Chunks held while the total still fits one part (it may never need a part buffer). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly partSize: number) {}

  /** Adds a chunk; returns the parts it completed. */
  add(chunk: Buffer): Buffer[] {
    if (!this.started && this.pendingBytes + chunk.length <= this.partSize) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return [];
    }
    const full: Buffer[] = [];
    const fill = (bytes: Buffer) => {
      let offset = 0;
      while (offset < bytes.length) {
        // Taken only when bytes arrive: while a full part waits for a slot, no buffer is held for the next.
        this.current ??= this.take();
        const copied = bytes.copy(this.current, this.filled, offset);
        this.filled += copied;
        offset += copied;
        if (this.filled === this.partSize) {
          full.push(this.current);
          this.current = undefined;
          this.filled = 0;
        }
      }
    };
    if (!this.started) {
      this.started = true;
      for (const held of this.pending) fill(held);
      this.pending = [];
      this.pendingBytes = 0;
    }
    fill(chunk);
    return full;
  }

  /** Whether adding `length` more bytes completes a part. */
  completesPart(length: number): boolean {
    return this.started ? this.filled + length >= this.partSize : this.pendingBytes + length > this.partSize;
  }

  /** Whether no part was ever handed out: the whole body is in `rest()`. */
  get single(): boolean {
    return !this.started;
  }

  /** What is left after the last full part (a view into a part buffer, or the held chunks). */
  rest(): Buffer {
    if (!this.started) return this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    return this.current ? this.current.subarray(0, this.filled) : Buffer.alloc(0);
  }

  /** Returns an uploaded part's buffer for reuse. */
  release(part: Buffer): void {
    if (part.length === this.partSize) this.free.push(part);
  }

  private take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.partSize);
  }
}

/** What was uploaded. */
export interface UploadedBody {
  readonly bytes: number;
}

type UploadOptions = WriteOptions & { readonly tuning: UploadTuning };

/** One upload, fed chunk by chunk: `write` waits while every slot is busy; `finish` or `abort` ends it. */
class PartUploader {
  private readonly params;
  private readonly filler: PartFiller;
  private bytes = 0;
  private parts = 0;
  private uploadId: string | undefined;
  private readonly done: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly options: UploadOptions,
  ) {
    this.params = { Bucket: bucket, Key: key, ...writeParams(options) };
    this.filler = new PartFiller(options.tuning.partSize);
  }

  async write(chunk: Buffer): Promise<void> {
    this.bytes += chunk.length;
    if (this.filler.completesPart(chunk.length)) {
      // Wait for a slot first: the finished part goes straight out and its buffer is not joined
      // by a second one for the rest of the chunk while it waits.
      this.uploadId ??= (
        await this.s3.send(new CreateMultipartUploadCommand({ ...this.params, ChecksumAlgorithm: 'CRC32' }))
      ).UploadId;
      await this.slot();
    }
    for (const part of this.filler.add(chunk)) {
      await this.slot();
      this.send(part, true);
    }
    if (this.failure) throw this.failure;
  }

  async finish(): Promise<UploadedBody> {
    if (this.filler.single) {
      const whole = this.filler.rest();
      await this.s3.send(
        unsignedPayload(new PutObjectCommand({ ...this.params, Body: whole, ContentLength: whole.length })),
      );
      return { bytes: this.bytes };
    }
    const last = this.filler.rest();
    if (last.length) this.send(last, false);
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    this.done.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: this.done },
      }),
    );
    return { bytes: this.bytes };
  }

  /** Waits for the parts in flight, then aborts the multipart upload (if one was started). */
  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    if (!this.uploadId) return;
    const { bucket, key, uploadId } = this;
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch((abortError: unknown) => {
        // The upload stays incomplete (never visible as an object); a bucket lifecycle rule
        // for incomplete multipart uploads removes its parts.
        logger.warn('Could not abort a failed multipart upload', { key, uploadId, error: abortError });
      });
  }

  private async slot(): Promise<void> {
    while (this.inFlight.size >= this.options.tuning.queueSize) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private send(part: Buffer, reusable: boolean): void {
    const number = ++this.parts;
    if (number > MAX_PARTS) {
      throw new Error(
        `${this.key} needs more than ${MAX_PARTS} parts of ${this.options.tuning.partSize} bytes`,
      );
    }
    const sent: Promise<void> = this.s3
      .send(
        unsignedPayload(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: this.key,
            UploadId: this.uploadId,
            PartNumber: number,
            Body: part,
            ContentLength: part.length,
            ChecksumAlgorithm: 'CRC32',
          }),
        ),
      )
      .then((result) => {
        this.done.push({
          PartNumber: number,
          ETag: result.ETag,
          ...(result.ChecksumCRC32 ? { ChecksumCRC32: result.ChecksumCRC32 } : {}),
        });
        if (reusable) this.filler.release(part);
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }
}

/**
 * Uploads everything `body` yields to `key`. Memory: at most `queueSize` parts in flight plus the
 * one being filled (the body is not read while a full part waits for a slot). Rejects (after
 * aborting the multipart upload) when the body or any request fails.
 */
export async function uploadBody(
  s3: S3Client,
  bucket: string,
  key: string,
  body: AsyncIterable<Buffer>,
  options: UploadOptions,
): Promise<UploadedBody> {
  const uploader = new PartUploader(s3, bucket, key, options);
  try {
    for await (const chunk of body) await uploader.write(chunk);
    return await uploader.finish();
  } catch (error) {
    await uploader.abort();
    throw error;
  }
}

/**
 * The same upload as the end of a pipeline: a Writable taking chunks as they are piped to it.
 * Async iteration of a stream concatenates whatever chunks are buffered into a fresh buffer on
 * every read; piping hands them over one by one, so each byte is copied once, into a part.
 * `uploaded` settles after the pipeline ends (with the result) or fails (once the upload is aborted).
 */
export function uploadSink(
  s3: S3Client,
  bucket: string,
  key: string,
  options: UploadOptions,
): { readonly sink: Writable; readonly uploaded: () => UploadedBody } {
  const uploader = new PartUploader(s3, bucket, key, options);
  let result: UploadedBody | undefined;
  const sink = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      uploader.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      uploader.finish().then((uploaded) => {
        result = uploaded;
        callback();
      }, callback);
    },
    destroy(error, callback) {
      if (result) callback(error);
      else uploader.abort().then(() => callback(error));
    },
  });
  return {
    sink,
    uploaded: () => {
      if (!result) throw new Error(`The upload of ${key} did not finish`);
      return result;
    },
  };
}
