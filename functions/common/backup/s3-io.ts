/**
 * The S3 calls backups make, in one place: paged listings, streamed reads, streamed multipart
 * writes with tags and SSE-KMS, small JSON documents (optionally create-only), batched deletes.
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
  type UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { isErrorNamed } from '../runtime/errors.ts';
import { bareEtag } from './manifest.ts';

/** An object as a listing shows it. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  /** Without quotes. */
  readonly etag: string;
  readonly lastModified: string;
}

export interface ListPage {
  readonly objects: ListedObject[];
  /** Pass as `startAfter` for the next page; undefined when the listing is complete. */
  readonly next: string | undefined;
}

/** One page of a listing in key order, starting after `startAfter`. */
export async function listPage(
  s3: S3Client,
  bucket: string,
  prefix: string,
  startAfter: string | undefined,
  maxKeys = 1000,
): Promise<ListPage> {
  const page = await s3.send(
    new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: prefix,
      MaxKeys: maxKeys,
      ...(startAfter === undefined ? {} : { StartAfter: startAfter }),
    }),
  );
  const objects = (page.Contents ?? [])
    .filter((object) => object.Key !== undefined)
    .map((object) => ({
      key: object.Key!,
      size: object.Size ?? 0,
      etag: bareEtag(object.ETag),
      lastModified: (object.LastModified ?? new Date(0)).toISOString(),
    }));
  const last = objects[objects.length - 1];
  return { objects, next: page.IsTruncated && last ? last.key : undefined };
}

/** Every object under a prefix, page by page (for small prefixes: one backup's parts, its work). */
export async function* listAll(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<ListedObject> {
  let startAfter: string | undefined;
  do {
    const page = await listPage(s3, bucket, prefix, startAfter);
    yield* page.objects;
    startAfter = page.next;
  } while (startAfter !== undefined);
}

/** What a GetObject returned besides the body. */
export interface ObjectHead {
  readonly etag: string;
  readonly versionId?: string;
  readonly size: number;
  readonly lastModified: string;
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly contentDisposition?: string;
  readonly contentLanguage?: string;
  readonly cacheControl?: string;
  readonly metadata?: Record<string, string>;
}

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Bytes `start` to `start + length - 1` of an object. */
export interface ByteRange {
  readonly start: number;
  readonly length: number;
}

/**
 * Streams an object (or a range of it: `head.size` is then the range's length, shorter when the
 * object ends early), or returns undefined when it does not exist. A range that starts past the
 * end comes back as an empty body.
 */
export async function getStream(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId?: string,
  range?: ByteRange,
): Promise<{ head: ObjectHead; body: Readable } | undefined> {
  if (range && range.length === 0) {
    const head = await headObject(s3, bucket, key);
    return head ? { head: { ...head, size: 0 }, body: Readable.from([]) } : undefined;
  }
  try {
    const response = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(versionId ? { VersionId: versionId } : {}),
        ...(range ? { Range: `bytes=${range.start}-${range.start + range.length - 1}` } : {}),
      }),
    );
    const metadata =
      response.Metadata && Object.keys(response.Metadata).length ? response.Metadata : undefined;
    const head: ObjectHead = defined({
      etag: bareEtag(response.ETag),
      versionId: response.VersionId,
      size: response.ContentLength ?? 0,
      lastModified: (response.LastModified ?? new Date(0)).toISOString(),
      contentType: response.ContentType,
      contentEncoding: response.ContentEncoding,
      contentDisposition: response.ContentDisposition,
      contentLanguage: response.ContentLanguage,
      cacheControl: response.CacheControl,
      metadata,
    });
    return { head, body: response.Body as Readable };
  } catch (error) {
    if (isErrorNamed(error, 'NoSuchKey', 'NotFound')) return undefined;
    if (range && isErrorNamed(error, 'InvalidRange')) {
      const head = await headObject(s3, bucket, key);
      return head ? { head: { ...head, size: 0 }, body: Readable.from([]) } : undefined;
    }
    throw error;
  }
}

/** An object's size, ETag and time (HEAD), or undefined when it does not exist. */
export async function headObject(s3: S3Client, bucket: string, key: string): Promise<ObjectHead | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      etag: bareEtag(head.ETag),
      size: head.ContentLength ?? 0,
      lastModified: (head.LastModified ?? new Date(0)).toISOString(),
    };
  } catch (error) {
    if (isErrorNamed(error, 'NotFound', 'NoSuchKey')) return undefined;
    throw error;
  }
}

/** A whole (small) object's bytes, or undefined when it does not exist. */
export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer | undefined> {
  const found = await getStream(s3, bucket, key);
  if (!found) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of found.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Whether an object exists (HEAD). */
export async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isErrorNamed(error, 'NotFound', 'NoSuchKey')) return false;
    throw error;
  }
}

/** An object's user metadata (`x-amz-meta-*`, keys lower case), or undefined when it does not exist. */
export async function headMetadata(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<Record<string, string> | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata ?? {};
  } catch (error) {
    if (isErrorNamed(error, 'NotFound', 'NoSuchKey')) return undefined;
    throw error;
  }
}

