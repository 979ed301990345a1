import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack, exampleConfig } from '../support/stack.ts';

type Built = ReturnType<typeof buildStack>;
let template: Built['template'];
let stack: Built['stack'];

beforeAll(() => {
  ({ template, stack } = buildStack());
});

/** The statements of the policies attached to the role whose logical id starts with `prefix`. */
function roleStatements(prefix: string): any[] {
  const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith(prefix))!;
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

describe('disaster-recovery flow', () => {
  it('is a state machine that logs everything and traces, with its task ARNs substituted', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Caretaker-example-DisasterRecovery',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      DefinitionSubstitutions: {
        FlowInputFunctionArn: stack.resolve(stack.flowInput.fn.functionArn),
        RdsRestoreFunctionArn: stack.resolve(stack.rds.restore.fn.functionArn),
        SwitchOverFunctionArn: stack.resolve(stack.rds.switchOver.fn.functionArn),
        BackupRestoreFunctionArn: stack.resolve(stack.backups.restore.fn.functionArn),
        HealthCheckFunctionArn: stack.resolve(stack.healthCheck.function.fn.functionArn),
        ReportFunctionArn: stack.resolve(stack.report.function.fn.functionArn),
      },
    });
  });

  it('may invoke exactly the functions of its tasks map', () => {
    const invoked = roleStatements('DisasterRecoveryFlowStateMachineRole')
      .filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'))
      .flatMap((s) => [s.Resource].flat())
      .map((resource) => JSON.stringify(resource));
    const expected = [
      stack.flowInput,
      stack.rds.restore,
      stack.rds.switchOver,
      stack.backups.restore,
      stack.healthCheck.function,
      stack.report.function,
    ].map((fn) => JSON.stringify(stack.resolve(fn.fn.functionArn)));

    expect(invoked.filter((arn) => !arn.includes(':*')).sort()).toEqual(expected.sort());
  });

  it("may start, follow and stop its Distributed Maps' child executions, and no S3 for them", () => {
    const statements = roleStatements('DisasterRecoveryFlowStateMachineRole');
    const states = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('states:')));
    const rendered = JSON.stringify(stack.resolve(states));

    expect(states.map((s) => [s.Action].flat().sort())).toEqual([
      ['states:StartExecution'],
      ['states:DescribeExecution', 'states:StopExecution'],
    ]);
    // Its own state machine and its own executions, no others.
    expect(rendered).toContain(':stateMachine:Caretaker-example-DisasterRecovery"');
    expect(rendered).toContain(':execution:Caretaker-example-DisasterRecovery/*"');
    expect(statements.some((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')))).toBe(false);
  });

  it('runs a drill quarterly at 05:00 on the first day of Jan/Apr/Jul/Oct in the configured time zone', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 5 1 1,4,7,10 ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: stack.resolve(stack.disasterRecoveryFlow.stateMachine.stateMachineArn),
        Input: JSON.stringify({ mode: 'drill' }),
      }),
    });
  });

  it('takes the drill schedule from schedules.drDrill', () => {
    const config = exampleConfig();
    const { template: custom } = buildStack({
      ...config,
      schedules: { ...config.schedules, drDrill: { expression: 'cron(30 6 15 3,9 ? *)', enabled: false } },
    });

    custom.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 6 15 3,9 ? *)',
      State: 'DISABLED',
      Target: Match.objectLike({ Input: JSON.stringify({ mode: 'drill' }) }),
    });
  });

  it('refuses at synth a drill that could never restore: a DR region the targets do not copy to', () => {
    const config = exampleConfig();

    expect(() =>
      buildStack({ ...config, disasterRecovery: { ...config.disasterRecovery, region: 'us-west-2' } }),
    ).toThrow(/The scheduled input of DisasterRecovery is invalid: .*disasterRecovery\.region us-west-2/);
  });

  it('creates no drill schedule when there is nothing to recover', () => {
    const { template: empty } = buildStack({ ...exampleConfig(), backupSets: [], rdsTargets: [] });
    const drills = Object.values(empty.findResources('AWS::Scheduler::Schedule')).filter((s) =>
      JSON.stringify(s.Properties.Target.Input ?? '').includes('drill'),
    );

    expect(drills).toEqual([]);
  });

  it('gives flow-input the environment name, the health checks and the disasterRecovery section', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CARETAKER_ENVIRONMENT: 'example',
          HEALTH_CHECKS: Match.stringLikeRegexp('"rds":\\[\\{"name":"orders-db"'),
          DISASTER_RECOVERY: JSON.stringify({
            rtoTargetMinutes: 60,
            rpoTargetMinutes: 1440,
            teardownAfterDrill: true,
            restorePrefix: 'dr-restore/',
          }),
        }),
      },
    });
  });

  it('lets health-check describe the restored copies, and restores tag and read the tags of what they write', () => {
    const health = JSON.stringify(stack.resolve(roleStatements('HealthCheckFunctionRole')));
    const restore = roleStatements('BackupsRestoreRole').flatMap((s) => [s.Action].flat());

    expect(health).toContain(':db:orders-prod-r*');
    expect(restore).toEqual(expect.arrayContaining(['s3:PutObjectTagging', 's3:GetObjectTagging']));
  });

  it('alarms when an execution times out or is aborted (it reports its own failures), and is on the dashboard', () => {
    const machine = stack.resolve(stack.disasterRecoveryFlow.stateMachine.stateMachineArn);
    const alarms = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/States' } }),
    ).filter(
      (a) =>
        JSON.stringify(a.Properties.Dimensions) ===
        JSON.stringify([{ Name: 'StateMachineArn', Value: machine }]),
    );
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));

    expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual([
      'ExecutionsAborted',
      'ExecutionsTimedOut',
    ]);
    expect(JSON.stringify(dashboard!.Properties.DashboardBody)).toContain('DisasterRecovery failed');
  });

  it('outputs its state machine and the two restore functions the runbook invokes', () => {
    expect(Object.keys(template.findOutputs('*'))).toEqual(
      expect.arrayContaining([
        'DisasterRecoveryStateMachineArn',
        'RdsRestoreFunctionName',
        'BackupRestoreFunctionName',
      ]),
    );
  });
});
