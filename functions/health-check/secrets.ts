/**
 * Database passwords for the query check, from Secrets Manager, cached per secret for a few
 * minutes (a rotated secret is picked up without a cold start). The provider is injected into the
 * probe so tests supply the password directly.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { secretsManager } from '#common/runtime/clients';

/** Returns the password stored in a secret. */
export type PasswordProvider = (secretArn: string) => Promise<string>;

/** Reads a secret's string value. */
export type SecretReader = (secretArn: string) => Promise<string>;

/** The password in a secret: the `password` field of an RDS-style JSON secret, else the whole string. */
export function passwordFromSecret(secretString: string): string {
  const trimmed = secretString.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new Error('the secret looks like JSON but does not parse', { cause: error });
    }
    const password = (parsed as { password?: unknown }).password;
    if (typeof password !== 'string' || password === '') {
      throw new Error('the JSON secret has no "password" field');
    }
    return password;
  }
  if (trimmed === '') throw new Error('the secret is empty');
  return secretString;
}

/** A provider that caches each secret's password for `ttlMs`; a failed read is not cached. */
export function cachedPasswords(
  read: SecretReader,
  ttlMs = 300_000,
  now = () => Date.now(),
): PasswordProvider {
  const cache = new Map<string, { expires: number; password: Promise<string> }>();
  return (secretArn) => {
    const hit = cache.get(secretArn);
    if (hit && hit.expires > now()) return hit.password;
    const password = read(secretArn).then(passwordFromSecret);
    cache.set(secretArn, { expires: now() + ttlMs, password });
    password.catch(() => cache.delete(secretArn));
    return password;
  };
}

/** Reads a secret with GetSecretValue. */
export const readSecretString: SecretReader = async (secretArn) => {
  const out = await secretsManager().send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (out.SecretString === undefined) throw new Error(`secret ${secretArn} has no string value`);
  return out.SecretString;
};
