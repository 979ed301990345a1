/**
 * The CDK app: one Caretaker stack for the environment described by `-c config=<path>`
 * (default config/example.json), checked by cdk-nag's AwsSolutions rules.
 */
import { App } from 'aws-cdk-lib';
import { caretakerApp } from '../lib/app.ts';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../lib/config/load.ts';

// The config path is context; read it before building the real app.
const configPath = (new App().node.tryGetContext('config') as string | undefined) ?? DEFAULT_CONFIG_PATH;

try {
  caretakerApp({ config: loadConfig(configPath) });
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
