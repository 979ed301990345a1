/**
 * Streams a body into S3 as one PUT (when it fits a part) or a multipart upload whose parts are
 * filled in place: chunks are copied once into part-sized buffers that are reused for the next
 * parts, while up to `queueSize` parts are on the wire. lib-storage's Upload concatenates every
 * part into a freshly allocated buffer instead; profiling a 1 GiB backup showed that allocation
 * (page faults on new memory) and the garbage collection it drives as the largest CPU costs after
 * hashing and encryption (docs/backup-scaling.md). Any failure aborts the multipart upload, so no
 * half-written object is ever completed.
 */
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { logger } from '../observability.ts';
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

/**
 * Uploads everything `body` yields to `key`. Memory: at most `queueSize` parts in flight plus the
 * one being filled (the body is not read while a full part waits for a slot). Rejects (after aborting the multipart upload) when the body or any request fails.
 */
export async function uploadBody(
  s3: S3Client,
  bucket: string,
  key: string,
  body: AsyncIterable<Buffer>,
  options: WriteOptions & { readonly tuning: UploadTuning },
): Promise<UploadedBody> {
  const { partSize, queueSize } = options.tuning;
  const params = { Bucket: bucket, Key: key, ...writeParams(options) };
  const filler = new PartFiller(partSize);
  let bytes = 0;
  let uploadId: string | undefined;
  const done: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const sendPart = (part: Buffer, number: number, reusable: boolean) => {
    if (number > MAX_PARTS) throw new Error(`${key} needs more than ${MAX_PARTS} parts of ${partSize} bytes`);
    const sent: Promise<void> = s3
      .send(
        unsignedPayload(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: number,
            Body: part,
            ContentLength: part.length,
            ChecksumAlgorithm: 'CRC32',
          }),
        ),
      )
      .then((result) => {
        done.push({
          PartNumber: number,
          ETag: result.ETag,
          ...(result.ChecksumCRC32 ? { ChecksumCRC32: result.ChecksumCRC32 } : {}),
        });
        if (reusable) filler.release(part);
      })
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  };

  try {
    let parts = 0;
    for await (const chunk of body) {
      bytes += chunk.length;
      if (filler.completesPart(chunk.length)) {
        // Wait for a slot first: the finished part goes straight out and its buffer is not joined
        // by a second one for the rest of the chunk while it waits.
        uploadId ??= (
          await s3.send(new CreateMultipartUploadCommand({ ...params, ChecksumAlgorithm: 'CRC32' }))
        ).UploadId;
        while (inFlight.size >= queueSize) await Promise.race(inFlight);
      }
      for (const part of filler.add(chunk)) {
        while (inFlight.size >= queueSize) await Promise.race(inFlight);
        if (failure) throw failure;
        sendPart(part, ++parts, true);
      }
      if (failure) throw failure;
    }
    if (filler.single) {
      const whole = filler.rest();
      await s3.send(
        unsignedPayload(new PutObjectCommand({ ...params, Body: whole, ContentLength: whole.length })),
      );
      return { bytes };
    }
    const last = filler.rest();
    if (last.length) sendPart(last, ++parts, false);
    await Promise.all(inFlight);
    if (failure) throw failure;
    done.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: done },
      }),
    );
    return { bytes };
  } catch (error) {
    await Promise.allSettled(inFlight);
    if (uploadId) {
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch((abortError: unknown) => {
          // The upload stays incomplete (never visible as an object); a bucket lifecycle rule
          // for incomplete multipart uploads removes its parts.
          logger.warn('Could not abort a failed multipart upload', { key, uploadId, error: abortError });
        });
    }
    throw error;
  }
}
