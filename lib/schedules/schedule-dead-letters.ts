import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface ScheduleDeadLettersProps {
  /** Key that encrypts the queue. */
  readonly key: kms.IKey;
  /** Topic the "undelivered schedule" alarm notifies. */
  readonly alertTopic: sns.ITopic;
}

/**
 * The dead-letter queue shared by every schedule, with an alarm so an undelivered scheduled run
 * (a nightly maintenance that never started) pages someone instead of vanishing.
 */
export class ScheduleDeadLetters extends Construct {
  /** The dead-letter queue. */
  public readonly queue: sqs.Queue;
  /** Alarm raised when the queue holds any message. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ScheduleDeadLettersProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the EventBridge Scheduler schedules.',
    });

    this.alarm = new cloudwatch.Alarm(this, 'UndeliveredAlarm', {
      alarmDescription:
        'A scheduled Caretaker run could not be started by EventBridge Scheduler (see the dead-letter queue for the event and error).',
      metric: this.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(props.alertTopic));
    this.alarm.addOkAction(new actions.SnsAction(props.alertTopic));
  }
}
