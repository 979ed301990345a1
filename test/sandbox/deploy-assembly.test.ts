/**
 * `deployStack` with small cloud assemblies written by the test: refusals (an unknown type, a
 * placeholder without a substitution, a reference to nothing), a stack pinned to another account,
 * and a scheduled flow whose function (inline code, using the AWS SDK the runtime provides) sends
 * to a queue, fired by the sandbox scheduler's own timer on a once-a-minute rate.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { deployStack } from '../../sandbox/deploy/index.ts';
import type { CfnTemplate } from '../../sandbox/deploy/template.ts';
import { DEFAULT_SERVICES } from '../../sandbox/index.ts';
import type { SchedulerService } from '../../sandbox/services/scheduler/index.ts';
import type { StatesService } from '../../sandbox/services/states/index.ts';
import { withSandbox } from '../support/sandbox.ts';

const handle = withSandbox(DEFAULT_SERVICES, {
  settings: { lambda: { registerCaretakerFunctions: false } },
});
const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** A cloud assembly with one stack, as `cdk synth` lays it out. */
function assembly(
  stackName: string,
  template: CfnTemplate,
  environment = 'aws://unknown-account/unknown-region',
) {
  const directory = mkdtempSync(join(tmpdir(), 'caretaker-test-assembly-'));
  directories.push(directory);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, `${stackName}.template.json`), JSON.stringify(template));
  writeFileSync(
    join(directory, 'manifest.json'),
    JSON.stringify({
      version: '55.0.0',
      artifacts: {
        [stackName]: {
          type: 'aws:cloudformation:stack',
          environment,
          properties: { templateFile: `${stackName}.template.json` },
        },
      },
    }),
  );
  return directory;
}

const role = {
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    },
  },
};

describe('refusals', () => {
  it('refuses a template with a resource type it does not know, naming it, and creates nothing', async () => {
    const directory = assembly('Unknown', {
      Resources: {
        Bucket: { Type: 'AWS::S3::Bucket' },
        Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      },
    });

    await expect(deployStack(handle.sandbox, { assemblyDir: directory })).rejects.toThrow(
      'The sandbox cannot deploy resource types it does not know: AWS::DynamoDB::Table (Table)',
    );
    const { Buckets } = await new S3Client({ forcePathStyle: true }).send(new ListBucketsCommand({}));
    expect(Buckets?.filter((bucket) => bucket.Name?.startsWith('unknown-'))).toEqual([]);
  });

  it('refuses a state machine whose definition has a placeholder without a substitution', async () => {
    const directory = assembly('Placeholder', {
      Resources: {
        Role: role,
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            RoleArn: { 'Fn::GetAtt': ['Role', 'Arn'] },
            DefinitionString:
              '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${MissingArn}","End":true}}}',
            DefinitionSubstitutions: { OtherArn: 'x' },
          },
        },
      },
    });

    await expect(deployStack(handle.sandbox, { assemblyDir: directory })).rejects.toThrow(
      'Machine (AWS::StepFunctions::StateMachine): the definition has placeholders without a DefinitionSubstitutions entry: ${MissingArn}',
    );
  });

  it('refuses a reference to a resource the template does not define, naming the property', async () => {
    const directory = assembly('Dangling', {
      Resources: {
        Queue: {
          Type: 'AWS::SQS::Queue',
          Properties: { KmsMasterKeyId: { 'Fn::GetAtt': ['NoKey', 'Arn'] } },
        },
      },
    });

    await expect(deployStack(handle.sandbox, { assemblyDir: directory })).rejects.toThrow(
      'Resources.Queue.Properties.KmsMasterKeyId: Fn::GetAtt of NoKey, which is not a created resource',
    );
  });
});

describe('environments', () => {
  it("deploys a stack pinned to a region there, and warns that its account is not the sandbox's", async () => {
    const directory = assembly(
      'Pinned',
      { Resources: { Queue: { Type: 'AWS::SQS::Queue' } } },
      'aws://111122223333/eu-west-1',
    );

    const result = await deployStack(handle.sandbox, { assemblyDir: directory });

    expect(result.region).toBe('eu-west-1');
    expect(result.resources.Queue?.arn).toMatch(/^arn:aws:sqs:eu-west-1:000000000000:Pinned-Queue-/);
    expect(result.warnings.join('\n')).toContain('pinned to account 111122223333');
  });
});

