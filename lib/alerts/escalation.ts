import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../functions/common/contract.ts';
import { INCIDENT_STATE_FILE } from '../../functions/report/incident.ts';
import type { CaretakerConfig } from '../config/schema.ts';
import { CaretakerFunction, type CaretakerFunctionProps } from '../functions/caretaker-function.ts';
import type { AlarmNotifications } from '../observability/alarm-notifications.ts';
import { functionErrorsAlarm } from '../observability/function-alarms.ts';
import { FlowSchedule } from '../schedules/flow-schedule.ts';
import { acknowledgeGrant } from '../security/nag.ts';

type EscalationConfig = NonNullable<CaretakerConfig['alerts']['escalation']>;

const PROTOCOLS: Readonly<Record<string, sns.SubscriptionProtocol>> = {
  email: sns.SubscriptionProtocol.EMAIL,
  https: sns.SubscriptionProtocol.HTTPS,
  sms: sns.SubscriptionProtocol.SMS,
  sqs: sns.SubscriptionProtocol.SQS,
  lambda: sns.SubscriptionProtocol.LAMBDA,
};

/** The filter of a level's subscriptions: level 1 every critical alert, level N its pages (and the "resolved" of incidents that paged it). */
export function escalationFilter(level: number): Record<string, sns.SubscriptionFilter> {
  return level === 1
    ? { severity: sns.SubscriptionFilter.stringFilter({ allowlist: ['critical'] }) }
    : { escalation: sns.SubscriptionFilter.stringFilter({ allowlist: [`level-${level}`] }) };
}

export interface EscalationProps
  extends Pick<CaretakerFunctionProps, 'environmentName' | 'logRetention' | 'logKey'> {
  readonly escalation: EscalationConfig;
  readonly timeZone: string;
  readonly topic: sns.ITopic;
  /** Where each flow's incident state is (reports/<flow>/incident.json). */
  readonly backupBucket: s3.IBucket;
  readonly deadLetterQueue: sqs.IQueue;
  readonly notifications: AlarmNotifications;
}

/**
 * Escalation of unresolved critical incidents (DESIGN §11): each level's subscribers on the alert
 * topic, and the escalation function on its schedule, which pages the next level when an incident
 * stays open past the current level's time (one message per level; the run that resolves the
 * incident ends it).
 */
export class Escalation extends Construct {
  public readonly function: CaretakerFunction;

  constructor(scope: Construct, id: string, props: EscalationProps) {
    super(scope, id);
    const { escalation, topic, backupBucket } = props;
    escalation.levels.forEach((level, index) => {
      level.subscriptions.forEach((subscription, n) => {
        new sns.Subscription(this, `Level${index + 1}Subscription${n}`, {
          topic,
          protocol: PROTOCOLS[subscription.protocol]!,
          endpoint: subscription.endpoint,
          filterPolicy: escalationFilter(index + 1),
        });
        if (subscription.protocol === 'lambda') {
          new lambda.CfnPermission(this, `Level${index + 1}InvokePermission${n}`, {
            action: 'lambda:InvokeFunction',
            functionName: subscription.endpoint,
            principal: 'sns.amazonaws.com',
            sourceArn: topic.topicArn,
            sourceAccount: Aws.ACCOUNT_ID,
          });
        }
      });
    });

    this.function = new CaretakerFunction(this, 'Function', {
      environmentName: props.environmentName,
      logRetention: props.logRetention,
      logKey: props.logKey,
      name: 'escalation',
      description: 'Pages the next escalation level when a critical incident stays unresolved past its time',
    })
      .bindTopic(ENV.alertTopicArn, topic)
      .bind(
        ENV.escalationLevels,
        JSON.stringify(escalation.levels.map((l) => ({ respondWithinMinutes: l.respondWithinMinutes }))),
      )
      .bind(ENV.backupBucket, backupBucket.bucketName, (grantee) => {
        backupBucket.encryptionKey?.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
        return acknowledgeGrant(
          this,
          iam.Grant.addToPrincipal({
            grantee,
            actions: ['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging'],
            resourceArns: [backupBucket.arnForObjects(`reports/*/${INCIDENT_STATE_FILE}`)],
          }),
          "Each flow's incident state is reports/<flow>/incident.json; the role may read and write nothing else in the bucket.",
        );
      });

    new FlowSchedule(this, 'Schedule', {
      description: 'Caretaker escalation of unresolved critical incidents',
      expression: `rate(${escalation.checkEveryMinutes} minute${escalation.checkEveryMinutes === 1 ? '' : 's'})`,
      timeZone: props.timeZone,
      target: { function: this.function.fn, input: {} },
      deadLetterQueue: props.deadLetterQueue,
      // A missed run is superseded by the next one in minutes: do not retry for long.
      retryAttempts: 1,
      maxEventAge: Duration.minutes(5),
    });

    // No flow reports this function's failure, and a failing escalation pages no one: alarm on it.
    props.notifications.route(functionErrorsAlarm(this, 'ErrorsAlarm', this.function, 'escalation'), {
      severity: 'critical',
      flow: 'Report',
      summary: 'The escalation function failed',
      where: `Lambda function ${this.function.fn.functionName}`,
      action:
        "Read the function's log group: until it runs again, unresolved incidents are not escalated beyond level 1.",
    });
  }
}
