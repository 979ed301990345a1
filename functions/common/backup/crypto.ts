/**
 * Client-side envelope encryption of backup objects with the AWS Encryption SDK for JavaScript.
 *
 * - Suite ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY: AES-256-GCM with key commitment and no
 *   signature (a signature would only prove which *writer* made the message; everyone who can
 *   write backups can also read them, and unsigned messages decrypt as a stream).
 * - Commitment policy REQUIRE_ENCRYPT_REQUIRE_DECRYPT: a message without key commitment is refused.
 * - Data keys are generated and wrapped by KMS under the stack key (KMS keyring with the key ARN;
 *   decryption is strict: only the trusted key ARNs are asked). Stored objects reuse a data key
 *   within limits (data-keys.ts: the SDK's caching materials manager); seals never do.
 * - The encryption context binds set and storing backup (format 1 also bound the source key, which
 *   made every context unique and ruled out key reuse). KMS authenticates it with the data key and
 *   the SDK with the message header, so an altered context fails as tampering; an authentic
 *   message whose context is not one the reader accepts (an object moved from another backup or
 *   set) is refused before any plaintext is released (see {@link ExpectedContextError}).
 * - Frames of 1–4 MiB: with the SDK's 4 KiB default, per-frame overhead dominates and streams
 *   run about ten times slower.
 */
import type { Duplex } from 'node:stream';
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  type EncryptionContext,
  KMS,
  KmsKeyringNode,
  NodeDefaultCryptographicMaterialsManager,
} from '@aws-crypto/client-node';
import { tracer } from '../runtime/observability.ts';
import {
  cachingMaterials,
  type DataKeyLimits,
  DEFAULT_DATA_KEY_LIMITS,
  withPlaintextLength,
} from './data-keys.ts';

/** Default frame length: 1 MiB (see the module comment and docs/backup-scaling.md). */
export const DEFAULT_FRAME_LENGTH = 1024 * 1024;
/** Largest frame Caretaker writes or accepts when reading, bounding memory per stream. */
export const MAX_FRAME_LENGTH = 4 * 1024 * 1024;
/** The Encryption SDK library and version recorded in manifests. */
export const ENCRYPTION_LIBRARY = '@aws-crypto/client-node@5';

const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

const client = buildClient({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  // Caretaker writes one encrypted data key per message; a message with many is not ours.
  maxEncryptedDataKeys: 4,
});

const kmsClients = new Map<string, KMS>();

/** One KMS client per region, created once, reaching the endpoint the SDK's environment names. */
function kmsIn(region: string): KMS {
  let kms = kmsClients.get(region);
  if (!kms) {
    kms = tracer.captureAWSv3Client(new KMS({ region, maxAttempts: 6 }));
    kmsClients.set(region, kms);
  }
  return kms;
}

/** The decryption found an encryption context other than the one(s) the manifest allows. */
export class ExpectedContextError extends Error {
  override readonly name = 'ExpectedContextError';
  constructor(
    readonly expected: Readonly<Record<string, string>>,
    readonly actual: Readonly<Record<string, string>>,
  ) {
    super(`encryption context ${JSON.stringify(actual)} is not the expected ${JSON.stringify(expected)}`);
  }
}

/** The contexts a reader accepts: one, or several (the first is reported when none matches). */
export type AcceptedContexts = Context | readonly [Context, ...Context[]];

function contextsOf(accepted: AcceptedContexts): readonly Context[] {
  return Array.isArray(accepted) ? (accepted as readonly Context[]) : [accepted as Context];
}

type Context = Readonly<Record<string, string>>;

function sameContext(expected: Context, actual: EncryptionContext): boolean {
  const actualKeys = Object.keys(actual);
  const expectedKeys = Object.keys(expected);
  return (
    actualKeys.length === expectedKeys.length &&
    expectedKeys.every((key) => Object.hasOwn(actual, key) && actual[key] === expected[key])
  );
}

/** Why a stored object could not be read, for IntegrityError details. */
export type DecryptFailure = 'wrong-key' | 'wrong-context' | 'corrupt' | 'truncated' | 'key-access';

/**
 * Classifies an Encryption SDK decryption error:
 * - no encrypted data key for a trusted key ARN: `wrong-key`;
 * - KMS refused to decrypt the data key because of access or key state: `key-access` (not an
 *   integrity problem: permissions, a disabled key);
 * - KMS could not decrypt the data key blob (altered), or a frame failed authentication: `corrupt`;
 * - the message ended early: `truncated`.
 */
export function classifyDecryptError(error: unknown): DecryptFailure {
  if (error instanceof ExpectedContextError) return 'wrong-context';
  const message = error instanceof Error ? error.message : String(error);
  if (/unencryptedDataKey has not been set|no edks/i.test(message)) return 'wrong-key';
  if (/unable to decrypt data key/i.test(message)) {
    return /AccessDenied|KMSInvalidState|Disabled|NotFoundException|KeyUnavailable|Throttl|ECONN|Timeout/i.test(
      message,
    )
      ? 'key-access'
      : 'corrupt';
  }
  if (/incomplete|final frame|premature|truncat|unexpected end|not enough/i.test(message)) return 'truncated';
  return 'corrupt';
}

