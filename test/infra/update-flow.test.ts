/**
 * The Update state machine in the stack: logged at level ALL and traced, its six task functions
 * substituted and granted from the same map (and nothing else invocable), the configured health
 * checks handed to flow-input for its plan, and an output operators start it from.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack } from '../support/stack.ts';

type Built = ReturnType<typeof buildStack>;
let template: Built['template'];
let stack: Built['stack'];

beforeAll(() => {
  ({ template, stack } = buildStack());
});

/** The statements of the IAM policies attached to the role with this logical id prefix. */
function statementsOfRole(prefix: string): any[] {
  const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith(prefix))!;
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

describe('update flow', () => {
  it('is a logged, traced state machine with its six functions substituted', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Caretaker-example-Update',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      DefinitionSubstitutions: {
        FlowInputFunctionArn: stack.resolve(stack.flowInput.fn.functionArn),
        HealthCheckFunctionArn: stack.resolve(stack.healthCheck.function.fn.functionArn),
        UpdateFunctionArn: stack.resolve(stack.rds.update.fn.functionArn),
        SnapshotFunctionArn: stack.resolve(stack.rds.snapshot.fn.functionArn),
        RestoreFunctionArn: stack.resolve(stack.rds.restore.fn.functionArn),
        SwitchOverFunctionArn: stack.resolve(stack.rds.switchOver.fn.functionArn),
        ReportFunctionArn: stack.resolve(stack.report.function.fn.functionArn),
      },
    });
  });

  it('may invoke exactly the functions of its tasks map', () => {
    const invoked = statementsOfRole('UpdateFlowStateMachineRole')
      .filter((statement) => [statement.Action].flat().includes('lambda:InvokeFunction'))
      .flatMap((statement) => [statement.Resource].flat())
      .filter((resource) => !JSON.stringify(resource).includes(':*'));
    const expected = [
      stack.flowInput,
      stack.healthCheck.function,
      stack.rds.update,
      stack.rds.snapshot,
      stack.rds.restore,
      stack.rds.switchOver,
      stack.report.function,
    ].map((fn) => stack.resolve(fn.fn.functionArn));

    expect(invoked).toHaveLength(expected.length);
    expect(invoked).toEqual(expect.arrayContaining(expected));
  });

  it('gives flow-input the configured health checks to plan an update with', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Checks a flow'),
      Environment: {
        Variables: Match.objectLike({
          HEALTH_CHECKS: Match.stringLikeRegexp('"name":"api"'),
          LAMBDA_FUNCTIONS: JSON.stringify(['arn:aws:lambda:eu-central-1:111122223333:function:orders-api']),
        }),
      },
    });
  });

  it('alarms when an execution times out or is aborted (it reports its own failures), and is on the dashboard', () => {
    const machine = stack.resolve(stack.updateFlow.stateMachine.stateMachineArn);
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
    expect(JSON.stringify(dashboard!.Properties.DashboardBody)).toContain('Update failed');
  });

  it('is an output to start it from', () => {
    template.hasOutput('UpdateStateMachineArn', {
      Value: stack.resolve(stack.updateFlow.stateMachine.stateMachineArn),
    });
  });
});
