/**
 * The CDK app: one Caretaker stack for the environment described by `-c config=<path>`
 * (default config/example.json), checked by cdk-nag's AwsSolutions rules. It ends with a short
 * summary (lib/synth-summary.ts) on stderr; the template stays in the cloud assembly (cdk.json
 * sets `quiet`, so `cdk synth` does not print it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import { caretakerApp } from '../lib/app.ts';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../lib/config/load.ts';
import { quietBundling, synthSummary } from '../lib/synth-summary.ts';

// The config path is context; read it before building the real app (from an app that never
// synthesizes: its empty assembly would replace the real one when the process exits).
const configPath =
  (new App({ autoSynth: false }).node.tryGetContext('config') as string | undefined) ?? DEFAULT_CONFIG_PATH;

interface ValidationReport {
  readonly pluginReports?: readonly {
    readonly violations?: readonly {
      readonly ruleName: string;
      readonly violatingResources?: readonly { readonly resourceLogicalId?: string }[];
    }[];
  }[];
}

/** Unacknowledged cdk-nag findings from the assembly's validation report (none when it has none). */
function nagFindings(directory: string): string[] {
  const file = join(directory, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as ValidationReport;
  return (report.pluginReports ?? []).flatMap((plugin) =>
    (plugin.violations ?? []).flatMap((violation) =>
      (violation.violatingResources ?? [{}]).map((resource) =>
        `${violation.ruleName} ${resource.resourceLogicalId ?? ''}`.trim(),
      ),
    ),
  );
}

try {
  const started = Date.now();
  const { result: assembly, bundled } = quietBundling(() => {
    const { app } = caretakerApp({ config: loadConfig(configPath) });
    return app.synth();
  });
  for (const stack of assembly.stacks) {
    process.stderr.write(
      synthSummary({
        stackName: stack.stackName,
        template: stack.template,
        templateFile: relative(process.cwd(), join(assembly.directory, stack.templateFile)),
        nagFindings: nagFindings(assembly.directory),
        bundledAssets: bundled,
        seconds: (Date.now() - started) / 1000,
      }),
    );
  }
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
