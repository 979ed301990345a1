/**
 * IAM enforced where code runs: a deployed function's calls carry its role (its environment holds
 * the role session's keys and the HTTPS endpoint, and its worker trusts the sandbox CA); a state
 * machine invokes, starts and publishes as its own role (a refused Lambda task fails as Step
 * Functions reports it); a schedule delivers as its role; the Lambda, Step Functions and Scheduler
 * APIs refuse a role session with AccessDeniedException.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateScheduleCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployStack } from '../../sandbox/deploy/index.ts';
import type { CfnTemplate } from '../../sandbox/deploy/template.ts';
import { iamRegistryService } from '../../sandbox/iam-registry/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { type SchedulerService, schedulerService } from '../../sandbox/services/scheduler/index.ts';
import { snsService } from '../../sandbox/services/sns/index.ts';
import { type StatesService, statesService } from '../../sandbox/services/states/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import { ACCOUNT, asAdministrator, asRole, failure, REGION, role } from './iam-support.ts';

const handle = withSandbox(
  [s3Service, kmsService, snsService, lambdaService, statesService, schedulerService, iamRegistryService],
  {
    settings: {
      iam: { enforcement: 'enforce' },
      scheduler: { evaluate: false },
      lambda: { registerCaretakerFunctions: false },
      states: { timeScale: 0.01 },
    },
  },
);
const sandbox = () => handle.sandbox;
const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const FUNCTION = 'echo';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${FUNCTION}`;
const ECHO = new URL('../fixtures/statemachines/handlers/echo.ts', import.meta.url).pathname;
const sfn = () => new SFNClient(asAdministrator(sandbox()));

beforeAll(() => {
  sandbox()
    .context.service<LambdaService>('lambda')
    ?.register({ name: FUNCTION, modulePath: ECHO, region: REGION });
});

/** Creates a state machine running `definition` with a role of `statements`; returns its ARN and role. */
async function machine(name: string, definition: unknown, statements: readonly unknown[]) {
  const machineRole = role(sandbox(), `${name}Role`, statements, name);
  const { stateMachineArn } = await sfn().send(
    new CreateStateMachineCommand({
      name,
      definition: JSON.stringify(definition),
      roleArn: machineRole.roleArn,
    }),
  );
  return { stateMachineArn: stateMachineArn ?? '', machineRole };
}

async function run(stateMachineArn: string, input: unknown = {}) {
  const { executionArn } = await sfn().send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
  );
  const record = sandbox()
    .context.service<StatesService>('states')
    ?.execution(executionArn ?? '');
  await record?.done;
  return sfn().send(new DescribeExecutionCommand({ executionArn }));
}

const invokeTask = (resource = 'arn:aws:states:::lambda:invoke') => ({
  StartAt: 'Call',
  States: {
    Call: {
      Type: 'Task',
      Resource: resource,
      ...(resource.includes(':::') ? { Parameters: { FunctionName: FUNCTION_ARN, 'Payload.$': '$' } } : {}),
      End: true,
    },
  },
});
const mayInvoke = {
  Effect: 'Allow',
  Action: 'lambda:InvokeFunction',
  Resource: [FUNCTION_ARN, `${FUNCTION_ARN}:*`],
};

describe("a state machine's own calls", () => {
  it('invoke a function when its role may', async () => {
    const { stateMachineArn } = await machine('Allowed', invokeTask(), [mayInvoke]);

    expect((await run(stateMachineArn, { n: 1 })).status).toBe('SUCCEEDED');
  });

  it('fail the Lambda task with Lambda.AWSLambdaException when its role lacks lambda:InvokeFunction', async () => {
    const { stateMachineArn, machineRole } = await machine('Refused', invokeTask(), []);

    const described = await run(stateMachineArn);

    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('Lambda.AWSLambdaException');
    expect(described.cause).toMatch(
      new RegExp(
        `^User: ${machineRole.principal} is not authorized to perform: lambda:InvokeFunction on resource: ${FUNCTION_ARN} because no identity-based policy allows the lambda:InvokeFunction action \\(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: [0-9a-f-]+; Proxy: null\\)$`,
      ),
    );
    expect(sandbox().denials().at(-1)).toMatchObject({
      origin: 'states',
      service: 'states',
      operation: 'Invoke',
      roleArn: machineRole.roleArn,
    });
  });

  it('fail a legacy Lambda-ARN task the same way', async () => {
    const { stateMachineArn } = await machine('RefusedLegacy', invokeTask(FUNCTION_ARN), []);

    expect((await run(stateMachineArn)).error).toBe('Lambda.AWSLambdaException');
  });

  it('fail a nested execution with StepFunctions.AccessDeniedException when the role may not start the child', async () => {
    const child = await machine(
      'Child',
      { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } },
      [],
    );
    const { stateMachineArn } = await machine(
      'Parent',
      {
        StartAt: 'Start',
        States: {
          Start: {
            Type: 'Task',
            Resource: 'arn:aws:states:::states:startExecution',
            Parameters: { StateMachineArn: child.stateMachineArn },
            End: true,
          },
        },
      },
      [],
    );

    const described = await run(stateMachineArn);

    expect(described.error).toBe('StepFunctions.AccessDeniedException');
    expect(described.cause).toContain(
      `is not authorized to perform: states:StartExecution on resource: ${child.stateMachineArn}`,
    );
  });

  it('refuse to create a .sync state machine whose role may not manage the managed rule, as AWS does', async () => {
    const waits = {
      StartAt: 'Wait',
      States: {
        Wait: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution.sync:2',
          Parameters: { StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Child' },
          End: true,
        },
      },
    };
    const events = {
      Effect: 'Allow',
      Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      Resource: `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`,
    };

    const refused = await failure(machine('SyncWithoutRule', waits, []));
    const created = await machine('SyncWithRule', waits, [events]);

    expect(refused.name).toBe('AccessDeniedException');
    expect(refused.message).toBe(
      `'arn:aws:iam::${ACCOUNT}:role/SyncWithoutRuleRole' is not authorized to create managed-rule.`,
    );
    expect(created.stateMachineArn).toContain('SyncWithRule');
  });
});

