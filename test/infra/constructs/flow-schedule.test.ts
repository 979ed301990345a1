import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, it } from 'vitest';
import { FlowSchedule } from '../../../lib/schedules/flow-schedule.ts';

function scheduleTemplate(props: { flexibleWindowMinutes?: number; enabled?: boolean } = {}): {
  template: Template;
  stack: Stack;
  machine: sfn.StateMachine;
} {
  const stack = new Stack(new App(), 'ScheduleTest');
  const machine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Done')),
  });
  const queue = new sqs.Queue(stack, 'DeadLetters');
  new FlowSchedule(stack, 'Nightly', {
    description: 'Nightly routine maintenance',
    expression: 'cron(0 2 * * ? *)',
    timeZone: 'Europe/Berlin',
    target: { stateMachine: machine, input: { trigger: 'schedule' } },
    deadLetterQueue: queue,
    ...props,
  });
  return { template: Template.fromStack(stack), stack, machine };
}

describe('FlowSchedule', () => {
  it('evaluates the expression in the configured time zone', () => {
    scheduleTemplate().template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
  });

  it('uses a flexible window when asked', () => {
    scheduleTemplate({ flexibleWindowMinutes: 15 }).template.hasResourceProperties(
      'AWS::Scheduler::Schedule',
      {
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      },
    );
  });

  it('can be created disabled', () => {
    scheduleTemplate({ enabled: false }).template.hasResourceProperties('AWS::Scheduler::Schedule', {
      State: 'DISABLED',
    });
  });

  it('starts the state machine with the given input, retrying and dead-lettering failed deliveries', () => {
    const { template, stack, machine } = scheduleTemplate();
    const queueId = Object.keys(template.findResources('AWS::SQS::Queue'))[0]!;

    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: {
        Arn: stack.resolve(machine.stateMachineArn),
        Input: JSON.stringify({ trigger: 'schedule' }),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      },
    });
  });

  it('gives Scheduler a role that may start this state machine only', () => {
    const { template, stack, machine } = scheduleTemplate();

    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'states:StartExecution',
            Resource: stack.resolve(machine.stateMachineArn),
          }),
        ]),
      },
    });
  });
});