export interface BackupCryptoOptions {
  /** The key ARN new data keys are generated under (never an alias). */
  readonly keyArn: string;
  /** Key ARNs a stored object may be decrypted with; the backup key when empty. */
  readonly trustedKeyArns?: readonly string[];
  /** Frame length in bytes (1 KiB .. 4 MiB). */
  readonly frameLength?: number;
  /** How far stored objects reuse a data key; seals never do. */
  readonly dataKeys?: DataKeyLimits;
}

/** Encryption and decryption bound to the stack key. */
export interface BackupCrypto {
  readonly keyArn: string;
  readonly frameLength: number;
  readonly dataKeys: DataKeyLimits;
  /**
   * A stored object's encryption, streaming: plaintext in, Encryption SDK message out, with
   * `context` bound. The data key is reused within the limits when `plaintextLength` is given
   * (the SDK counts bytes per key up front), else it is the message's own.
   */
  encryptObjectStream(context: Context, plaintextLength?: number): Duplex;
  /** A stored object's encryption from one buffer, reusing the data key within the limits. */
  encryptObject(plaintext: Uint8Array, context: Context): Promise<Buffer>;
  /**
   * A stored object's decryption: message in, plaintext out (data keys reused for their age);
   * fails unless the message's context is exactly one of `accepted`.
   */
  decryptStream(accepted: AcceptedContexts, maxFrameLength?: number): Duplex;
  /** Encrypts a small buffer under a data key of its own (manifest seals). */
  encrypt(plaintext: Uint8Array, context: Context): Promise<Buffer>;
  /** Decrypts a small buffer, requiring exactly `context` (no data key reuse). */
  decrypt(message: Uint8Array, context: Context): Promise<Buffer>;
}

function regionOf(arn: string): string {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' || parts[2] !== 'kms' || !parts[5]?.startsWith('key/')) {
    throw new Error(`Expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got "${arn}"`);
  }
  return parts[3]!;
}

/** Builds the backup crypto for a key; throws if the key is not a key ARN. */
export function backupCrypto(options: BackupCryptoOptions): BackupCrypto {
  const { keyArn } = options;
  regionOf(keyArn);
  const trusted = options.trustedKeyArns?.length ? [...options.trustedKeyArns] : [keyArn];
  for (const arn of trusted) regionOf(arn);
  const frameLength = options.frameLength ?? DEFAULT_FRAME_LENGTH;
  if (!Number.isInteger(frameLength) || frameLength < 1024 || frameLength > MAX_FRAME_LENGTH) {
    throw new Error(`frameLength must be an integer from 1024 to ${MAX_FRAME_LENGTH}, got ${frameLength}`);
  }
  const dataKeys = options.dataKeys ?? DEFAULT_DATA_KEY_LIMITS;
  const clientProvider = (region: string) => kmsIn(region);
  const generator = new KmsKeyringNode({ generatorKeyId: keyArn, clientProvider });
  const reader = new KmsKeyringNode({ keyIds: trusted, clientProvider });
  const encryptCmm = new NodeDefaultCryptographicMaterialsManager(generator);
  const decryptCmm = new NodeDefaultCryptographicMaterialsManager(reader);
  const objectEncryptCmm = cachingMaterials(generator, dataKeys, 'encrypt');
  const objectDecryptCmm = cachingMaterials(reader, dataKeys, 'decrypt');

  return {
    keyArn,
    frameLength,
    dataKeys,
    encryptObjectStream(context, plaintextLength) {
      const manager =
        plaintextLength === undefined
          ? objectEncryptCmm
          : withPlaintextLength(objectEncryptCmm, plaintextLength);
      return client.encryptStream(manager, {
        suiteId: SUITE,
        encryptionContext: { ...context },
        frameLength,
      });
    },
    async encryptObject(plaintext, context) {
      const { result } = await client.encrypt(objectEncryptCmm, plaintext, {
        suiteId: SUITE,
        encryptionContext: { ...context },
        frameLength,
      });
      return result;
    },
    decryptStream(accepted, maxFrameLength = MAX_FRAME_LENGTH) {
      const contexts = contextsOf(accepted);
      const stream = client.decryptUnsignedMessageStream(objectDecryptCmm, { maxBodySize: maxFrameLength });
      // Emitted once the header authenticated and before any frame is decrypted.
      stream.once('MessageHeader', (header: { encryptionContext: EncryptionContext }) => {
        if (!contexts.some((context) => sameContext(context, header.encryptionContext))) {
          stream.destroy(new ExpectedContextError(contexts[0]!, { ...header.encryptionContext }));
        }
      });
      return stream;
    },
    async encrypt(plaintext, context) {
      const { result } = await client.encrypt(encryptCmm, plaintext, {
        suiteId: SUITE,
        encryptionContext: { ...context },
        frameLength,
      });
      return result;
    },
    async decrypt(message, context) {
      const { plaintext, messageHeader } = await client.decrypt(decryptCmm, message, {
        maxBodySize: MAX_FRAME_LENGTH,
      });
      if (messageHeader.suiteId !== SUITE)
        throw new Error(`unexpected algorithm suite ${messageHeader.suiteId}`);
      if (!sameContext(context, messageHeader.encryptionContext)) {
        throw new ExpectedContextError(context, { ...messageHeader.encryptionContext });
      }
      return plaintext;
    },
  };
}
