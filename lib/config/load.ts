/**
 * Loading the config file named by `-c config=<path>`: read, parse JSON, validate.
 * Every failure is a ConfigError whose message lists every problem with its path.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FieldProblem } from '../../functions/common/runtime/errors.ts';
import { forbiddenKeyProblems, toFieldProblems } from '../../functions/common/runtime/validation.ts';
import { type CaretakerConfig, configSchemaAt } from './schema.ts';

/** The config used when no `-c config=` is given: synthesizes with no account or credentials. */
export const DEFAULT_CONFIG_PATH = 'config/example.json';

/** A config that cannot be used; `problems` has one entry per bad field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly FieldProblem[];

  constructor(file: string, problems: readonly FieldProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      `Invalid Caretaker config ${file} (${count}):\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`,
    );
    this.problems = problems;
  }
}

/** How a config is judged. */
export interface ParseOptions {
  /** The time rules such as "an at() in the past" are judged against; default: now (synth time). */
  readonly now?: Date;
}

/**
 * Validates an already-parsed config document. Keys such as `__proto__` are refused anywhere in
 * it, before the schema sees it (the same shared check the functions' input validation makes).
 */
export function parseConfig(
  document: unknown,
  source = '<inline>',
  options: ParseOptions = {},
): CaretakerConfig {
  const forbidden = forbiddenKeyProblems(document);
  if (forbidden.length > 0) throw new ConfigError(source, forbidden);
  const schema = configSchemaAt(() => options.now ?? new Date());
  const result = schema.safeParse(document, { reportInput: true });
  if (!result.success) throw new ConfigError(source, toFieldProblems(result.error.issues));
  return result.data;
}

/** Reads, parses and validates the config file at `path` (relative to the working directory). */
export function loadConfig(path: string = DEFAULT_CONFIG_PATH, options: ParseOptions = {}): CaretakerConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [
      { path: '(file)', message: `cannot read ${file}: ${(error as Error).message}` },
    ]);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, [{ path: '(file)', message: `not valid JSON: ${(error as Error).message}` }]);
  }
  return parseConfig(document, path, options);
}
