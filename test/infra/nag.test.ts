import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack } from '../support/stack.ts';

interface Violation {
  ruleName: string;
  violatingConstructs: { constructPath: string }[];
}
interface Acknowledgement {
  id: string;
  reason: string;
  path: string;
}

let violations: Violation[] = [];
let synthError: string | undefined;
let acknowledgements: Acknowledgement[] = [];

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

beforeAll(() => {
  let built: ReturnType<typeof buildStack>;
  try {
    built = buildStack(undefined, { bundle: true, nag: true });
  } catch (error) {
    // Synthesis stops on the first unacknowledged finding; the message names it.
    synthError = (error as Error).message;
    return;
  }
  const { app, assemblyDirectory } = built;
  const reportFile = join(assemblyDirectory, 'validation-report.json');
  if (existsSync(reportFile)) {
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      pluginReports: { violations: Violation[] }[];
    };
    violations = report.pluginReports.flatMap((plugin) => plugin.violations);
  }
  acknowledgements = collectAcknowledgements(app);
}, 120_000);

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding', () => {
    expect(synthError).toBeUndefined();
    const findings = violations.flatMap((v) =>
      v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`),
    );

    expect(findings).toEqual([]);
  });

  it('has acknowledgements, each naming one exact finding with a reason', () => {
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const ack of acknowledgements) {
      expect(ack.id, ack.path).toMatch(/^AwsSolutions-[A-Z]+\d+(\[[^\]]+\])?$/);
      if (/^AwsSolutions-IAM[45]/.test(ack.id))
        expect(ack.id, `${ack.path} must name the finding`).toContain('[');
      expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(30);
    }
  });
});
