import { Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { resourceFindingId } from '../security/nag.ts';

/** What a schedule starts: a state machine execution or a function invocation. */
export type ScheduleTarget =
  | { readonly stateMachine: sfn.IStateMachine; readonly input: Record<string, unknown> }
  | { readonly function: lambda.IFunction; readonly input: Record<string, unknown> };

export interface FlowScheduleProps {
  /** A short description, e.g. "Nightly routine maintenance". */
  readonly description: string;
  /** A Scheduler expression: `rate(...)`, `cron(...)` or `at(...)`. */
  readonly expression: string;
  /** IANA time zone the expression is evaluated in. */
  readonly timeZone: string;
  /** What to start. */
  readonly target: ScheduleTarget;
  /** Queue that receives events Scheduler could not deliver after its retries. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * Whether the schedule is enabled.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Let Scheduler start up to this many minutes late; 0 starts exactly on time.
   * @default 0
   */
  readonly flexibleWindowMinutes?: number;
  /**
   * Delivery attempts Scheduler makes after the first one fails.
   * @default 3
   */
  readonly retryAttempts?: number;
  /**
   * How long Scheduler keeps retrying an undelivered event.
   * @default Duration.hours(1)
   */
  readonly maxEventAge?: Duration;
}

/**
 * An EventBridge Scheduler schedule in a time zone, with a flexible window, a retry policy and a
 * dead-letter queue, that starts a flow or invokes a function. Scheduler's own role is scoped to
 * the one target.
 */
export class FlowSchedule extends Construct {
  /** The schedule. */
  public readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: FlowScheduleProps) {
    super(scope, id);
    const flexible = props.flexibleWindowMinutes ?? 0;
    const targetProps = {
      input: scheduler.ScheduleTargetInput.fromObject(props.target.input),
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: props.retryAttempts ?? 3,
      maxEventAge: props.maxEventAge ?? Duration.hours(1),
    };
    let target: scheduler.IScheduleTarget;
    if ('stateMachine' in props.target) {
      target = new targets.StepFunctionsStartExecution(props.target.stateMachine, targetProps);
    } else {
      target = new targets.LambdaInvoke(props.target.function, targetProps);
      // The shared Scheduler role is granted the function and its qualifiers (`<arn>:*`); the
      // finding id is rendered from that very ARN expression.
      const stack = Stack.of(this);
      Validations.of(stack).acknowledge({
        id: resourceFindingId(stack, `${props.target.function.functionArn}:*`),
        reason:
          'EventBridge Scheduler may invoke this one function; the :* suffix covers its versions and aliases, which CDK grants together.',
      });
    }

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: props.description,
      schedule: scheduler.ScheduleExpression.expression(props.expression, TimeZone.of(props.timeZone)),
      target,
      enabled: props.enabled ?? true,
      timeWindow:
        flexible > 0 ? scheduler.TimeWindow.flexible(Duration.minutes(flexible)) : scheduler.TimeWindow.off(),
    });
  }
}
