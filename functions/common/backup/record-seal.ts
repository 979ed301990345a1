/**
 * Sealed records: small JSON records (verification records, the catalog head) that carry their
 * own KMS seal, so that a decision can rest on them. The seal is an Encryption SDK message under
 * the stack key whose plaintext is the SHA-256 of the record's canonical JSON (the record without
 * its `seal` field), with the record's purpose, set (and backup) in the encryption context.
 *
 * Only a principal allowed to make data keys under the stack key *with that purpose* can make a
 * seal: the IAM policies condition `kms:GenerateDataKey` on `kms:EncryptionContext:caretaker:purpose`
 * (lib/functions/backup-functions.ts), so backup-verify alone can seal verification records and
 * s3-backup alone manifests and the catalog head. Whoever can write to the bucket but not use the
 * key can copy a record (its context binds it to its backup) but never make or alter one.
 */
import * as z from 'zod';
import { PURPOSE_KEY, SEAL_PURPOSES } from '../contract.ts';
import { AccessDeniedError } from '../runtime/errors.ts';
import { type BackupCrypto, classifyDecryptError } from './crypto.ts';
import { CONTEXT_KEYS, sha256Hex } from './manifest.ts';

/** The encryption-context key naming what a seal is for, and the purposes (contract.ts). */
export { PURPOSE_KEY, SEAL_PURPOSES };

export type RecordPurpose = (typeof SEAL_PURPOSES)['verification' | 'catalogHead'];

/** Whom a record is about: its set, and its backup when it concerns one. */
export interface RecordScope {
  readonly set: string;
  readonly backupId?: string;
}

/** The encryption context of a record's seal. */
export function recordSealContext(purpose: RecordPurpose, scope: RecordScope): Record<string, string> {
  return {
    [CONTEXT_KEYS.set]: scope.set,
    ...(scope.backupId === undefined ? {} : { [CONTEXT_KEYS.backupId]: scope.backupId }),
    [PURPOSE_KEY]: purpose,
  };
}

const sealBody = z
  .object({
    format: z.literal('caretaker.record-seal'),
    purpose: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/** The bytes a record's SHA-256 is taken over: its JSON without `seal`, keys in their order. */
function canonical(record: Readonly<Record<string, unknown>>): Buffer {
  const { seal: _seal, ...rest } = record;
  return Buffer.from(JSON.stringify(rest));
}

/** The file a sealed record is stored as: the record, pretty-printed, with its `seal` (base64). */
export async function sealRecord(
  crypto: BackupCrypto,
  purpose: RecordPurpose,
  scope: RecordScope,
  record: Readonly<Record<string, unknown>>,
): Promise<Buffer> {
  const plaintext = Buffer.from(
    JSON.stringify({ format: 'caretaker.record-seal', purpose, sha256: sha256Hex(canonical(record)) }),
  );
  const seal = await crypto.encrypt(plaintext, recordSealContext(purpose, scope));
  return Buffer.from(`${JSON.stringify({ ...record, seal: seal.toString('base64') }, null, 2)}\n`);
}

/** A record whose seal verified, or why it does not count. */
export type OpenedRecord =
  | { readonly sealed: true; readonly record: Readonly<Record<string, unknown>> }
  | { readonly sealed: false; readonly why: string };

/**
 * Opens a stored record: parses it and checks its seal against exactly `purpose` and `scope`.
 * KMS refusing access (permissions, a disabled key) is no verdict on the record: it throws
 * AccessDeniedError, so a caller fails instead of calling a real record forged.
 */
export async function openRecord(
  crypto: BackupCrypto,
  purpose: RecordPurpose,
  scope: RecordScope,
  bytes: Uint8Array,
): Promise<OpenedRecord> {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return { sealed: false, why: 'not a JSON object' };
    }
    record = parsed as Record<string, unknown>;
  } catch {
    return { sealed: false, why: 'not JSON' };
  }
  if (typeof record.seal !== 'string' || record.seal.length === 0) return { sealed: false, why: 'no seal' };
  let plaintext: Buffer;
  try {
    plaintext = await crypto.decrypt(Buffer.from(record.seal, 'base64'), recordSealContext(purpose, scope));
  } catch (error) {
    if (classifyDecryptError(error) === 'key-access') {
      throw new AccessDeniedError(
        `KMS refused to open the seal of a ${purpose} record of ${scope.set}${scope.backupId ? `/${scope.backupId}` : ''}: ${(error as Error).message}`,
        { ...scope, purpose },
        { cause: error },
      );
    }
    return { sealed: false, why: `the seal does not open: ${(error as Error).message}` };
  }
  let body: z.output<typeof sealBody>;
  try {
    const parsed = sealBody.safeParse(JSON.parse(plaintext.toString('utf8')));
    if (!parsed.success) return { sealed: false, why: 'the seal holds no record digest' };
    body = parsed.data;
  } catch {
    return { sealed: false, why: 'the seal holds no record digest' };
  }
  if (body.purpose !== purpose) return { sealed: false, why: `the seal is for ${body.purpose}` };
  if (body.sha256 !== sha256Hex(canonical(record))) {
    return { sealed: false, why: 'the record changed after it was sealed' };
  }
  return { sealed: true, record };
}
