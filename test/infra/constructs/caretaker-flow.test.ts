import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CaretakerFlow, placeholdersOf } from '../../../lib/flows/caretaker-flow.ts';
import { CaretakerFunction } from '../../../lib/functions/caretaker-function.ts';
import { AlarmNotifications } from '../../../lib/observability/alarm-notifications.ts';

function flowStack(values?: Record<string, string>, distributed = false) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'FlowTest');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'Bucket', { encryption: s3.BucketEncryption.KMS, encryptionKey: key });
  const notify = new CaretakerFunction(stack, 'Notify', {
    name: 'notify',
    description: 'notify',
    environmentName: 'test',
    logRetention: logs.RetentionDays.ONE_MONTH,
    logKey: key,
  });
  const notifications = new AlarmNotifications(stack, 'Notifications', {
    notifyFunction: notify.fn,
    deadLetterQueue: new sqs.Queue(stack, 'Dlq'),
  });
  const flow = new CaretakerFlow(stack, 'Flow', {
    name: 'Backup',
    environmentName: 'test',
    definitionFile: 'test/fixtures/flows/notify-twice.asl.json',
    tasks: { NotifyFunctionArn: notify },
    values: values ?? { Bucket: bucket.bucketName },
    logRetention: logs.RetentionDays.ONE_MONTH,
    logKey: key,
    notifications,
    alarmSeverity: 'critical',
    ...(distributed ? { distributedMapBucket: { bucket, prefix: 'backups/' } } : {}),
  });
  return {
    app,
    stack,
    flow,
    notify,
    notifications,
    key,
    // Synthesizes on first use, so a test can add constructs before reading the template.
    get template() {
      return Template.fromStack(stack);
    },
  };
}

describe('CaretakerFlow', () => {
  it('finds every placeholder of an ASL document once', () => {
    expect(placeholdersOf('{"a":"${One}","b":"${Two}","c":"${One}"}')).toEqual(['One', 'Two']);
  });

  it('fails synth when a placeholder has no substitution', () => {
    expect(() => flowStack({})).toThrow(
      'test/fixtures/flows/notify-twice.asl.json: no substitution for ${Bucket}',
    );
  });

  it('fails synth when a substitution is not used by the file', () => {
    expect(() => flowStack({ Bucket: 'b', Extra: 'y' })).toThrow('substitutions not used by the file: Extra');
  });

  it('fails synth when a placeholder is given both as a task and as a value', () => {
    expect(() => flowStack({ Bucket: 'b', NotifyFunctionArn: 'x' })).toThrow(
      'NotifyFunctionArn given both as a task and as a value',
    );
  });

  it('hands every placeholder to CloudFormation to fill in at deploy time', () => {
    const { template, stack, notify } = flowStack();
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));

    expect(Object.keys(machine!.Properties.DefinitionSubstitutions).sort()).toEqual([
      'Bucket',
      'NotifyFunctionArn',
    ]);
    expect(machine!.Properties.DefinitionSubstitutions.NotifyFunctionArn).toEqual(
      stack.resolve(notify.fn.functionArn),
    );
  });

  it('logs everything with execution data to an encrypted log group and traces', () => {
    const { template } = flowStack();

    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Caretaker-test-Backup',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/Caretaker-test-Backup',
      KmsKeyId: Match.anyValue(),
    });
  });

  it('may invoke its functions', () => {
    const { template, stack, notify } = flowStack();

    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'lambda:InvokeFunction',
            Resource: Match.arrayWith([stack.resolve(notify.fn.functionArn)]),
          }),
        ]),
      },
    });
  });

  it('alarms on timed-out and aborted executions, each routed through notify, not on failed ones (the flow reports those)', () => {
    const { template } = flowStack();
    const alarms = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Namespace: 'AWS/States' },
    });

    expect(
      Object.values(alarms)
        .map((a) => a.Properties.MetricName)
        .sort(),
    ).toEqual(['ExecutionsAborted', 'ExecutionsTimedOut']);
    for (const id of Object.keys(alarms)) {
      const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((rule) =>
        JSON.stringify(rule.Properties.EventPattern.resources).includes(id),
      );
      expect(rules).toHaveLength(2);
    }
  });

  it('lets a Distributed Map start its own child executions and use its bucket prefix', () => {
    const { template } = flowStack(undefined, true);

    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'states:StartExecution',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':states:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':stateMachine:Caretaker-test-Backup',
                ],
              ],
            },
          }),
        ]),
      },
    });
  });

  it('may run another flow as a nested execution, follow it and learn that it ended', () => {
    const { stack, flow, notifications, key } = flowStack();
    const parent = new CaretakerFlow(stack, 'Parent', {
      name: 'RoutineMaintenance',
      environmentName: 'test',
      definitionFile: 'test/fixtures/flows/run-child.asl.json',
      tasks: { ChildStateMachineArn: flow },
      logRetention: logs.RetentionDays.ONE_MONTH,
      logKey: key,
      notifications,
      alarmSeverity: 'critical',
    });
    const template = Template.fromStack(stack);
    const [machine] = Object.values(
      template.findResources('AWS::StepFunctions::StateMachine', {
        Properties: { StateMachineName: 'Caretaker-test-RoutineMaintenance' },
      }),
    );
    const statements = stack.resolve(
      (parent.stateMachine.role.node.tryFindChild('DefaultPolicy') as iam.Policy).document,
    ).Statement as { Action: string | string[]; Resource: unknown }[];
    const actions = (statement: { Action: string | string[] }) => [statement.Action].flat();

    expect(machine!.Properties.DefinitionSubstitutions).toEqual({
      ChildStateMachineArn: stack.resolve(flow.stateMachine.stateMachineArn),
    });
    expect(statements.find((s) => actions(s).includes('states:StartExecution'))?.Resource).toEqual(
      stack.resolve(flow.stateMachine.stateMachineArn),
    );
    expect(statements.find((s) => actions(s).includes('states:DescribeExecution'))?.Action).toEqual([
      'states:DescribeExecution',
      'states:StopExecution',
    ]);
    expect(JSON.stringify(statements.find((s) => actions(s).includes('events:PutRule'))?.Resource)).toContain(
      'rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
    );
  });

  it('passes cdk-nag with its acknowledgements', () => {
    const { app } = flowStack(undefined, true);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Findings outside the flow (the bare test bucket and key) are not this construct's concern.
    let message = '';
    try {
      app.synth();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toMatch(/FlowTest\/Flow\//);
  });
});
