/**
 * KMS cryptographic operations: Encrypt, Decrypt, ReEncrypt and data key generation, with real
 * AES-256-GCM under each key's material (see ciphertext.ts).
 */
import { randomBytes } from 'node:crypto';
import { AwsError } from '../../core/types.ts';
import { blobKeyId, type EncryptionContext, open, seal } from './ciphertext.ts';
import { constraintError, type JsonInput } from './input.ts';
import type { Operation, OperationContext } from './key-operations.ts';
import type { Key } from './keystore.ts';

const ALGORITHM = 'SYMMETRIC_DEFAULT';
const MAX_PLAINTEXT_BYTES = 4096;
const MAX_CIPHERTEXT_BYTES = 6144;
const KEY_SPEC_BYTES: ReadonlyMap<string, number> = new Map([
  ['AES_256', 32],
  ['AES_128', 16],
]);
const INVALID_CIPHERTEXT =
  'The ciphertext is not valid for this key in this region, or the encryption context does not match';

function checkAlgorithm(input: JsonInput, field: string): void {
  const algorithm = input.string(field);
  if (algorithm !== undefined && algorithm !== ALGORITHM) {
    throw new AwsError(
      'InvalidKeyUsageException',
      `${algorithm} is not a valid encryption algorithm for this key`,
    );
  }
}

/** The key that will encrypt, which must exist and be enabled. */
function encryptingKey({ store, region }: OperationContext, identifier: string): Key {
  const key = store.require(region, identifier);
  store.requireUsable(key);
  return key;
}

/** Opens a ciphertext blob: finds its key, checks `expectedKeyId` names that key, authenticates it. */
function decryptBlob(
  { store, region }: OperationContext,
  blob: Buffer,
  context: EncryptionContext | undefined,
  expectedKeyId: string | undefined,
): { key: Key; plaintext: Buffer } {
  const expected = expectedKeyId === undefined ? undefined : store.require(region, expectedKeyId);
  const embedded = blobKeyId(blob);
  const key = embedded === undefined ? undefined : store.find(region, embedded, 'key');
  if (expected && embedded !== undefined && expected.record.keyId !== embedded) {
    throw new AwsError(
      'IncorrectKeyException',
      'The key ID in the request does not identify a CMK that can perform this operation.',
    );
  }
  if (!key) throw new AwsError('InvalidCiphertextException', INVALID_CIPHERTEXT);
  store.requireUsable(key);
  const plaintext = open(blob, key.material, context);
  if (!plaintext) throw new AwsError('InvalidCiphertextException', INVALID_CIPHERTEXT);
  return { key, plaintext };
}

const encrypt: Operation = (context, input) => {
  const key = encryptingKey(context, input.requiredString('KeyId'));
  const plaintext = input.requiredBlob('Plaintext', MAX_PLAINTEXT_BYTES);
  checkAlgorithm(input, 'EncryptionAlgorithm');
  const blob = seal(key.record.keyId, key.material, plaintext, input.stringMap('EncryptionContext'));
  return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: ALGORITHM };
};

const decrypt: Operation = (context, input) => {
  const blob = input.requiredBlob('CiphertextBlob', MAX_CIPHERTEXT_BYTES);
  checkAlgorithm(input, 'EncryptionAlgorithm');
  const { key, plaintext } = decryptBlob(
    context,
    blob,
    input.stringMap('EncryptionContext'),
    input.string('KeyId'),
  );
  return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: ALGORITHM };
};

const reEncrypt: Operation = (context, input) => {
  const blob = input.requiredBlob('CiphertextBlob', MAX_CIPHERTEXT_BYTES);
  const destination = encryptingKey(context, input.requiredString('DestinationKeyId'));
  checkAlgorithm(input, 'SourceEncryptionAlgorithm');
  checkAlgorithm(input, 'DestinationEncryptionAlgorithm');
  const source = decryptBlob(
    context,
    blob,
    input.stringMap('SourceEncryptionContext'),
    input.string('SourceKeyId'),
  );
  const sealed = seal(
    destination.record.keyId,
    destination.material,
    source.plaintext,
    input.stringMap('DestinationEncryptionContext'),
  );
  return {
    CiphertextBlob: sealed.toString('base64'),
    SourceKeyId: source.key.arn,
    KeyId: destination.arn,
    SourceEncryptionAlgorithm: ALGORITHM,
    DestinationEncryptionAlgorithm: ALGORITHM,
  };
};

/** Generates a data key and its ciphertext under the named key. */
function newDataKey(
  context: OperationContext,
  input: JsonInput,
): { key: Key; plaintext: Buffer; blob: Buffer } {
  const key = encryptingKey(context, input.requiredString('KeyId'));
  const spec = input.string('KeySpec');
  const count = input.integer('NumberOfBytes', 1, 1024);
  if ((spec === undefined) === (count === undefined)) {
    throw new AwsError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  const length = spec === undefined ? count : KEY_SPEC_BYTES.get(spec);
  if (length === undefined) {
    throw constraintError('KeySpec', spec, 'Member must satisfy enum value set: [AES_256, AES_128]');
  }
  const plaintext = randomBytes(length);
  const blob = seal(key.record.keyId, key.material, plaintext, input.stringMap('EncryptionContext'));
  return { key, plaintext, blob };
}

const generateDataKey: Operation = (context, input) => {
  const { key, plaintext, blob } = newDataKey(context, input);
  return { CiphertextBlob: blob.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: key.arn };
};

const generateDataKeyWithoutPlaintext: Operation = (context, input) => {
  const { key, plaintext, blob } = newDataKey(context, input);
  plaintext.fill(0);
  return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn };
};

/** Cryptographic operations by name. */
export const CRYPTO_OPERATIONS: Readonly<Record<string, Operation>> = {
  Encrypt: encrypt,
  Decrypt: decrypt,
  ReEncrypt: reEncrypt,
  GenerateDataKey: generateDataKey,
  GenerateDataKeyWithoutPlaintext: generateDataKeyWithoutPlaintext,
};
