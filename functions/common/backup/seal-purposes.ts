/**
 * What a KMS seal is for, as the encryption context says it (`caretaker:purpose`): the functions
 * seal with it (record-seal.ts, the manifest seal) and the stack's IAM conditions read it
 * (`kms:EncryptionContext:caretaker:purpose`). A module without runtime dependencies, so the CDK
 * app can import it without loading the functions' runtime (tracer, metrics).
 */

/** The encryption-context key naming what a seal is for (IAM conditions read it). */
export const PURPOSE_KEY = 'caretaker:purpose';

/** What each kind of seal is for, as written in `caretaker:purpose`. */
export const SEAL_PURPOSES = {
  manifest: 'manifest-seal',
  verification: 'verification-record',
  catalogHead: 'catalog-head',
} as const;
