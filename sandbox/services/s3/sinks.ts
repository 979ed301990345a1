/**
 * Destinations for received bodies: a temporary file (object data) or memory (small XML bodies).
 */

import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { AwsError } from '../../core/types.ts';
import type { PayloadSink } from './payload.ts';

/** Large enough that the socket is rarely paused while the thread pool writes (writev batches). */
const FILE_BUFFER_BYTES = 4 * 1024 * 1024;

/** Streams to a new file; `close()` flushes it, `discard()` removes it. */
export class FileSink implements PayloadSink {
  private readonly stream: WriteStream;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'wx', highWaterMark: FILE_BUFFER_BYTES });
    this.stream.on('error', (error) => {
      this.failure = error;
    });
  }

  write(data: Buffer): boolean {
    if (this.failure) throw this.failure;
    return this.stream.write(data);
  }

  async drain(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.writableNeedDrain) return;
    await once(this.stream, 'drain');
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.writableFinished) {
      this.stream.end();
      await once(this.stream, 'finish');
    }
    if (!this.stream.closed) await once(this.stream, 'close');
  }

  /** Closes (if open) and deletes the file. */
  async discard(): Promise<void> {
    this.stream.destroy();
    if (!this.stream.closed) await once(this.stream, 'close').catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

/** Collects a small body in memory, refusing more than `limit` bytes. */
export class MemorySink implements PayloadSink {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  write(data: Buffer): boolean {
    this.size += data.length;
    if (this.size > this.limit) {
      throw new AwsError('MaxMessageLengthExceeded', 'Your request was too big.', 400, {
        MaxMessageLengthBytes: String(this.limit),
      });
    }
    this.chunks.push(data);
    return true;
  }

  async drain(): Promise<void> {}

  body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }
}
