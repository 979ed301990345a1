/**
 * The sandbox's KMS ciphertext blobs: AES-256-GCM under a key's material, with the key id embedded
 * so Decrypt finds the key, and the encryption context bound as additional authenticated data.
 *
 * Layout: version (1 byte) | key id (16-byte UUID) | IV (12) | tag (16) | ciphertext.
 * The AAD is the version and key id bytes followed by the canonical encryption context, so a blob
 * moved to another key, or opened with another context, fails authentication.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const FORMAT_VERSION = 0x01;
const KEY_ID_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES;
const OVERHEAD = HEADER_BYTES + IV_BYTES + TAG_BYTES;

/** Key/value pairs bound to a ciphertext; absent and empty are the same context, as in KMS. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** Serializes a context independent of key order: sorted `[key, value]` pairs as JSON. */
export function canonicalContext(context: EncryptionContext | undefined): Buffer {
  const pairs = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

function uuidToBytes(keyId: string): Buffer {
  const hex = keyId.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`Not a UUID key id: ${keyId}`);
  return Buffer.from(hex, 'hex');
}

function bytesToUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Encrypts `plaintext` under a key's 256-bit material. */
export function seal(
  keyId: string,
  material: Buffer,
  plaintext: Buffer,
  context: EncryptionContext | undefined,
): Buffer {
  const header = Buffer.concat([Buffer.of(FORMAT_VERSION), uuidToBytes(keyId)]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', material, iv);
  cipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

/** The key id a blob was sealed under, or undefined when the blob is not one of ours. */
export function blobKeyId(blob: Buffer): string | undefined {
  if (blob.length < OVERHEAD || blob[0] !== FORMAT_VERSION) return undefined;
  return bytesToUuid(blob.subarray(1, HEADER_BYTES));
}

/** Decrypts a blob; undefined when the material or the context does not authenticate it. */
export function open(
  blob: Buffer,
  material: Buffer,
  context: EncryptionContext | undefined,
): Buffer | undefined {
  if (blobKeyId(blob) === undefined) return undefined;
  const header = blob.subarray(0, HEADER_BYTES);
  const iv = blob.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
  const tag = blob.subarray(HEADER_BYTES + IV_BYTES, OVERHEAD);
  const decipher = createDecipheriv('aes-256-gcm', material, iv);
  decipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(blob.subarray(OVERHEAD)), decipher.final()]);
  } catch {
    // GCM authentication failed: wrong key material or wrong context, which KMS reports alike.
    return undefined;
  }
}
