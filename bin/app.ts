/**
 * The CDK app: one Caretaker stack for the environment described by `-c config=<path>`
 * (default config/example.json), checked by cdk-nag's AwsSolutions rules.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CaretakerStack } from '../lib/caretaker-stack.ts';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../lib/config/load.ts';
import { FEATURE_FLAGS } from '../lib/feature-flags.ts';

const app = new App({ context: FEATURE_FLAGS });
const configPath = (app.node.tryGetContext('config') as string | undefined) ?? DEFAULT_CONFIG_PATH;

try {
  const config = loadConfig(configPath);
  const { account, region } = config.environment;
  new CaretakerStack(app, `Caretaker-${config.environment.name}`, {
    config,
    env: account || region ? { account, region } : undefined,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
