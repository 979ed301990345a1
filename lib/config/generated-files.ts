/**
 * The files generated from the config schema: the JSON Schema editors use and the config
 * reference's field tables. `npm run docs:config` writes them; a test fails when the committed
 * ones differ from what this generates.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchema, configJsonSchemaText } from './json-schema.ts';
import { renderReference } from './reference.ts';

/** Where the config reference is, relative to the package root. */
export const CONFIG_REFERENCE_PATH = 'docs/config-reference.md';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One generated file: where it goes (relative to the package root) and what it should hold. */
export interface GeneratedFile {
  readonly path: string;
  readonly text: string;
}

/** The generated files as they should be, from the schema and the reference's current prose. */
export function configGeneratedFiles(root: string = ROOT): GeneratedFile[] {
  const reference = readFileSync(`${root}${CONFIG_REFERENCE_PATH}`, 'utf8');
  return [
    { path: CONFIG_JSON_SCHEMA_PATH, text: configJsonSchemaText() },
    { path: CONFIG_REFERENCE_PATH, text: renderReference(reference, configJsonSchema()) },
  ];
}
