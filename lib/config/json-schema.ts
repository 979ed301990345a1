/**
 * The config's JSON Schema, generated from the zod schema (lib/config/schema.ts) so that editors
 * complete and check a config file that names it in `$schema`. It describes the file as written
 * (defaults make fields optional) and the rules a JSON Schema can say; the cross-field rules
 * (unique names, references, schedules in the time zone) are checked by `cdk synth` only.
 */
import * as z from 'zod';
import { configSchema } from './schema.ts';

/** Where the generated schema is committed, relative to the package root. */
export const CONFIG_JSON_SCHEMA_PATH = 'config/caretaker.schema.json';

/** A JSON Schema node, as far as the generators read it. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly title?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly propertyNames?: JsonSchema;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly [keyword: string]: unknown;
}

/** The config's JSON Schema (draft 2020-12), as committed in {@link CONFIG_JSON_SCHEMA_PATH}. */
export function configJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(configSchema, {
    target: 'draft-2020-12',
    // The file as written: a field with a default is optional.
    io: 'input',
    // Refinements (custom checks) have no JSON Schema form: they are left to synth.
    unrepresentable: 'any',
  }) as JsonSchema;
  const { $schema, ...body } = generated;
  return {
    $schema,
    title: 'Caretaker configuration',
    description:
      'One Caretaker environment: what to look after and how (docs/config-reference.md). `cdk synth` checks more than this schema: unique names, references between sections, schedules in the time zone.',
    ...body,
  };
}

/** The schema as the committed file holds it. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
