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

  it('alarms when an execution times out or is aborted, not when it fails (it reports that itself)', () => {
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

  it('has no schedule of its own: routine maintenance runs it for every set', () => {
    const machine = JSON.stringify(stack.resolve(stack.backupFlow.stateMachine.stateMachineArn));
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));

    expect(
      schedules.filter((schedule) => JSON.stringify(schedule.Properties.Target.Arn) === machine),
    ).toEqual([]);
  });

  it('no longer calls notify: its failures are reported through report', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Caretaker-example-Backup',
      DefinitionSubstitutions: Match.not(Match.objectLike({ NotifyFunctionArn: Match.anyValue() })),
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

/** The statements of the role whose logical id starts with `prefix`. */
function roleStatements(prefix: string): any[] {
  const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith(prefix))!;
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

describe('routine maintenance flow', () => {
  it('is a logged, traced state machine with its functions and the Backup flow substituted', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Caretaker-example-RoutineMaintenance',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      DefinitionSubstitutions: {
        FlowInputFunctionArn: stack.resolve(stack.flowInput.fn.functionArn),
        HealthCheckFunctionArn: stack.resolve(stack.healthCheck.function.fn.functionArn),
        SnapshotFunctionArn: stack.resolve(stack.rds.snapshot.fn.functionArn),
        ReportFunctionArn: stack.resolve(stack.report.function.fn.functionArn),
        BackupStateMachineArn: stack.resolve(stack.backupFlow.stateMachine.stateMachineArn),
        CapacityFunctionArn: stack.resolve(stack.maintenance.capacity.fn.functionArn),
        SecurityMaintenanceFunctionArn: stack.resolve(stack.maintenance.securityMaintenance.fn.functionArn),
        DatabaseMaintenanceFunctionArn: stack.resolve(stack.maintenance.databaseMaintenance.fn.functionArn),
        TaskStatisticsFunctionArn: stack.resolve(stack.maintenance.taskStatistics.fn.functionArn),
      },
    });
  });

  it('may run the Backup flow as a nested execution: start it, follow and stop its runs, the managed rule', () => {
    const statements = JSON.stringify(
      stack.resolve(roleStatements('RoutineMaintenanceFlowStateMachineRole')),
    );
    const backup = JSON.stringify(stack.resolve(stack.backupFlow.stateMachine.stateMachineArn));

    expect(statements).toContain(`{"Action":"states:StartExecution","Effect":"Allow","Resource":${backup}}`);
    expect(statements).toContain('"Action":["states:DescribeExecution","states:StopExecution"]');
    // The executions of the Backup state machine, and no others.
    expect(statements).toContain(':execution:Caretaker-example-Backup:*');
    expect(statements).toContain('"Action":["events:DescribeRule","events:PutRule","events:PutTargets"]');
    expect(statements).toContain('rule/StepFunctionsGetEventsForStepFunctionsExecutionRule');
  });

  it('may invoke exactly its functions, and not notify (its report alerts)', () => {
    const statements = roleStatements('RoutineMaintenanceFlowStateMachineRole');
    const invoked = statements
      .filter((statement) => statement.Action === 'lambda:InvokeFunction')
      .flatMap((statement) => statement.Resource)
      .filter((resource: any) => resource['Fn::GetAtt'])
      .map((resource: any) => resource['Fn::GetAtt'][0]);
    const logicalId = (fn: { fn: { node: { defaultChild: unknown } } }) =>
      stack.getLogicalId(fn.fn.node.defaultChild as never);

    expect(invoked.sort()).toEqual(
      [
        stack.flowInput,
        stack.healthCheck.function,
        stack.rds.snapshot,
        stack.report.function,
        stack.maintenance.capacity,
        stack.maintenance.securityMaintenance,
        stack.maintenance.databaseMaintenance,
        stack.maintenance.taskStatistics,
      ]
        .map(logicalId)
        .sort(),
    );
  });

  it('runs daily at 02:00 in the configured time zone, every set and target, keeping to the maintenance window: the only nightly schedule', () => {
    const machine = stack.resolve(stack.routineMaintenanceFlow.stateMachine.stateMachineArn);
    const nightly = Object.values(template.findResources('AWS::Scheduler::Schedule')).filter(
      (schedule) => schedule.Properties.ScheduleExpression === 'cron(0 2 * * ? *)',
    );

    expect(nightly).toHaveLength(1);
    expect(nightly[0]!.Properties).toMatchObject({
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      Target: { Arn: machine, Input: '{"scheduled":true}' },
    });
  });

  it('alarms only when an execution times out or is aborted, critical', () => {
    const machine = stack.resolve(stack.routineMaintenanceFlow.stateMachine.stateMachineArn);
    const alarms = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/States' } }),
    ).filter(
      (a) =>
        JSON.stringify(a.Properties.Dimensions) ===
        JSON.stringify([{ Name: 'StateMachineArn', Value: machine }]),
    );

    expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual([
      'ExecutionsAborted',
      'ExecutionsTimedOut',
    ]);
  });

  it('is on the dashboard and a stack output', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));

    expect(JSON.stringify(dashboard!.Properties.DashboardBody)).toContain('RoutineMaintenance failed');
    template.hasOutput('RoutineMaintenanceStateMachineArn', {
      Value: stack.resolve(stack.routineMaintenanceFlow.stateMachine.stateMachineArn),
    });
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
