/**
 * `deployStack` with Caretaker's real synthesized stack (config/example.json, bundled by esbuild):
 * what it creates, that the functions run the bundled code, that the deployed Cleanup flow runs to
 * its end when awscli starts it, and that a schedule fires on its expression. Synthesizing takes
 * tens of seconds, so it happens once for the file.
 *
 * The scheduler does not fire on its own here (`evaluate: false`): the example's health checks
 * name example.com endpoints, and nothing in a test may reach beyond this machine. Schedules are
 * fired by moving the scheduler's clock (`runDue`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeKeyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
} from '@aws-sdk/client-kms';
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { GetBucketEncryptionCommand, GetBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteScheduleCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetTopicAttributesCommand, ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeployResult,
  deployStack,
  type SynthesizedAssembly,
  synthesize,
} from '../../sandbox/deploy/index.ts';
import type { CfnTemplate } from '../../sandbox/deploy/template.ts';
import type { IamRegistry } from '../../sandbox/iam-registry/index.ts';
import { DEFAULT_SERVICES } from '../../sandbox/index.ts';
import type { SchedulerService } from '../../sandbox/services/scheduler/index.ts';
import type { SnsService } from '../../sandbox/services/sns/index.ts';
import type { StatesService } from '../../sandbox/services/states/index.ts';
import { withAwsCli } from '../support/awscli.ts';
import { withSandbox } from '../support/sandbox.ts';

const handle = withSandbox(DEFAULT_SERVICES, {
  settings: {
    scheduler: { evaluate: false },
    lambda: { registerCaretakerFunctions: false, environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } },
  },
});
const cli = withAwsCli(() => handle.sandbox.url);

let assembly: SynthesizedAssembly;
let template: CfnTemplate;
let result: DeployResult;

beforeAll(async () => {
  assembly = synthesize({ configPath: 'config/example.json' });
  template = JSON.parse(
    readFileSync(join(assembly.assemblyDir, `${assembly.stackName}.template.json`), 'utf8'),
  ) as CfnTemplate;
  result = await deployStack(handle.sandbox, { assemblyDir: assembly.assemblyDir });
}, 300_000);

afterAll(() => assembly?.cleanup());

const clients = () => ({ region: 'us-east-1' });
const resourcesOfType = (type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
const physicalId = (logicalId: string) => result.resources[logicalId]?.physicalId ?? '';

const MODELLED = [
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
  'AWS::S3::Bucket',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::Topic',
  'AWS::SNS::TopicPolicy',
  'AWS::SNS::Subscription',
  'AWS::SQS::Queue',
  'AWS::SQS::QueuePolicy',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::Lambda::Function',
  'AWS::Lambda::Permission',
  'AWS::StepFunctions::StateMachine',
  'AWS::Scheduler::Schedule',
];

describe('what the deployment creates', () => {
  it('accounts for every resource of the template: created, or listed as not modelled with its logical id', () => {
    const accounted = new Set([
      ...Object.keys(result.resources),
      ...result.notModelled.map((entry) => entry.logicalId),
    ]);

    expect([...accounted].sort()).toEqual(Object.keys(template.Resources).sort());
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (!MODELLED.includes(resource.Type)) {
        expect(result.notModelled).toContainEqual(
          expect.objectContaining({ logicalId, type: resource.Type }),
        );
      }
    }
  });

  it('lists alarms, log groups, rules and the dashboard as not modelled, with a reason', () => {
    const types = new Set(result.notModelled.map((entry) => entry.type));
    const unmodelledTypes = Object.values(template.Resources)
      .map((resource) => resource.Type)
      .filter((type) => !MODELLED.includes(type));

    expect(types).toEqual(new Set([...unmodelledTypes, 'AWS::SNS::Subscription']));
    for (const type of [
      'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::Dashboard',
      'AWS::Logs::LogGroup',
      'AWS::Events::Rule',
    ]) {
      expect(types.has(type), type).toBe(true);
    }
    expect(result.notModelled.every((entry) => entry.reason.length > 0)).toBe(true);
  });

  it('does not subscribe an https endpoint off this machine, and says why', () => {
    const [https] = resourcesOfType('AWS::SNS::Subscription').filter(
      ([, resource]) => resource.Properties?.Protocol === 'https',
    );

    expect(result.notModelled).toContainEqual(
      expect.objectContaining({
        logicalId: https?.[0],
        reason: expect.stringContaining('https://chat.example.com/hooks/caretaker'),
      }),
    );
  });

  it('creates the key with rotation, its alias and its key policy in the IAM registry', async () => {
    const kms = new KMSClient(clients());
    const [[keyId] = []] = resourcesOfType('AWS::KMS::Key');
    const key = await kms.send(new DescribeKeyCommand({ KeyId: physicalId(keyId ?? '') }));
    const rotation = await kms.send(new GetKeyRotationStatusCommand({ KeyId: physicalId(keyId ?? '') }));
    const aliases = await kms.send(new ListAliasesCommand({ KeyId: physicalId(keyId ?? '') }));
    const policy = handle.sandbox.context
      .service<IamRegistry>('iam')
      ?.resourcePolicy(key.KeyMetadata?.Arn ?? '');

    expect(key.KeyMetadata?.Arn).toBe(result.outputs.KeyArn);
    expect(rotation.KeyRotationEnabled).toBe(true);
    expect(aliases.Aliases?.map((alias) => alias.AliasName)).toEqual(['alias/caretaker/example']);
    expect(JSON.stringify(policy?.document)).toContain('AllowCloudWatchAlarmsToUseTheKey');
  });

  it('creates the backup bucket versioned and encrypted with the stack key, and says Object Lock is not emulated', async () => {
    const s3 = new S3Client({ ...clients(), forcePathStyle: true });
    const bucket = result.outputs.BackupBucketName ?? '';
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    const [[logicalId] = []] = resourcesOfType('AWS::S3::Bucket').filter(
      ([, resource]) => resource.Properties?.ObjectLockEnabled === true,
    );

    expect(bucket).toMatch(/^caretaker-example-storagebackups[0-9a-f]{8}-[a-z0-9]{12}$/);
    expect(versioning.Status).toBe('Enabled');
    expect(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: result.outputs.KeyArn,
    });
    expect(result.resources[logicalId ?? '']?.physicalId).toBe(bucket);
    expect(result.resources[logicalId ?? '']?.ignoredProperties).toContain('ObjectLockConfiguration');
    expect(result.resources[logicalId ?? '']?.notes.join('\n')).toMatch(
      /ObjectLockEnabled \(GOVERNANCE, 7 days\): the sandbox S3 does not emulate Object Lock/,
    );
  });

  it('creates the alert topic encrypted with the stack key, with the email subscription and its filter', async () => {
    const sns = new SNSClient(clients());
    const topicArn = result.outputs.AlertTopicArn ?? '';
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    const { Subscriptions } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));

    expect(Attributes?.KmsMasterKeyId).toBe(result.outputs.KeyArn);
    expect(Subscriptions?.map((s) => `${s.Protocol} ${s.Endpoint}`)).toEqual(['email oncall@example.com']);
  });

  it('creates the dead-letter queue encrypted, with its retention', async () => {
    const sqs = new SQSClient(clients());
    const [[queueId] = []] = resourcesOfType('AWS::SQS::Queue');
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: physicalId(queueId ?? ''), AttributeNames: ['All'] }),
    );

    expect(Attributes?.KmsMasterKeyId).toBe(result.outputs.KeyArn);
    expect(Attributes?.MessageRetentionPeriod).toBe('1209600');
    expect(Attributes?.QueueArn).toBe(result.resources[queueId ?? '']?.arn);
  });

  it("registers every function with its template's environment resolved to the sandbox's names", async () => {
    const lambda = new LambdaClient(clients());
    for (const [logicalId, resource] of resourcesOfType('AWS::Lambda::Function')) {
      const name = physicalId(logicalId);
      const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
      const variables = config.Environment?.Variables ?? {};

      expect(config.Handler).toBe(resource.Properties?.Handler);
      expect(config.Timeout).toBe(resource.Properties?.Timeout);
      expect(config.MemorySize).toBe(resource.Properties?.MemorySize);
      expect(config.Role).toBe(result.functions[name]);
      const templated = (
        resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined
      )?.Variables;
      expect(Object.keys(variables).sort()).toEqual(Object.keys(templated ?? {}).sort());
      // Every variable the template sets with Ref or Fn::GetAtt holds the sandbox's physical id or ARN.
      for (const [variable, value] of Object.entries(templated ?? {})) {
        const reference = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
        if (reference.Ref) expect(variables[variable], variable).toBe(physicalId(reference.Ref));
        if (reference['Fn::GetAtt']) {
          const [id, attribute] = reference['Fn::GetAtt'];
          expect(variables[variable], variable).toBe(result.resources[id]?.attributes[attribute]);
        }
        if (typeof value === 'string') expect(variables[variable], variable).toBe(value);
      }
    }
    const notify = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: result.outputs.NotifyFunctionName }),
    );
    expect(notify.Environment?.Variables?.ALERT_TOPIC_ARN).toBe(result.outputs.AlertTopicArn);
  });

  it("gives each function its template role, recorded in the IAM registry with the role's policy", () => {
    const iam = handle.sandbox.context.service<IamRegistry>('iam');
    const [[notifyId] = []] = resourcesOfType('AWS::Lambda::Function').filter(([id]) =>
      id.startsWith('Notify'),
    );
    const role = iam?.role(result.functions[physicalId(notifyId ?? '')] ?? '');

    expect(role?.trustPolicy).toMatchObject({
      Statement: [{ Principal: { Service: 'lambda.amazonaws.com' } }],
    });
    expect(JSON.stringify(Object.values(role?.inlinePolicies ?? {}).map((p) => p.document))).toContain(
      `"Resource":"${result.outputs.AlertTopicArn}"`,
    );
  });

  it("stores the functions' permissions as their resource policies", () => {
    const iam = handle.sandbox.context.service<IamRegistry>('iam');
    const notifyArn = `arn:aws:lambda:us-east-1:000000000000:function:${result.outputs.NotifyFunctionName}`;
    const statements = (iam?.resourcePolicy(notifyArn)?.document.Statement ?? []) as { Principal: unknown }[];
    const permissions = resourcesOfType('AWS::Lambda::Permission').filter(([, resource]) =>
      JSON.stringify(resource.Properties?.FunctionName).includes('NotifyFunction'),
    );

    expect(statements).toHaveLength(permissions.length);
    expect(statements[0]?.Principal).toEqual({ Service: 'events.amazonaws.com' });
  });

  it('creates the state machines with their substitutions filled and every Lambda they call deployed', async () => {
    const sfn = new SFNClient(clients());
    const lambda = new LambdaClient(clients());
    for (const [logicalId] of resourcesOfType('AWS::StepFunctions::StateMachine')) {
      const { definition = '', roleArn } = await sfn.send(
        new DescribeStateMachineCommand({ stateMachineArn: physicalId(logicalId) }),
      );
      const functionNames = [...definition.matchAll(/"FunctionName"\s*:\s*"([^"]+)"/g)].map(
        (m) => m[1] ?? '',
      );

      expect(definition).not.toContain('${');
      expect(functionNames.length).toBeGreaterThan(0);
      for (const name of functionNames) {
        await expect(lambda.send(new GetFunctionCommand({ FunctionName: name }))).resolves.toBeDefined();
      }
      expect(roleArn).toMatch(/^arn:aws:iam::000000000000:role\/Caretaker-example-/);
    }
  });

  it('resolves every output to a created resource', () => {
    expect(result.outputs).toMatchObject({
      CleanupStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Caretaker-example-Cleanup',
      BackupStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Caretaker-example-Backup',
    });
    expect(Object.keys(result.outputs).sort()).toEqual(Object.keys(template.Outputs ?? {}).sort());
  });

  it('keeps every physical name when the same stack is deployed again into the same data directory', async () => {
    const again = await deployStack(handle.sandbox, { assemblyDir: assembly.assemblyDir });

    expect(again.outputs).toEqual(result.outputs);
    expect(again.functions).toEqual(result.functions);
  }, 120_000);
});

describe('the deployed stack at work', () => {
  it('runs the bundled notify function through the Lambda API, which publishes to the topic', async () => {
    const lambda = new LambdaClient(clients());
    const alert = {
      severity: 'warning',
      flow: 'Backup',
      summary: 'deployed notify ran',
      where: 'test',
      action: 'none',
    };

    const response = await lambda.send(
      new InvokeCommand({ FunctionName: result.outputs.NotifyFunctionName, Payload: JSON.stringify(alert) }),
    );
    const sns = handle.sandbox.context.service<SnsService>('sns');
    const published = sns?.messages(result.outputs.AlertTopicArn) ?? [];

    expect(response.FunctionError).toBeUndefined();
    expect(published.map((message) => message.subject)).toContainEqual(
      expect.stringContaining('deployed notify ran'),
    );
    expect(published[0]?.messageAttributes.severity?.StringValue).toBe('warning');
  });

  it('runs the deployed Cleanup flow to its end when awscli starts it with {"dryRun": true}', async () => {
    const started = await cli.json(
      'stepfunctions',
      'start-execution',
      '--state-machine-arn',
      result.outputs.CleanupStateMachineArn ?? '',
      '--input',
      '{"dryRun": true}',
    );
    let described: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 120 && described.status !== 'SUCCEEDED'; attempt++) {
      described = await cli.json(
        'stepfunctions',
        'describe-execution',
        '--execution-arn',
        String(started.executionArn),
      );
      if (described.status !== 'RUNNING' && described.status !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const history = await cli.json(
      'stepfunctions',
      'get-execution-history',
      '--execution-arn',
      String(started.executionArn),
    );
    const entered = (history.events as { type: string; stateEnteredEventDetails?: { name: string } }[])
      .filter((event) => event.type.endsWith('StateEntered'))
      .map((event) => event.stateEnteredEventDetails?.name);

    expect(described.status, String(described.cause)).toBe('SUCCEEDED');
    expect(entered).toEqual([
      'ValidateInput',
      'Tuning',
      'Cleanup',
      'EmptyFolders',
      'FinishCleanup',
      'Report',
    ]);
    expect(JSON.parse(String(described.output))).toMatchObject({
      dryRun: true,
      cleanup: { report: { dryRun: true } },
    });
  }, 90_000);

  it('fires the weekly cleanup schedule at 03:00 on Sunday in Europe/Berlin, starting the deployed flow', async () => {
    // Only the cleanup schedule stays: the health checks would probe example.com, and the nightly
    // backups are another flow.
    const scheduler = new SchedulerClient(clients());
    const [[cleanupId] = []] = resourcesOfType('AWS::Scheduler::Schedule').filter(([id]) =>
      id.startsWith('Cleanup'),
    );
    for (const [logicalId] of resourcesOfType('AWS::Scheduler::Schedule')) {
      if (logicalId !== cleanupId)
        await scheduler.send(new DeleteScheduleCommand({ Name: physicalId(logicalId) }));
    }
    const { Arn } = await scheduler.send(new GetScheduleCommand({ Name: physicalId(cleanupId ?? '') }));
    const service = handle.sandbox.context.service<SchedulerService>('scheduler');

    const fired = (await service?.runDue(new Date(Date.now() + 7 * 24 * 3600_000))) ?? [];
    const [first] = fired;
    const states = handle.sandbox.context.service<StatesService>('states');
    const sfn = new SFNClient(clients());
    let described = await sfn.send(new DescribeExecutionCommand({ executionArn: first?.executionArn }));
    for (let attempt = 0; attempt < 120 && described.status === 'RUNNING'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      described = await sfn.send(new DescribeExecutionCommand({ executionArn: first?.executionArn }));
    }
    const wallClock = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      weekday: 'long',
      hour: '2-digit',
      minute: '2-digit',
    }).format(first?.scheduledTime);

    expect(fired.length).toBeGreaterThanOrEqual(1);
    expect(fired.every((invocation) => invocation.scheduleArn === Arn)).toBe(true);
    expect(wallClock).toBe('Sunday 03:00');
    expect(first?.outcome).toBe('started');
    expect(first?.executionArn).toContain(':execution:Caretaker-example-Cleanup:');
    expect(states?.execution(first?.executionArn ?? '')?.input).toBe('{"dryRun":false}');
    // A real (not dry) run over an empty sandbox meets the safety floor: it refuses to act on an
    // empty inventory, reports that, and the execution fails.
    expect(described.status).toBe('FAILED');
    expect(described.cause).toContain('empty inventory');
  }, 90_000);
});