describe('deploying again', () => {
  it('keeps the names of what stays and deletes a schedule the template no longer has', async () => {
    const schedule = {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        ScheduleExpression: 'cron(0 5 1 1 ? *)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, RoleArn: { 'Fn::GetAtt': ['Role', 'Arn'] } },
      },
    };
    const first = await deployStack(handle.sandbox, {
      assemblyDir: assembly('Updated', {
        Resources: { Queue: { Type: 'AWS::SQS::Queue' }, Role: role, Yearly: schedule },
      }),
    });

    const second = await deployStack(handle.sandbox, {
      assemblyDir: assembly('Updated', { Resources: { Queue: { Type: 'AWS::SQS::Queue' }, Role: role } }),
    });
    const scheduler = new SchedulerClient({});
    const error = await scheduler
      .send(new GetScheduleCommand({ Name: first.resources.Yearly?.physicalId }))
      .catch((caught: Error) => caught);

    expect(second.resources.Queue?.physicalId).toBe(first.resources.Queue?.physicalId);
    expect(second.resources.Role?.arn).toBe(first.resources.Role?.arn);
    expect((error as Error).name).toBe('ResourceNotFoundException');
  });
});

describe('a scheduled flow', () => {
  it("fires every minute from creation on, and its function's SDK call reaches the sandbox", async () => {
    // The function's code is inline (Code.ZipFile, written as index.js) and requires the AWS SDK,
    // which the deployed code finds only through the runtime's node_modules link.
    const code = [
      "const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');",
      'const sqs = new SQSClient({});',
      'exports.handler = async (event) => {',
      '  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE_URL, MessageBody: JSON.stringify(event) }));',
      '  return { sent: event };',
      '};',
    ].join('\n');
    const directory = assembly('Scheduled', {
      Resources: {
        Queue: { Type: 'AWS::SQS::Queue' },
        FunctionRole: role,
        Function: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Runtime: 'nodejs24.x',
            Handler: 'index.handler',
            Code: { ZipFile: code },
            Role: { 'Fn::GetAtt': ['FunctionRole', 'Arn'] },
            Environment: { Variables: { QUEUE_URL: { Ref: 'Queue' } } },
          },
        },
        MachineRole: role,
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            RoleArn: { 'Fn::GetAtt': ['MachineRole', 'Arn'] },
            DefinitionString: JSON.stringify({
              StartAt: 'Send',
              States: {
                Send: {
                  Type: 'Task',
                  Resource: 'arn:aws:states:::lambda:invoke',
                  Parameters: { FunctionName: '${SendArn}', 'Payload.$': '$' },
                  OutputPath: '$.Payload',
                  End: true,
                },
              },
            }),
            DefinitionSubstitutions: { SendArn: { 'Fn::GetAtt': ['Function', 'Arn'] } },
          },
        },
        Schedule: {
          Type: 'AWS::Scheduler::Schedule',
          Properties: {
            ScheduleExpression: 'rate(1 minute)',
            ScheduleExpressionTimezone: 'Europe/Berlin',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: {
              Arn: { Ref: 'Machine' },
              RoleArn: { 'Fn::GetAtt': ['MachineRole', 'Arn'] },
              Input: '{"from":"schedule"}',
            },
          },
        },
      },
    });

    const result = await deployStack(handle.sandbox, { assemblyDir: directory });
    const { Messages } = await new SQSClient({}).send(
      new ReceiveMessageCommand({ QueueUrl: result.resources.Queue?.physicalId, WaitTimeSeconds: 20 }),
    );
    const scheduler = handle.sandbox.context.service<SchedulerService>('scheduler');
    const [fired] = scheduler?.invocations(result.resources.Schedule?.arn) ?? [];
    const execution = handle.sandbox.context
      .service<StatesService>('states')
      ?.execution(fired?.executionArn ?? '');

    expect(Messages?.[0]?.Body).toBe('{"from":"schedule"}');
    expect(fired?.outcome).toBe('started');
    expect(execution?.stateMachineArn).toBe(result.resources.Machine?.physicalId);
  }, 60_000);
});
