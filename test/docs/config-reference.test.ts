/**
 * The JSON Schema editors use (config/caretaker.schema.json) and the field tables of the config
 * reference are generated from the zod config schema as committed (`npm run docs:config`), and
 * the JSON Schema checks a config file the way an editor would.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { configGeneratedFiles } from '../../lib/config/generated-files.ts';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchema, type JsonSchema } from '../../lib/config/json-schema.ts';
import { parseConfig } from '../../lib/config/load.ts';
import { renderReference } from '../../lib/config/reference.ts';

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** An ajv validator of the committed schema, as strict as an editor's JSON language service. */
function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv.compile(readJson(CONFIG_JSON_SCHEMA_PATH));
}

describe('the generated config files', () => {
  it.each(configGeneratedFiles().map((file) => [file.path, file.text] as const))(
    '%s is as generated from the schema',
    (path, text) => {
      expect(readFileSync(path, 'utf8'), `${path} is stale: run npm run docs:config`).toBe(text);
    },
  );
});

describe('config/caretaker.schema.json', () => {
  const configs = readdirSync('config').filter(
    (file) => file.endsWith('.json') && !file.endsWith('.schema.json'),
  );

  it.each(configs)('accepts config/%s', (file) => {
    const validate = validator();

    const valid = validate(readJson(`config/${file}`));

    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is named by the example config, which synth accepts with it', () => {
    const example = readJson('config/example.json');

    expect(example.$schema).toBe('./caretaker.schema.json');
    expect(() => parseConfig(example, 'config/example.json')).not.toThrow();
  });

  it('flags a misspelt field and a wrong type at their paths, as an editor would', () => {
    const validate = validator();
    const config = {
      environment: { name: 'prod', timezone: 'UTC' },
      backupSets: [{ name: 'docs', sourceBucket: 'docs-bucket', prefix: 7, retention: 'daily' }],
    };

    validate(config);

    const problems = (validate.errors ?? []).map((error) => [error.instancePath, error.keyword]);
    expect(problems).toContainEqual(['/environment', 'additionalProperties']);
    expect(problems).toContainEqual(['/backupSets/0/prefix', 'type']);
  });

  it('completes a field with its description and default', () => {
    const schema = configJsonSchema();

    const retention = schema.properties?.logRetentionDays;

    expect(retention?.default).toBe(30);
    expect(retention?.description).toMatch(/days function and flow logs are kept/);
  });
});

describe('renderReference', () => {
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'what it is called' },
      limits: {
        type: 'object',
        description: 'how far it goes',
        properties: { max: { type: 'integer', minimum: 1, maximum: 9, default: 3, description: 'at most' } },
      },
    },
    required: ['name'],
  };
  const docs = 'Intro.\n\n<!-- generated:fields . -->\nold table\n<!-- /generated -->\n\nOutro.\n';

  it('rewrites the table between the markers and keeps the prose', () => {
    const rendered = renderReference(docs, schema);

    expect(rendered).toBe(
      [
        'Intro.',
        '',
        '<!-- generated:fields . -->',
        '| field | type | default | meaning |',
        '| --- | --- | --- | --- |',
        '| `name` | string | **required** | what it is called |',
        '| `limits` | object | — | how far it goes |',
        '| `limits.max` | integer 1–9 | `3` | at most |',
        '<!-- /generated -->',
        '',
        'Outro.',
        '',
      ].join('\n'),
    );
  });

  it('refuses a field without a description, naming it', () => {
    const undescribed: JsonSchema = { type: 'object', properties: { name: { type: 'string' } } };

    expect(() => renderReference(docs, undescribed)).toThrow(/name: no description/);
  });

  it('refuses a field no table lists, naming it', () => {
    const shallow = docs.replace('fields . -->', 'fields . shallow -->');

    expect(() => renderReference(shallow, schema)).toThrow(/limits\.max: in no generated table/);
  });
});
