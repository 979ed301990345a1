/**
 * Database passwords for the query check, from Secrets Manager, cached per secret for a few
 * minutes (a rotated secret is picked up without a cold start). The provider is injected into the
 * probe so tests supply the password directly.
 *
 * `@aws-sdk/client-secrets-manager` is not a dependency of this repository yet; the Lambda
 * Node.js runtime ships it with the rest of AWS SDK v3 (and the bundler keeps `@aws-sdk/*`
 * external), so it is loaded at first use. Where it cannot be loaded the query check fails with
 * that reason instead of being dropped.
 */
import { tracer } from '#common/observability';

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

interface SecretsManagerModule {
  readonly SecretsManagerClient: new (config: {
    maxAttempts: number;
  }) => { send(command: unknown): Promise<{ SecretString?: string }> };
  readonly GetSecretValueCommand: new (input: { SecretId: string }) => unknown;
}

// A variable specifier keeps TypeScript and the bundler from resolving the module at build time.
const SECRETS_MANAGER_MODULE = '@aws-sdk/client-secrets-manager';
let client:
  | Promise<{ sdk: SecretsManagerModule; send: (command: unknown) => Promise<{ SecretString?: string }> }>
  | undefined;

/** Reads a secret with GetSecretValue through the SDK the Lambda runtime provides. */
export const readSecretString: SecretReader = async (secretArn) => {
  client ??= import(SECRETS_MANAGER_MODULE).then((loaded: SecretsManagerModule) => {
    if (
      typeof loaded.SecretsManagerClient !== 'function' ||
      typeof loaded.GetSecretValueCommand !== 'function'
    ) {
      throw new Error(`${SECRETS_MANAGER_MODULE} does not export SecretsManagerClient/GetSecretValueCommand`);
    }
    const sm = tracer.captureAWSv3Client(new loaded.SecretsManagerClient({ maxAttempts: 4 }));
    return { sdk: loaded, send: (command: unknown) => sm.send(command) };
  });
  const { sdk, send } = await client.catch((error: unknown) => {
    throw new Error(`cannot load ${SECRETS_MANAGER_MODULE} to read the database password`, { cause: error });
  });
  const out = await send(new sdk.GetSecretValueCommand({ SecretId: secretArn }));
  if (out.SecretString === undefined) throw new Error(`secret ${secretArn} has no string value`);
  return out.SecretString;
};
