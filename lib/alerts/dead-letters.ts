import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLettersProps {
  /** Key that encrypts the queue. */
  readonly key: kms.IKey;
}

/**
 * The dead-letter queue for events Caretaker could not deliver: scheduled runs EventBridge
 * Scheduler could not start, and alarm events EventBridge could not hand to notify. Its alarm
 * makes sure an undelivered nightly run pages someone instead of vanishing.
 */
export class DeadLetters extends Construct {
  /** The dead-letter queue. */
  public readonly queue: sqs.Queue;
  /** Goes off when the queue holds any message. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DeadLettersProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the Scheduler schedules and EventBridge rule targets.',
    });

    this.alarm = new cloudwatch.Alarm(this, 'UndeliveredAlarm', {
      alarmDescription:
        'An event Caretaker had to deliver (a scheduled run or an alarm alert) could not be delivered; it is in the dead-letter queue with the error.',
      metric: this.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
