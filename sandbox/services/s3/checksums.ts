/**
 * S3's flexible checksums: CRC32, CRC32C, SHA1 and SHA256, computed incrementally, and the
 * multipart forms (COMPOSITE "checksum of checksums-N" and FULL_OBJECT CRCs combined per part).
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc32c } from '@aws-crypto/crc32c';

/** The algorithms the sandbox implements (CRC64NVME is not: see docs/sandbox-s3.md). */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/** A stored checksum: base64 value as S3 returns it (composite ones end in `-<parts>`). */
export interface StoredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly type: ChecksumType;
  readonly value: string;
}

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, SHA1: 20, SHA256: 32 };

/** Header carrying an algorithm's value, e.g. `x-amz-checksum-crc32`. */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** XML/SDK member name, e.g. `ChecksumCRC32`. */
export function checksumMember(algorithm: ChecksumAlgorithm): string {
  return `Checksum${algorithm}`;
}

export function parseAlgorithm(value: string): ChecksumAlgorithm | undefined {
  const upper = value.toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper)
    ? (upper as ChecksumAlgorithm)
    : undefined;
}

/** Decodes a base64 checksum value; undefined when it is not valid base64 of the right length. */
export function decodeChecksum(algorithm: ChecksumAlgorithm, value: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === DIGEST_BYTES[algorithm] ? bytes : undefined;
}

/** An incremental hash over received bytes. */
export interface Hasher {
  update(data: Buffer): void;
  digest(): Buffer;
}

class Crc32Hasher implements Hasher {
  private value = 0;
  update(data: Buffer): void {
    this.value = crc32(data, this.value);
  }
  digest(): Buffer {
    return uint32(this.value);
  }
}

class Crc32cHasher implements Hasher {
  private readonly crc = new Crc32c();
  update(data: Buffer): void {
    this.crc.update(data);
  }
  digest(): Buffer {
    return uint32(this.crc.digest());
  }
}

class NodeHasher implements Hasher {
  constructor(private readonly hash: Hash) {}
  update(data: Buffer): void {
    this.hash.update(data);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

function uint32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}

export function createHasher(algorithm: ChecksumAlgorithm): Hasher {
  switch (algorithm) {
    case 'CRC32':
      return new Crc32Hasher();
    case 'CRC32C':
      return new Crc32cHasher();
    case 'SHA1':
      return new NodeHasher(createHash('sha1'));
    case 'SHA256':
      return new NodeHasher(createHash('sha256'));
  }
}

/** Hashes one buffer. */
export function digestOf(algorithm: ChecksumAlgorithm, data: Buffer): Buffer {
  const hasher = createHasher(algorithm);
  hasher.update(data);
  return hasher.digest();
}

/** A multipart upload's COMPOSITE checksum: the checksum of the parts' raw checksums, suffixed `-N`. */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partDigests: readonly Buffer[]): string {
  return `${digestOf(algorithm, Buffer.concat(partDigests)).toString('base64')}-${partDigests.length}`;
}

const CRC_POLYNOMIALS: Partial<Record<ChecksumAlgorithm, number>> = { CRC32: 0xedb88320, CRC32C: 0x82f63b78 };

/** True for the algorithms whose per-part values combine into a FULL_OBJECT checksum. */
export function supportsFullObject(algorithm: ChecksumAlgorithm): boolean {
  return CRC_POLYNOMIALS[algorithm] !== undefined;
}

/**
 * A FULL_OBJECT CRC of a multipart object from its parts' CRCs and sizes, without reading the
 * data again (zlib's crc32_combine: advance the first CRC over len2 zero bits in GF(2)).
 */
export function combineCrcs(
  algorithm: ChecksumAlgorithm,
  parts: readonly { digest: Buffer; size: number }[],
): Buffer {
  const polynomial = CRC_POLYNOMIALS[algorithm];
  if (polynomial === undefined) throw new Error(`${algorithm} checksums cannot be combined`);
  let combined = 0;
  let first = true;
  for (const part of parts) {
    const crc = part.digest.readUInt32BE(0);
    combined = first ? crc : crcCombine(combined, crc, part.size, polynomial);
    first = false;
  }
  return uint32(combined);
}

function gf2Times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  let index = 0;
  let rest = vector >>> 0;
  while (rest !== 0) {
    if (rest & 1) sum ^= matrix[index]!;
    rest >>>= 1;
    index++;
  }
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(matrix, matrix[n]!);
}

function crcCombine(crc1: number, crc2: number, length2: number, polynomial: number): number {
  if (length2 <= 0) return crc1;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = polynomial;
  let row = 1;
  for (let n = 1; n < 32; n++) {
    odd[n] = row;
    row = (row << 1) >>> 0;
  }
  gf2Square(even, odd); // two zero bits
  gf2Square(odd, even); // four zero bits
  let remaining = length2;
  let result = crc1 >>> 0;
  do {
    gf2Square(even, odd); // one zero byte, then 4, 16, ...
    if (remaining % 2 === 1) result = gf2Times(even, result);
    remaining = Math.floor(remaining / 2);
    if (remaining === 0) break;
    gf2Square(odd, even);
    if (remaining % 2 === 1) result = gf2Times(odd, result);
    remaining = Math.floor(remaining / 2);
  } while (remaining !== 0);
  return (result ^ crc2) >>> 0;
}