describe('the APIs, called by a role session', () => {
  it('refuse lambda:InvokeFunction with AccessDeniedException (403) and allow it when granted', async () => {
    const caller = role(sandbox(), 'Invoker', [mayInvoke]);
    const stranger = role(sandbox(), 'NotInvoker', []);

    const invoked = await new LambdaClient(asRole(sandbox(), caller)).send(
      new InvokeCommand({ FunctionName: FUNCTION, Payload: '{}' }),
    );
    const refused = await failure(
      new LambdaClient(asRole(sandbox(), stranger)).send(
        new InvokeCommand({ FunctionName: FUNCTION, Payload: '{}' }),
      ),
    );

    expect(invoked.StatusCode).toBe(200);
    expect(refused.name).toBe('AccessDeniedException');
    expect(refused.$metadata?.httpStatusCode).toBe(403);
  });

  it('refuse states:StartExecution with AccessDeniedException (400)', async () => {
    const { stateMachineArn } = await machine(
      'Target',
      { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } },
      [],
    );
    const stranger = role(sandbox(), 'NotStarter', []);

    const refused = await failure(
      new SFNClient(asRole(sandbox(), stranger)).send(new StartExecutionCommand({ stateMachineArn })),
    );

    expect(refused.name).toBe('AccessDeniedException');
    expect(refused.$metadata?.httpStatusCode).toBe(400);
    expect(refused.message).toContain(`states:StartExecution on resource: ${stateMachineArn}`);
  });

  it('refuse scheduler:GetSchedule with AccessDeniedException (403)', async () => {
    const stranger = role(sandbox(), 'NotScheduler', []);

    const refused = await failure(
      new SchedulerClient(asRole(sandbox(), stranger)).send(new GetScheduleCommand({ Name: 'any' })),
    );

    expect(refused.name).toBe('AccessDeniedException');
    expect(refused.$metadata?.httpStatusCode).toBe(403);
  });
});

describe('a schedule delivering to its target', () => {
  it("starts the execution only when the schedule's role may", async () => {
    const { stateMachineArn } = await machine(
      'Scheduled',
      { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } },
      [],
    );
    const mayStart = role(sandbox(), 'MayStart', [
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: stateMachineArn },
    ]);
    const mayNot = role(sandbox(), 'MayNotStart', []);
    const scheduler = new SchedulerClient(asAdministrator(sandbox()));
    for (const [name, target] of [
      ['allowed', mayStart],
      ['refused', mayNot],
    ] as const) {
      await scheduler.send(
        new CreateScheduleCommand({
          Name: name,
          ScheduleExpression: 'rate(1 minute)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: { Arn: stateMachineArn, RoleArn: target.roleArn },
        }),
      );
    }

    const fired = await sandbox()
      .context.service<SchedulerService>('scheduler')
      ?.runDue(new Date(Date.now() + 120_000));

    const outcomes = Object.fromEntries(
      (fired ?? []).map((invocation) => [invocation.scheduleArn.split('/').at(-1), invocation]),
    );
    expect(outcomes.allowed?.outcome).toBe('started');
    expect(outcomes.refused?.outcome).toBe('failed');
    expect(outcomes.refused?.error).toContain(
      `AccessDeniedException: User: arn:aws:sts::${ACCOUNT}:assumed-role/MayNotStart/refused is not authorized to perform: states:StartExecution`,
    );
    expect(
      sandbox()
        .denials()
        .some((denial) => denial.origin === 'scheduler' && denial.roleArn === mayNot.roleArn),
    ).toBe(true);
  });
});