/** An object's ETag (without quotes), or undefined when it does not exist. */
export async function headEtag(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return bareEtag(head.ETag);
  } catch (error) {
    if (isErrorNamed(error, 'NotFound', 'NoSuchKey')) return undefined;
    throw error;
  }
}

/** How Caretaker writes into the backup bucket: tags and SSE-KMS with the stack key. */
export interface WriteOptions {
  /** `caretaker:*` tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** SSE-KMS with this key and an S3 bucket key; none for a restore target (its own default applies). */
  readonly sseKeyArn?: string;
  readonly contentType?: string;
  /** User metadata (`x-amz-meta-*`), e.g. who wrote a manifest part. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** S3 allows these characters in tag values; anything else becomes `_`. */
function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256);
}

/** The `x-amz-tagging` header value for a tag set. */
export function taggingHeader(tags: Readonly<Record<string, string>>): string {
  return new URLSearchParams(
    Object.entries(tags).map(([key, value]): [string, string] => [key, tagValue(value)]),
  ).toString();
}

/** The headers of a write into the backup bucket: tags, SSE-KMS and content type. */
export function writeParams(options: WriteOptions): Partial<PutObjectCommandInput> {
  return {
    ...(Object.keys(options.tags).length ? { Tagging: taggingHeader(options.tags) } : {}),
    ...(options.sseKeyArn
      ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: options.sseKeyArn, BucketKeyEnabled: true }
      : {}),
    ...(options.contentType ? { ContentType: options.contentType } : {}),
    ...(options.metadata ? { Metadata: { ...options.metadata } } : {}),
  };
}

/**
 * Marks a write's body as unsigned (`x-amz-content-sha256: UNSIGNED-PAYLOAD`). Otherwise the SDK
 * hashes every buffered body with SHA-256 for the SigV4 signature (over HTTPS too) — a second
 * pass over every byte stored, on the client and again at the server. The body stays protected
 * by its CRC32 checksum (checked by S3), by TLS, and for backups by the Encryption SDK's own
 * authentication, which verification checks.
 */
export function unsignedPayload<C extends PutObjectCommand | UploadPartCommand>(command: C): C {
  (command.middlewareStack as unknown as BuildStack).add(
    (next) => (args) => {
      if (args.request.headers) args.request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'caretakerUnsignedPayload', override: true },
  );
  return command;
}

/** The one middleware-stack call {@link unsignedPayload} makes (the commands' own type is a union of overloads). */
interface BuildStack {
  add(
    middleware: (
      next: (args: { request: { headers?: Record<string, string> } }) => Promise<unknown>,
    ) => (args: { request: { headers?: Record<string, string> } }) => Promise<unknown>,
    options: { step: 'build'; name: string; override: boolean },
  ): void;
}

/** Thrown by {@link putBytes} with `createOnly` when the object already exists. */
export class AlreadyExistsError extends Error {
  override readonly name = 'AlreadyExistsError';
}

/** Writes a small object; with `createOnly`, only if nothing is at the key (If-None-Match: *). */
export async function putBytes(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array,
  options: WriteOptions & { readonly createOnly?: boolean },
): Promise<void> {
  try {
    await s3.send(
      unsignedPayload(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.byteLength,
          ...writeParams(options),
          ...(options.createOnly ? { IfNoneMatch: '*' } : {}),
        }),
      ),
    );
  } catch (error) {
    if (options.createOnly && isErrorNamed(error, 'PreconditionFailed', 'ConditionalRequestConflict')) {
      throw new AlreadyExistsError(`s3://${bucket}/${key} already exists`, { cause: error });
    }
    throw error;
  }
}

/** Multipart settings for streamed writes: memory per object is about (queueSize + 1) × partSize. */
export interface UploadTuning {
  readonly partSize: number;
  readonly queueSize: number;
}

export const DEFAULT_UPLOAD_TUNING: UploadTuning = { partSize: 8 * 1024 * 1024, queueSize: 4 };

/** Streams `body` to S3 (one PUT when it fits a part, else multipart); a body error aborts it. */
export async function uploadStream(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Readable,
  options: WriteOptions & {
    readonly tuning?: UploadTuning;
    readonly metadata?: Record<string, string>;
    readonly headers?: Partial<PutObjectCommandInput>;
  },
): Promise<void> {
  const tuning = options.tuning ?? DEFAULT_UPLOAD_TUNING;
  const upload = new Upload({
    client: s3,
    queueSize: tuning.queueSize,
    partSize: tuning.partSize,
    leavePartsOnError: false,
    params: {
      Bucket: bucket,
      Key: key,
      Body: body,
      ...options.headers,
      ...writeParams(options),
      ...(options.metadata && Object.keys(options.metadata).length ? { Metadata: options.metadata } : {}),
    },
  });
  await upload.done();
}

/** Deletes keys, 1,000 per request; throws naming the keys S3 refused. */
export async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 1000) {
    const chunk = keys.slice(start, start + 1000);
    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: chunk.map((key) => ({ Key: key })), Quiet: true },
      }),
    );
    const errors = result.Errors ?? [];
    if (errors.length) {
      throw new Error(
        `S3 refused to delete ${errors.length} object(s) in ${bucket}: ${errors
          .slice(0, 5)
          .map((e) => `${e.Key} (${e.Code})`)
          .join(', ')}`,
      );
    }
  }
}
