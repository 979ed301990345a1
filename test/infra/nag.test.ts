import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CaretakerConfigInput } from '../../lib/config/schema.ts';
import { buildStack, exampleConfig, exampleConfigWithEnvironment } from '../support/stack.ts';

interface Violation {
  ruleName: string;
  violatingConstructs: { constructPath: string }[];
}
interface Acknowledgement {
  id: string;
  reason: string;
  path: string;
}

interface NagRun {
  violations: Violation[];
  synthError?: string;
  acknowledgements: Acknowledgement[];
}

function collectAcknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      // Recorded as { "Annotation::<rule id>": "<reason>" }.
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([key, reason]) => ({
          id: key.replace(/^Annotation::/, ''),
          reason,
          path: construct.node.path,
        })),
      ),
  );
}

function nag(config: CaretakerConfigInput, bundle: boolean): NagRun {
  let built: ReturnType<typeof buildStack>;
  try {
    built = buildStack(config, { bundle, nag: true });
  } catch (error) {
    // Synthesis stops on the first unacknowledged finding; the message names it.
    return { violations: [], synthError: (error as Error).message, acknowledgements: [] };
  }
  const { app, assemblyDirectory } = built;
  const reportFile = join(assemblyDirectory, 'validation-report.json');
  const violations = existsSync(reportFile)
    ? (
        JSON.parse(readFileSync(reportFile, 'utf8')) as { pluginReports: { violations: Violation[] }[] }
      ).pluginReports.flatMap((plugin) => plugin.violations)
    : [];
  return { violations, acknowledgements: collectAcknowledgements(app) };
}

const runs: Record<string, NagRun> = {};

beforeAll(() => {
  // The environment-agnostic example with real bundling, and the same config pinned to an account
  // and region (finding ids then carry literal regions: acknowledgements must follow).
  runs['without an environment'] = nag(exampleConfig(), true);
  runs['with an account and region'] = nag(exampleConfigWithEnvironment(), false);
}, 180_000);

describe.each(['without an environment', 'with an account and region'])('cdk-nag AwsSolutions %s', (name) => {
  it('reports no unacknowledged finding', () => {
    const { synthError, violations } = runs[name]!;
    expect(synthError).toBeUndefined();
    const findings = violations.flatMap((v) =>
      v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`),
    );

    expect(findings).toEqual([]);
  });

  it('has acknowledgements, each naming one exact finding with a reason', () => {
    const { acknowledgements } = runs[name]!;
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const ack of acknowledgements) {
      expect(ack.id, ack.path).toMatch(/^AwsSolutions-[A-Z]+\d+(\[[^\]]+\])?$/);
      if (/^AwsSolutions-IAM[45]/.test(ack.id))
        expect(ack.id, `${ack.path} must name the finding`).toContain('[');
      expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(30);
    }
  });
});
