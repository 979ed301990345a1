import { Match } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack } from '../support/stack.ts';

type Built = ReturnType<typeof buildStack>;
let template: Built['template'];
let stack: Built['stack'];

beforeAll(() => {
  ({ template, stack } = buildStack());
});

describe('cleanup flow', () => {
  it('is a logged, traced state machine with its function ARNs substituted', () => {
    const cleanup = stack.cleanup.function.fn;
    const report = stack.report.function.fn;

    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Caretaker-example-Cleanup',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
      DefinitionSubstitutions: {
        CleanupFunctionArn: stack.resolve(cleanup.functionArn),
        ReportFunctionArn: stack.resolve(report.functionArn),
      },
    });
  });

  it('runs weekly on Sunday at 03:00 in the configured time zone', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 ? * SUN *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Target: Match.objectLike({
        Arn: stack.resolve(stack.cleanupFlow.stateMachine.stateMachineArn),
        Input: JSON.stringify({ dryRun: false }),
      }),
    });
  });

  it('alarms when an execution fails, times out or is aborted', () => {
    const machine = stack.resolve(stack.cleanupFlow.stateMachine.stateMachineArn);
    const alarms = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/States' } }),
    ).filter(
      (a) =>
        JSON.stringify(a.Properties.Dimensions) ===
        JSON.stringify([{ Name: 'StateMachineArn', Value: machine }]),
    );

    expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual([
      'ExecutionsAborted',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]);
  });

  it('is on the dashboard', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));

    expect(JSON.stringify(dashboard!.Properties.DashboardBody)).toContain('Cleanup failed');
  });
});

describe('backup flow', () => {
  it('gets its functions, the report function and the backup bucket substituted', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Caretaker-example-Backup',
      DefinitionSubstitutions: Match.objectLike({
        BackupFunctionArn: stack.resolve(stack.backups.backup.fn.functionArn),
        VerifyFunctionArn: stack.resolve(stack.backups.verify.fn.functionArn),
        ReportFunctionArn: stack.resolve(stack.report.function.fn.functionArn),
        BackupBucket: stack.resolve(stack.storage.bucket.bucketName),
      }),
    });
  });

  it('backs up, verifies and reports each set nightly at 02:00, naming the set (flow-input plans the rest)', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      Target: Match.objectLike({
        Arn: stack.resolve(stack.backupFlow.stateMachine.stateMachineArn),
        Input: JSON.stringify({ set: 'uploads' }),
      }),
    });
  });

  it('may start its own Distributed Map children', () => {
    const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('BackupFlowStateMachineRole'),
    )!;
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement);

    expect(JSON.stringify(statements)).toContain('stateMachine:Caretaker-example-Backup');
  });
});

describe('backup functions', () => {
  function statementsOf(fn: { role: { node: { defaultChild: unknown } } }): any[] {
    const roleId = stack.getLogicalId(fn.role.node.defaultChild as never);
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
  }

  it('get the key by ARN, the bucket and the stack name', () => {
    for (const fn of [stack.backups.backup, stack.backups.verify, stack.backups.restore]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: Match.absent(),
        Description: (fn.fn.node.defaultChild as CfnFunction).description,
        Timeout: 900,
        MemorySize: 2048,
        Environment: {
          Variables: Match.objectLike({
            BACKUP_KEY_ARN: stack.resolve(stack.key.key.keyArn),
            BACKUP_BUCKET: stack.resolve(stack.storage.bucket.bucketName),
            CARETAKER_STACK: 'Caretaker-test',
          }),
        },
      });
    }
  });

  it('let s3-backup read the configured source prefix only', () => {
    const text = JSON.stringify(stack.resolve(statementsOf(stack.backups.backup)));

    expect(text).toContain('s3:::example-app-uploads/uploads/*');
    expect(text).toContain('"s3:prefix":["uploads/*"]');
  });

  it('let backup-verify write verification records but not delete', () => {
    const actions = statementsOf(stack.backups.verify).flatMap((s) =>
      Array.isArray(s.Action) ? s.Action : [s.Action],
    );

    expect(actions).toContain('s3:PutObject');
    expect(actions).not.toContain('s3:DeleteObject');
  });
});
