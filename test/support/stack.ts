/** Builds the Caretaker stack for infra tests. */
import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CaretakerStack } from '../../lib/caretaker-stack.ts';
import { parseConfig } from '../../lib/config/load.ts';
import type { CaretakerConfigInput } from '../../lib/config/schema.ts';
import { FEATURE_FLAGS } from '../../lib/feature-flags.ts';

/** The committed example config, parsed as JSON (before defaults). */
export function exampleConfig(): CaretakerConfigInput {
  return JSON.parse(readFileSync('config/example.json', 'utf8')) as CaretakerConfigInput;
}

/**
 * Synthesizes a stack from `config` (default: the example), pinned to the config's account and
 * region when it sets them, as the app does. Lambda bundling is skipped unless
 * `bundle` is set, so property tests stay fast. With `nag`, cdk-nag's AwsSolutions checks run
 * during this (the app's only) synthesis and `assemblyDirectory` holds their report.
 */
export function buildStack(
  config: CaretakerConfigInput = exampleConfig(),
  options: { bundle?: boolean; nag?: boolean } = {},
) {
  const parsed = parseConfig(config);
  const { account, region } = parsed.environment;
  const context: Record<string, unknown> = { ...FEATURE_FLAGS };
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ context });
  // As bin/app.ts does: an account/region in the config pins the stack's environment.
  const stack = new CaretakerStack(app, 'Caretaker-test', {
    config: parsed,
    ...(account || region ? { env: { account, region } } : {}),
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assemblyDirectory = app.synth().directory;
  return { app, stack, template: Template.fromStack(stack), assemblyDirectory };
}

/** The example config pinned to an account and region (how the README says to deploy). */
export function exampleConfigWithEnvironment(): CaretakerConfigInput {
  const config = exampleConfig();
  return {
    ...config,
    environment: { ...config.environment, account: '111122223333', region: 'eu-central-1' },
  };
}
