/**
 * The config contract for tools that only read or check a Caretaker config (no CDK needed):
 * `caretaker/config`.
 */
export { CONFIG_JSON_SCHEMA_PATH, configJsonSchema } from './json-schema.ts';
export { ConfigError, DEFAULT_CONFIG_PATH, loadConfig, type ParseOptions, parseConfig } from './load.ts';
export {
  type CaretakerConfig,
  type CaretakerConfigInput,
  configSchema,
  configSchemaAt,
  DEFAULT_SCHEDULES,
} from './schema.ts';
