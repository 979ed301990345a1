/**
 * Reads one stored object back (or its range of a pack), streaming: S3 GetObject → Encryption SDK
 * decryption (requiring an encryption context the manifest implies: set and storing backup, and
 * for a copy stored by format 1 also the source key) → SHA-256 and size of the plaintext, checked
 * against the manifest before the stream ends. A consumer (verification discards the plaintext,
 * restore uploads it) therefore never sees the end of a stream that did not verify, so an upload
 * fed by it is aborted instead of completed.
 */
import type { Readable } from 'node:stream';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { AccessDeniedError } from '../runtime/errors.ts';
import { type BackupCrypto, classifyDecryptError, ExpectedContextError, MAX_FRAME_LENGTH } from './crypto.ts';
import { acceptedObjectContexts, CONTEXT_KEYS, type ManifestEntry } from './manifest.ts';
import { IntegrityProblem, type Problem } from './problems.ts';
import { getStream } from './s3-io.ts';
import { Meter } from './store-object.ts';

export interface ReadSource {
  readonly s3: S3Client;
  readonly crypto: BackupCrypto;
  /** The backup bucket. */
  readonly bucket: string;
}

export interface ReadRequest {
  readonly set: string;
  /** The backup being verified or restored (findings are reported against it). */
  readonly backupId: string;
  readonly entry: ManifestEntry;
  /** The frame length the manifest records; larger frames are refused. */
  readonly frameLength?: number;
}

function isTransportError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return '$metadata' in error || typeof (error as { code?: unknown }).code === 'string';
}

/** A context as findings show it: the storing backup, `:key` (format 1), and a foreign set. */
function contextText(context: Readonly<Record<string, string>>, set: string): string {
  const sourceKey = context[CONTEXT_KEYS.sourceKey];
  const otherSet = context[CONTEXT_KEYS.set] === set ? '' : ` (set ${context[CONTEXT_KEYS.set] ?? '?'})`;
  return `${context[CONTEXT_KEYS.backupId] ?? '?'}${sourceKey === undefined ? '' : `:${sourceKey}`}${otherSet}`;
}

function findingFor(request: ReadRequest, error: unknown): Problem {
  const { entry, backupId } = request;
  const base = { backupId, key: entry.key, storedKey: entry.storedKey };
  if (error instanceof ExpectedContextError) {
    return {
      ...base,
      problem: 'wrong-context',
      expected: entry.storedBackupId,
      actual: contextText(error.actual, request.set),
    };
  }
  const detail = error instanceof Error ? error.message : String(error);
  switch (classifyDecryptError(error)) {
    case 'key-access':
      throw new AccessDeniedError(
        `KMS refused to decrypt the data key of ${entry.storedKey}: ${detail}`,
        base,
        {
          cause: error,
        },
      );
    case 'wrong-key':
      return { ...base, problem: 'wrong-key', detail };
    case 'truncated':
      return { ...base, problem: 'truncated-object', detail };
    default:
      return { ...base, problem: 'tampered-object', detail };
  }
}

/**
 * Streams the verified plaintext of one stored object into `consume`. Throws an
 * {@link IntegrityProblem} naming the object when anything does not match; transport and
 * consumer errors pass through unchanged.
 */
export async function readVerified(
  source: ReadSource,
  request: ReadRequest,
  consume: (plaintext: Readable) => Promise<void>,
): Promise<void> {
  const { entry, backupId } = request;
  const base = { backupId, key: entry.key, storedKey: entry.storedKey };
  // A copy inside a pack is read alone, by its range.
  const range =
    entry.storedOffset === undefined ? undefined : { start: entry.storedOffset, length: entry.storedSize };
  const got = await getStream(source.s3, source.bucket, entry.storedKey, undefined, range);
  if (!got) throw new IntegrityProblem({ ...base, problem: 'missing-object' });
  if (got.head.size !== entry.storedSize) {
    got.body.destroy();
    throw new IntegrityProblem({
      ...base,
      problem: got.head.size < entry.storedSize ? 'truncated-object' : 'stored-size-mismatch',
      expected: entry.storedSize,
      actual: got.head.size,
    });
  }
  const decrypt = source.crypto.decryptStream(
    acceptedObjectContexts(request.set, entry),
    Math.min(MAX_FRAME_LENGTH, request.frameLength ?? MAX_FRAME_LENGTH),
  );
  const meter = new Meter(true);
  const check = new Transform({
    transform(chunk, _encoding, callback) {
      callback(null, chunk);
    },
    flush(callback) {
      if (meter.bytes !== entry.size) {
        callback(
          new IntegrityProblem({
            ...base,
            problem: 'size-mismatch',
            expected: entry.size,
            actual: meter.bytes,
          }),
        );
        return;
      }
      const digest = meter.digest();
      if (digest !== entry.sha256) {
        callback(
          new IntegrityProblem({
            ...base,
            problem: 'checksum-mismatch',
            expected: entry.sha256,
            actual: digest,
          }),
        );
        return;
      }
      callback();
    },
  });
  const sink = new PassThrough({ highWaterMark: 1024 * 1024 });
  const results = await Promise.allSettled([
    pipeline(got.body, decrypt, meter, check, sink),
    consume(sink).catch((error: unknown) => {
      sink.destroy(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }),
  ]);
  const failures = results.filter((result) => result.status === 'rejected').map((r) => r.reason as unknown);
  if (!failures.length) return;
  const integrity = failures.find((error) => error instanceof IntegrityProblem);
  if (integrity) throw integrity;
  const first = failures[0];
  if (isTransportError(first)) throw first;
  throw new IntegrityProblem(findingFor(request, first), { cause: first });
}

/** Reads and checks one stored object, discarding the plaintext; returns the finding or undefined. */
export async function checkStoredObject(
  source: ReadSource,
  request: ReadRequest,
): Promise<Problem | undefined> {
  try {
    await readVerified(source, request, async (plaintext) => {
      for await (const _chunk of plaintext) {
        // Discard: only the checks in the stream matter.
      }
    });
    return undefined;
  } catch (error) {
    if (error instanceof IntegrityProblem) return error.finding;
    throw error;
  }
}
