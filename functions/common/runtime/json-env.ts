/**
 * Structured configuration handed to a function through an environment variable as JSON (the
 * stack writes the relevant slice of the config there), read and validated once at cold start.
 */
import type { z } from 'zod';
import type { EnvVariable } from '../contract.ts';
import { MissingEnvironmentError, optionalEnv, requireEnv } from './env.ts';
import { parseOrThrow } from './validation.ts';

/**
 * Parses environment variable `name` as JSON and validates it with `schema`. Missing or invalid
 * JSON fails with a MissingEnvironmentError naming the variable; a schema mismatch with a
 * ValidationError naming each bad field. With `fallback`, an unset variable reads as that JSON.
 */
export function jsonEnv<S extends z.ZodType>(name: EnvVariable, schema: S, fallback?: string): z.output<S> {
  const raw = fallback === undefined ? requireEnv(name) : optionalEnv(name, fallback);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new MissingEnvironmentError(
      `Environment variable ${name} is not valid JSON: ${(error as Error).message}`,
    );
  }
  return parseOrThrow(schema, value, `${name} environment variable`);
}
