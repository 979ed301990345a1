/**
 * Data-key reuse for stored objects: the Encryption SDK's caching materials manager
 * (NodeCachingMaterialsManager over a local LRU cache) in front of the KMS keyring, so one KMS
 * GenerateDataKey serves many objects of one backup and one KMS Decrypt serves every object read
 * back that shares it. docs/backup-format.md explains the limits and what they trade.
 *
 * Objects share a data key only when their encryption context is equal (the SDK keys its cache
 * on it), which for format 2 means: the same set and the same storing backup.
 */
import {
  type EncryptionContext,
  getLocalCryptographicMaterialsCache,
  type KeyringNode,
  NodeCachingMaterialsManager,
  type NodeMaterialsManager,
} from '@aws-crypto/client-node';

/** How long and how much one data key may be used before KMS is asked for a new one. */
export interface DataKeyLimits {
  /** Milliseconds after KMS generated (or decrypted) the key. */
  readonly maxAgeMs: number;
  /** Messages (stored objects) encrypted under one key. */
  readonly maxMessages: number;
  /** Plaintext bytes encrypted under one key. */
  readonly maxBytes: number;
}

/**
 * The defaults: a data key serves at most 10,000 objects or 64 GiB of one backup of one set, for
 * at most five minutes (see docs/backup-format.md for why these numbers).
 */
export const DEFAULT_DATA_KEY_LIMITS: DataKeyLimits = {
  maxAgeMs: 5 * 60_000,
  maxMessages: 10_000,
  maxBytes: 64 * 1024 ** 3,
};

/**
 * Keys kept per cache. Encryption needs one entry per backup in progress in this process;
 * decryption one per data key being read back (format-1 objects each had their own key, so their
 * entries never hit and only age out; a small LRU bounds how many plaintext keys stay in memory).
 */
const ENCRYPT_CACHE_ENTRIES = 16;
const DECRYPT_CACHE_ENTRIES = 64;

/** Checks limits up front: the SDK would only fail later, on first use, with a vaguer message. */
export function checkDataKeyLimits(limits: DataKeyLimits): DataKeyLimits {
  const { maxAgeMs, maxMessages, maxBytes } = limits;
  if (!Number.isInteger(maxAgeMs) || maxAgeMs < 1) throw new Error(`maxAgeMs must be ≥ 1, got ${maxAgeMs}`);
  if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > 2 ** 32) {
    throw new Error(`maxMessages must be from 1 to 2^32, got ${maxMessages}`);
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new Error(`maxBytes must be ≥ 1, got ${maxBytes}`);
  return limits;
}

function contextKey(context: EncryptionContext): string {
  return JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Lets one request per cache entry through at a time. The caching manager does not coalesce
 * concurrent misses: with 16 objects starting together, each would ask KMS for its own key (and
 * 16 more at every limit). In turn, the first one fills the cache and the others hit it.
 */
class OneAtATime implements NodeMaterialsManager {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly inner: NodeMaterialsManager) {}

  private inTurn<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.tails.set(key, next);
    const forget = () => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  getEncryptionMaterials: NodeMaterialsManager['getEncryptionMaterials'] = (request) =>
    this.inTurn(`${request.suite?.id}|${contextKey(request.encryptionContext)}`, () =>
      this.inner.getEncryptionMaterials(request),
    );

  decryptMaterials: NodeMaterialsManager['decryptMaterials'] = (request) =>
    this.inTurn(
      [
        request.suite.id,
        contextKey(request.encryptionContext),
        ...request.encryptedDataKeys.map(
          (edk) =>
            `${edk.providerId}/${edk.providerInfo}/${Buffer.from(edk.encryptedDataKey).toString('base64')}`,
        ),
      ].join('|'),
      () => this.inner.decryptMaterials(request),
    );
}

/** A materials manager that reuses data keys within `limits`. */
export function cachingMaterials(
  keyring: KeyringNode,
  limits: DataKeyLimits,
  purpose: 'encrypt' | 'decrypt',
) {
  checkDataKeyLimits(limits);
  return new OneAtATime(
    new NodeCachingMaterialsManager({
      backingMaterials: keyring,
      cache: getLocalCryptographicMaterialsCache(
        purpose === 'encrypt' ? ENCRYPT_CACHE_ENTRIES : DECRYPT_CACHE_ENTRIES,
      ),
      maxAge: limits.maxAgeMs,
      maxMessagesEncrypted: limits.maxMessages,
      maxBytesEncrypted: limits.maxBytes,
    }),
  );
}

/**
 * The same manager, telling the cache a stream's plaintext length. The length cannot go to
 * `encryptStream` itself: the SDK's framed stream (v5) subtracts a chunk's bytes again when the
 * chunk crosses a frame boundary and then fails with "Encrypted data exceeded plaintextLength".
 * Without a length the cache is bypassed, so streamed objects would each cost a KMS call.
 */
export function withPlaintextLength(
  manager: NodeMaterialsManager,
  plaintextLength: number,
): NodeMaterialsManager {
  return {
    getEncryptionMaterials: (request) => manager.getEncryptionMaterials({ ...request, plaintextLength }),
    decryptMaterials: (request) => manager.decryptMaterials(request),
  };
}
