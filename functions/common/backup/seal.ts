/**
 * The manifest seal: the SHA-256 of manifest.json, encrypted with the Encryption SDK under the
 * stack key with the backup's set and id in the encryption context. Anyone who can write to the
 * bucket but cannot use the key cannot make a seal, so an edited manifest (or a manifest moved
 * from another backup) is detected even for the newest backup, which no later backup chains to.
 */
import * as z from 'zod';
import { PURPOSE_KEY, SEAL_PURPOSES } from '../contract.ts';
import { CONTEXT_KEYS } from './manifest.ts';

/** Encryption context of a seal. */
export function sealContext(set: string, backupId: string): Record<string, string> {
  return {
    [CONTEXT_KEYS.set]: set,
    [CONTEXT_KEYS.backupId]: backupId,
    [PURPOSE_KEY]: SEAL_PURPOSES.manifest,
  };
}

const sealBody = z
  .object({
    format: z.literal('caretaker.backup.manifest-seal'),
    manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/** The plaintext sealed for a manifest digest. */
export function sealPlaintext(manifestSha256: string): Buffer {
  return Buffer.from(JSON.stringify({ format: 'caretaker.backup.manifest-seal', manifestSha256 }));
}

/** The manifest digest in a decrypted seal, or undefined when it is not a seal. */
export function parseSealPlaintext(plaintext: Uint8Array): string | undefined {
  try {
    const parsed = sealBody.safeParse(JSON.parse(Buffer.from(plaintext).toString('utf8')));
    return parsed.success ? parsed.data.manifestSha256 : undefined;
  } catch {
    return undefined;
  }
}
