import { Match } from 'aws-cdk-lib/assertions';
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
        Input: '{}',
      }),
    });
  });

  it('alarms when an execution fails, times out or is aborted', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Namespace: 'AWS/States' },
    });

    expect(
      Object.values(alarms)
        .map((a) => a.Properties.MetricName)
        .sort(),
    ).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
  });

  it('is on the dashboard', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));

    expect(JSON.stringify(dashboard!.Properties.DashboardBody)).toContain('Cleanup failed');
  });
});
