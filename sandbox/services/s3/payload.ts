/**
 * Receiving request bodies as S3 does: plain or aws-chunked (with trailing checksums), hashed
 * incrementally (MD5 for the ETag, SHA-256 when the client signed the payload, the flexible
 * checksum it asked for) and validated against what the client declared, while the bytes go on
 * to a sink (a file, or memory for small XML bodies).
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SandboxRequest } from '../../core/types.ts';
import { AwsChunkedDecoder } from './aws-chunked.ts';
import {
  type ChecksumAlgorithm,
  checksumHeader,
  createHasher,
  decodeChecksum,
  type Hasher,
  parseAlgorithm,
} from './checksums.ts';
import { s3Errors } from './errors.ts';

const STREAMING = new Set([
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER',
]);
const SHA256_HEX = /^[0-9a-f]{64}$/;
const NOT_VALUE_HEADERS = new Set(['x-amz-checksum-algorithm', 'x-amz-checksum-type', 'x-amz-checksum-mode']);

/** What the headers say about the body, checked before any byte is read. */
export interface PayloadSpec {
  readonly chunked: boolean;
  /** Decoded body length the client declared. */
  readonly length: number;
  /** Hex SHA-256 the client signed, to verify. */
  readonly sha256?: string;
  readonly contentMd5?: Buffer;
  /** The flexible checksum sent, in a header (`expected`) or announced as a trailer. */
  readonly checksum?: {
    readonly algorithm: ChecksumAlgorithm;
    readonly expected?: Buffer;
    readonly trailer?: string;
  };
}

/** The received body's size and digests, all validated. */
export interface ReceivedPayload {
  readonly size: number;
  readonly md5: Buffer;
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly digest: Buffer };
}

