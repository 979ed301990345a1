/**
 * End to end: Caretaker's example stack synthesized, deployed into a sandbox that enforces IAM, and
 * its Cleanup flow run with {"dryRun": true}: every call its state machine and functions make is
 * decided by the template's own policies.
 * The deployed template as synthesized must run with zero denials; then one permission at a time
 * is removed and the denial must be recorded, naming the role, the action and the resource.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeployResult,
  deployStack,
  type SynthesizedAssembly,
  synthesize,
} from '../../sandbox/deploy/index.ts';
import type { CfnTemplate } from '../../sandbox/deploy/template.ts';
import { DEFAULT_SERVICES } from '../../sandbox/index.ts';
import type { StatesService } from '../../sandbox/services/states/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import { asAdministrator } from './iam-support.ts';

const handle = withSandbox(DEFAULT_SERVICES, {
  settings: {
    iam: { enforcement: 'enforce' },
    scheduler: { evaluate: false },
    lambda: { registerCaretakerFunctions: false, environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } },
    // The flows retry a refused Lambda call (Lambda.AWSLambdaException) with backoff, as in AWS.
    states: { timeScale: 0.01 },
  },
});
const sandbox = () => handle.sandbox;

type Statement = Record<string, unknown>;
type Template = CfnTemplate & {
  Resources: Record<string, { Type: string; Properties?: Record<string, any> }>;
};

let assembly: SynthesizedAssembly;
let original: Template;
const copies: string[] = [];

beforeAll(() => {
  assembly = synthesize({ configPath: 'config/example.json' });
  original = JSON.parse(
    readFileSync(join(assembly.assemblyDir, `${assembly.stackName}.template.json`), 'utf8'),
  ) as Template;
}, 300_000);

afterAll(() => {
  assembly?.cleanup();
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

function policyOf(template: Template, prefix: string): { Statement: Statement[] } {
  const entry = Object.entries(template.Resources).find(
    ([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith(prefix),
  );
  if (!entry) throw new Error(`no AWS::IAM::Policy ${prefix}* in the template`);
  return entry[1].Properties?.PolicyDocument as { Statement: Statement[] };
}

/** A copy of the assembly whose template `change` edited. */
function assemblyWith(change: (template: Template) => void): string {
  const directory = mkdtempSync(join(tmpdir(), 'caretaker-iam-stack-'));
  copies.push(directory);
  cpSync(assembly.assemblyDir, directory, { recursive: true });
  const template = structuredClone(original);
  change(template);
  writeFileSync(join(directory, `${assembly.stackName}.template.json`), JSON.stringify(template));
  return directory;
}

/** Deploys, runs the Cleanup flow with {"dryRun": true}, and returns its outcome with the denials it caused. */
async function dryRun(assemblyDir: string) {
  const deployed: DeployResult = await deployStack(sandbox(), { assemblyDir });
  const before = sandbox().denials().length;
  const sfn = new SFNClient(asAdministrator(sandbox()));
  const { executionArn = '' } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: deployed.outputs.CleanupStateMachineArn,
      input: '{"dryRun": true}',
    }),
  );
  await sandbox().context.service<StatesService>('states')?.execution(executionArn)?.done;
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { deployed, described, denials: sandbox().denials().slice(before) };
}

describe("Caretaker's stack under IAM enforcement", () => {
  it('runs the Cleanup dry run of the template as synthesized to success with zero denials', async () => {
    const { deployed, described, denials } = await dryRun(assembly.assemblyDir);

    expect(deployed.warnings.filter((warning) => warning.startsWith('IAM'))).toEqual([]);
    expect(denials).toEqual([]);
    expect(described.status, described.cause).toBe('SUCCEEDED');
    expect(JSON.parse(described.output ?? '{}')).toMatchObject({
      dryRun: true,
      cleanup: { report: { dryRun: true } },
    });
  }, 120_000);

  it('records the denial naming the role, action and bucket when the cleanup role loses s3:ListBucket', async () => {
    const { deployed, described, denials } = await dryRun(
      assemblyWith((template) => {
        const policy = policyOf(template, 'CleanupFunctionRoleDefaultPolicy');
        policy.Statement = policy.Statement.filter(
          (statement) => !([] as unknown[]).concat(statement.Action).includes('s3:ListBucket'),
        );
      }),
    );
    const bucketArn =
      deployed.resources[
        Object.keys(deployed.resources).find(
          (id) => id.startsWith('StorageBackups') && deployed.resources[id]?.type === 'AWS::S3::Bucket',
        ) ?? ''
      ]?.arn;
    const cleanupRole = Object.values(deployed.resources).find(
      (r) => r.type === 'AWS::IAM::Role' && r.physicalId.includes('CleanupFunctionRole'),
    )?.arn;
    const targets = JSON.parse(described.output ?? '{}').cleanup.report.targets as {
      resource: string;
      status: string;
      reason: string;
    }[];

    expect(denials).toEqual([
      expect.objectContaining({
        roleArn: cleanupRole,
        action: 's3:ListBucket',
        resources: [bucketArn],
        service: 's3',
        enforced: true,
      }),
    ]);
    expect(denials[0]?.principal).toMatch(
      /^arn:aws:sts::000000000000:assumed-role\/.*CleanupFunctionRole.*\/.*CleanupFunction/,
    );
    expect(targets.find((target) => target.resource === 'backups')).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining(
        `is not authorized to perform: s3:ListBucket on resource: "${bucketArn}"`,
      ),
    });
  }, 120_000);

  it("fails the flow with Lambda.AWSLambdaException when the flow's role may no longer invoke the cleanup function", async () => {
    const { deployed, described, denials } = await dryRun(
      assemblyWith((template) => {
        const policy = policyOf(template, 'CleanupFlowStateMachineRoleDefaultPolicy');
        for (const statement of policy.Statement) {
          if (statement.Action !== 'lambda:InvokeFunction') continue;
          statement.Resource = (statement.Resource as unknown[]).filter(
            (resource) => !JSON.stringify(resource).includes('CleanupFunction'),
          );
        }
      }),
    );
    const cleanupFunction = Object.values(deployed.resources).find(
      (r) => r.type === 'AWS::Lambda::Function' && r.physicalId.includes('CleanupFunction'),
    )?.arn;

    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('Lambda.AWSLambdaException');
    // One denial per attempt: the task's Retry covers Lambda.AWSLambdaException.
    expect(denials.length).toBeGreaterThan(0);
    for (const denial of denials) {
      expect(denial).toMatchObject({
        action: 'lambda:InvokeFunction',
        resources: [cleanupFunction],
        origin: 'states',
        roleArn: expect.stringContaining('CleanupFlowStateMachineRole'),
      });
    }
  }, 120_000);
});
