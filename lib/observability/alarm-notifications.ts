import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Alert } from '../../functions/common/alerts/alert-schema.ts';

/** How an alarm is announced: the alert notify publishes when it goes off. */
export interface AlarmAlert {
  readonly severity: Alert['severity'];
  readonly flow: Alert['flow'];
  /** What happened, e.g. "Health check api is failing". */
  readonly summary: string;
  /** Where, e.g. "https://api.example.com/health". */
  readonly where: string;
  /** What the reader should do. */
  readonly action: string;
}

export interface AlarmNotificationsProps {
  /** The notify function, which publishes alerts with severity and flow attributes. */
  readonly notifyFunction: lambda.IFunction;
  /** Where undeliverable alarm events go (after EventBridge's retries). */
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * Routes CloudWatch alarms to the alert topic through notify, so alarm alerts carry `severity`
 * and `flow` attributes like every other alert (CloudWatch's own SNS action cannot set message
 * attributes, and subscriptions filter on them).
 *
 * Each routed alarm gets two EventBridge rules: one when it goes into ALARM (the condition
 * starts) and one when it returns to OK from ALARM (the condition clears). EventBridge only
 * emits on state changes, so a condition alerts once when it starts and once when it clears,
 * however long it lasts.
 */
export class AlarmNotifications extends Construct {
  private readonly props: AlarmNotificationsProps;
  private count = 0;

  constructor(scope: Construct, id: string, props: AlarmNotificationsProps) {
    super(scope, id);
    this.props = props;
  }

  /** Announces `alarm` through notify when it goes off and when it clears. */
  route(alarm: cloudwatch.IAlarm, alert: AlarmAlert): void {
    const id = `Alarm${this.count++}`;
    // Whole-value placeholders only: EventBridge JSON-escapes a value it inserts on its own, not
    // one spliced into a string, and an alarm reason may contain quotes.
    const evidence = {
      alarmName: events.EventField.fromPath('$.detail.alarmName'),
      state: events.EventField.fromPath('$.detail.state.value'),
      reason: events.EventField.fromPath('$.detail.state.reason'),
      time: events.EventField.fromPath('$.time'),
    };
    const base = {
      source: ['aws.cloudwatch'],
      detailType: ['CloudWatch Alarm State Change'],
      resources: [alarm.alarmArn],
    };

    this.target(
      `${id}Raised`,
      { ...base, detail: { state: { value: ['ALARM'] } } },
      {
        severity: alert.severity,
        flow: alert.flow,
        summary: alert.summary,
        where: alert.where,
        action: alert.action,
        evidence,
      },
    );
    this.target(
      `${id}Cleared`,
      { ...base, detail: { state: { value: ['OK'] }, previousState: { value: ['ALARM'] } } },
      {
        severity: alert.severity,
        flow: alert.flow,
        summary: `Resolved: ${alert.summary}`,
        where: alert.where,
        action: 'Nothing to do: the condition has cleared. If it keeps coming back, look for the cause.',
        evidence,
      },
    );
  }

  private target(
    id: string,
    eventPattern: events.EventPattern,
    input: Omit<Alert, 'evidence'> & { evidence: object },
  ): void {
    new events.Rule(this, id, {
      description: `Caretaker: ${input.summary}`.slice(0, 512),
      eventPattern,
      targets: [
        new targets.LambdaFunction(this.props.notifyFunction, {
          event: events.RuleTargetInput.fromObject(input),
          deadLetterQueue: this.props.deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
  }

  /**
   * Sends `alarm` straight to the topic, without attributes. Only for alarms about notify itself,
   * which cannot announce its own failure; subscriptions accept attribute-less messages as a
   * fallback (see AlertTopic).
   */
  static direct(alarm: cloudwatch.Alarm, topic: sns.ITopic): void {
    alarm.addAlarmAction(new actions.SnsAction(topic));
    alarm.addOkAction(new actions.SnsAction(topic));
  }
}