/** Where received bytes go. `write` returns false when the caller must await `drain()`. */
export interface PayloadSink {
  write(data: Buffer): boolean;
  drain(): Promise<void>;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function algorithmOfHeader(name: string): ChecksumAlgorithm {
  const suffix = name.slice('x-amz-checksum-'.length);
  if (suffix === 'crc64nvme') throw s3Errors.notImplemented('CRC64NVME checksums');
  const algorithm = parseAlgorithm(suffix);
  if (!algorithm)
    throw s3Errors.invalidRequest('The algorithm type you specified in x-amz-checksum- header is invalid.');
  return algorithm;
}

/**
 * Reads and checks the body-related headers. `maxBytes` bounds the declared length. With
 * `checksumHeadersDescribeObject` (CompleteMultipartUpload), `x-amz-checksum-*` headers carry the
 * object's checksum, not the request body's, and are left to the operation.
 */
export function payloadSpec(
  headers: IncomingHttpHeaders,
  maxBytes: number,
  checksumHeadersDescribeObject = false,
): PayloadSpec {
  const contentSha = header(headers, 'x-amz-content-sha256');
  const chunked = contentSha?.startsWith('STREAMING-') === true;
  if (chunked && !STREAMING.has(contentSha ?? '')) {
    throw s3Errors.invalidArgument(
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
      'x-amz-content-sha256',
      contentSha,
    );
  }
  if (
    !chunked &&
    contentSha !== undefined &&
    contentSha !== 'UNSIGNED-PAYLOAD' &&
    !SHA256_HEX.test(contentSha)
  ) {
    throw s3Errors.invalidArgument(
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
      'x-amz-content-sha256',
      contentSha,
    );
  }

  const length = declaredLength(headers, chunked);
  if (length > maxBytes) throw s3Errors.entityTooLarge(length, maxBytes);

  const trailerName = header(headers, 'x-amz-trailer')?.trim().toLowerCase();
  let checksum: PayloadSpec['checksum'];
  if (trailerName) {
    if (!chunked || !contentSha?.endsWith('-TRAILER') || !trailerName.startsWith('x-amz-checksum-')) {
      throw s3Errors.invalidRequest('The value specified in the x-amz-trailer header is not supported');
    }
    checksum = { algorithm: algorithmOfHeader(trailerName), trailer: trailerName };
  }
  for (const name of Object.keys(headers)) {
    if (checksumHeadersDescribeObject || !name.startsWith('x-amz-checksum-') || NOT_VALUE_HEADERS.has(name))
      continue;
    if (checksum) {
      throw s3Errors.invalidRequest(
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      );
    }
    const algorithm = algorithmOfHeader(name);
    const expected = decodeChecksum(algorithm, header(headers, name) ?? '');
    if (!expected) throw s3Errors.invalidRequest(`Value for ${name} header is invalid.`);
    checksum = { algorithm, expected };
  }

  const sdkAlgorithm = header(headers, 'x-amz-sdk-checksum-algorithm');
  if (sdkAlgorithm !== undefined && !checksumHeadersDescribeObject) {
    const algorithm = parseAlgorithm(sdkAlgorithm);
    if (!algorithm) {
      if (sdkAlgorithm.toUpperCase() === 'CRC64NVME') throw s3Errors.notImplemented('CRC64NVME checksums');
      throw s3Errors.invalidRequest(
        'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, SHA1, SHA256]',
      );
    }
    if (!checksum) {
      throw s3Errors.invalidRequest(
        'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
      );
    }
    if (checksum.algorithm !== algorithm) {
      throw s3Errors.invalidRequest('Value for x-amz-sdk-checksum-algorithm header is invalid.');
    }
  }

  const md5Header = header(headers, 'content-md5');
  let contentMd5: Buffer | undefined;
  if (md5Header !== undefined) {
    contentMd5 = Buffer.from(md5Header, 'base64');
    if (contentMd5.length !== 16 || contentMd5.toString('base64') !== md5Header)
      throw s3Errors.invalidDigest(md5Header);
  }

  return {
    chunked,
    length,
    ...(contentSha !== undefined && SHA256_HEX.test(contentSha) ? { sha256: contentSha } : {}),
    ...(contentMd5 ? { contentMd5 } : {}),
    ...(checksum ? { checksum } : {}),
  };
}

function declaredLength(headers: IncomingHttpHeaders, chunked: boolean): number {
  const raw = chunked ? header(headers, 'x-amz-decoded-content-length') : header(headers, 'content-length');
  if (raw === undefined) {
    if (chunked) throw s3Errors.missingContentLength();
    if (header(headers, 'transfer-encoding') !== undefined) throw s3Errors.transferEncodingNotImplemented();
    return 0;
  }
  if (!/^\d{1,16}$/.test(raw)) {
    throw s3Errors.invalidArgument(
      'Invalid content length',
      chunked ? 'x-amz-decoded-content-length' : 'Content-Length',
      raw,
    );
  }
  return Number(raw);
}

/**
 * Reads the body into `sink`, hashing as it goes, then validates size, signed SHA-256,
 * Content-MD5 and the flexible checksum. `computeAlgorithm` adds a checksum the client did not send.
 */
export async function receivePayload(
  req: SandboxRequest,
  spec: PayloadSpec,
  sink: PayloadSink,
  computeAlgorithm?: ChecksumAlgorithm,
): Promise<ReceivedPayload> {
  const md5 = createHash('md5');
  const sha256: Hash | undefined = spec.sha256 ? createHash('sha256') : undefined;
  const algorithm = spec.checksum?.algorithm ?? computeAlgorithm;
  const checksum: Hasher | undefined = algorithm ? createHasher(algorithm) : undefined;
  let size = 0;
  let mustDrain = false;

  const accept = (data: Buffer): void => {
    size += data.length;
    // More than declared can only come from an aws-chunked body: stop before it fills the disk.
    if (size > spec.length) throw s3Errors.incompleteBody(spec.length, size);
    md5.update(data);
    checksum?.update(data);
    if (!sink.write(data)) mustDrain = true;
  };
  const decoder = spec.chunked ? new AwsChunkedDecoder(accept) : undefined;

  await new Promise<void>((resolve, reject) => {
    const raw = req.raw;
    let settled = false;
    const finish = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
      raw.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      try {
        sha256?.update(chunk);
        if (decoder) decoder.push(chunk);
        else accept(chunk);
      } catch (error) {
        finish(error);
        return;
      }
      if (mustDrain) {
        raw.pause();
        sink.drain().then(() => {
          mustDrain = false;
          if (!settled) raw.resume();
        }, finish);
      }
    };
    const onEnd = (): void => {
      try {
        decoder?.end();
        finish();
      } catch (error) {
        finish(error);
      }
    };
    // A client that disconnects mid-body is answered (if still listening) as S3 would: the body is incomplete.
    const onError = (): void => finish(s3Errors.incompleteBody(spec.length, size));
    const onClose = (): void => {
      if (!raw.complete) onError();
    };
    raw.on('data', onData);
    raw.once('end', onEnd);
    raw.once('error', onError);
    raw.once('close', onClose);
  });

  if (size !== spec.length) throw s3Errors.incompleteBody(spec.length, size);
  if (spec.sha256) {
    const computed = sha256!.digest('hex');
    if (computed !== spec.sha256) throw s3Errors.contentSha256Mismatch(spec.sha256, computed);
  }
  const md5Digest = md5.digest();
  if (spec.contentMd5 && !spec.contentMd5.equals(md5Digest)) {
    throw s3Errors.badDigest(spec.contentMd5.toString('base64'), md5Digest.toString('base64'));
  }
  if (!algorithm || !checksum) return { size, md5: md5Digest };
  const digest = checksum.digest();
  let expected = spec.checksum?.expected;
  const trailer = spec.checksum?.trailer;
  if (trailer) {
    const value = decoder?.trailers.get(trailer);
    if (value === undefined) throw s3Errors.malformedTrailer();
    expected = decodeChecksum(algorithm, value);
    if (!expected)
      throw s3Errors.invalidRequest(`Value for ${checksumHeader(algorithm)} trailing header is invalid.`);
  }
  if (expected && !expected.equals(digest)) throw s3Errors.badChecksum(algorithm);
  return { size, md5: md5Digest, checksum: { algorithm, digest } };
}
