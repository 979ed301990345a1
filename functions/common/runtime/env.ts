/**
 * Environment variables, read once at cold start.
 *
 * A missing variable fails the module load with a message naming it, so a misconfigured function
 * fails on its first invocation with a clear cause instead of deep inside a handler.
 */
import type { EnvVariable } from '../contract.ts';

/** Error thrown at module load when a required environment variable is absent. */
export class MissingEnvironmentError extends Error {
  override readonly name = 'MissingEnvironmentError';
}

/** Returns the value of a required environment variable or throws naming it. */
export function requireEnv(name: EnvVariable): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new MissingEnvironmentError(`Environment variable ${name} is required but not set`);
  }
  return value;
}

/** Returns the value of an optional environment variable, or the fallback. */
export function optionalEnv(name: EnvVariable, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? fallback : value;
}

/** Reads an optional positive integer environment variable, failing loudly if it is malformed. */
export function intEnv(name: EnvVariable, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new MissingEnvironmentError(
      `Environment variable ${name} must be a non-negative integer, got "${raw}"`,
    );
  }
  return value;
}
