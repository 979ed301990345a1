/**
 * The Caretaker CDK app for one config: the feature flags, the stack (`Caretaker-<environment>`,
 * pinned to the config's account and region when it sets them) and cdk-nag's AwsSolutions checks.
 * `cdk synth` (bin/app.ts) and the sandbox's in-process synthesis both build it here, so what the
 * sandbox rehearses is what `cdk deploy` ships.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CaretakerStack } from './caretaker-stack.ts';
import type { CaretakerConfig } from './config/schema.ts';
import { FEATURE_FLAGS } from './feature-flags.ts';

export interface CaretakerAppOptions {
  readonly config: CaretakerConfig;
  /** Where the cloud assembly goes. @default the CDK's (cdk.out, or the CLI's choice) */
  readonly outdir?: string;
}

export function caretakerApp(options: CaretakerAppOptions): { app: App; stack: CaretakerStack } {
  const { config } = options;
  const app = new App({
    context: { ...FEATURE_FLAGS },
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const { account, region } = config.environment;
  const stack = new CaretakerStack(app, `Caretaker-${config.environment.name}`, {
    config,
    ...(account || region ? { env: { account, region } } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