/** A one-stack cloud assembly of `template`, as `cdk synth` lays it out. */
function assembly(template: CfnTemplate, stackName = 'Writers'): string {
  const directory = mkdtempSync(join(tmpdir(), 'caretaker-iam-assembly-'));
  directories.push(directory);
  writeFileSync(join(directory, `${stackName}.template.json`), JSON.stringify(template));
  writeFileSync(
    join(directory, 'manifest.json'),
    JSON.stringify({
      version: '55.0.0',
      artifacts: {
        [stackName]: {
          type: 'aws:cloudformation:stack',
          environment: 'aws://unknown-account/unknown-region',
          properties: { templateFile: `${stackName}.template.json` },
        },
      },
    }),
  );
  return directory;
}

describe("a deployed function's own calls", () => {
  const code = [
    "const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');",
    'const s3 = new S3Client({ forcePathStyle: true });',
    'exports.handler = async (event) => {',
    '  const seen = { endpoint: process.env.AWS_ENDPOINT_URL, key: process.env.AWS_ACCESS_KEY_ID };',
    "  try { await s3.send(new PutObjectCommand({ Bucket: event.bucket, Key: event.key, Body: 'x' })); return { ...seen, ok: true }; }",
    '  catch (error) { return { ...seen, ok: false, name: error.name, message: error.message }; }',
    '};',
  ].join('\n');

  it('carry its role over HTTPS: allowed under its grant, refused elsewhere by name of its session', async () => {
    await new S3Client({ ...asAdministrator(sandbox()), forcePathStyle: true }).send(
      new CreateBucketCommand({ Bucket: 'fn-target' }),
    );
    const trust = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    };
    const result = await deployStack(sandbox(), {
      assemblyDir: assembly({
        Resources: {
          WriterRole: {
            Type: 'AWS::IAM::Role',
            Properties: { RoleName: 'writer', AssumeRolePolicyDocument: trust },
          },
          WriterPolicy: {
            Type: 'AWS::IAM::Policy',
            Properties: {
              PolicyName: 'WriterPolicy',
              Roles: [{ Ref: 'WriterRole' }],
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::fn-target/allowed/*' },
                ],
              },
            },
          },
          Writer: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              FunctionName: 'writer',
              Runtime: 'nodejs22.x',
              Handler: 'index.handler',
              Code: { ZipFile: code },
              Role: { 'Fn::GetAtt': ['WriterRole', 'Arn'] },
            },
          },
        },
      }),
    });
    const lambda = sandbox().context.service<LambdaService>('lambda');
    const invoke = async (key: string) =>
      JSON.parse(
        (
          await lambda?.invoke({
            functionName: 'writer',
            region: REGION,
            payload: JSON.stringify({ bucket: 'fn-target', key }),
          })
        )?.payload ?? '{}',
      );

    const allowed = await invoke('allowed/a.txt');
    const refused = await invoke('elsewhere/a.txt');

    expect(result.functions.writer).toBe(`arn:aws:iam::${ACCOUNT}:role/writer`);
    expect(allowed).toMatchObject({ ok: true, endpoint: sandbox().httpsUrl });
    expect(allowed.key).toMatch(/^ASIA/);
    expect(refused).toMatchObject({ ok: false, name: 'AccessDenied' });
    expect(refused.message).toContain(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/writer/writer is not authorized to perform: s3:PutObject`,
    );
  }, 60_000);
});

describe('policies at deploy', () => {
  const trust = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
  };
  const roleWith = (statement: unknown) => ({
    Resources: {
      LintedRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: trust,
          Policies: [
            { PolicyName: 'Inline', PolicyDocument: { Version: '2012-10-17', Statement: [statement] } },
          ],
        },
      },
    },
  });

  it("reports a misspelt action and an unknown condition key in the deployment's warnings", async () => {
    const result = await deployStack(sandbox(), {
      assemblyDir: assembly(
        roleWith({
          Sid: 'Typo',
          Effect: 'Allow',
          Action: ['s3:GetObjekt'],
          Resource: '*',
          Condition: { StringEquals: { 's3:prefixx': 'a' } },
        }),
        'Linted',
      ),
    });

    expect(result.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^IAM lint \(error\): policy Inline \(LintedRole\) \(identity-based\), statement 0 "Typo", Action\[0\]: s3:GetObjekt is not a s3 action$/,
        ),
        expect.stringMatching(
          /Condition\.StringEquals\.s3:prefixx: s3:prefixx is not a known global or service condition key$/,
        ),
      ]),
    );
  });

  it('fails the deployment at a policy IAM refuses as malformed, naming the resource', async () => {
    const refused = await failure(
      deployStack(sandbox(), {
        assemblyDir: assembly(
          roleWith({ Effect: 'Permit', Action: 's3:GetObject', Resource: '*' }),
          'Malformed',
        ),
      }),
    );

    expect(refused.message).toMatch(/^LintedRole \(AWS::IAM::Role\): MalformedPolicyDocument: .*Effect/);
  });
});
