import { Aws } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { CaretakerConfig } from '../config/schema.ts';

type Subscription = CaretakerConfig['alerts']['subscriptions'][number];

const SEVERITY_ORDER = ['info', 'warning', 'critical'] as const;

/** The severities at or above `min`, for an SNS filter policy. */
export function severitiesFrom(min: Subscription['minSeverity']): string[] {
  return SEVERITY_ORDER.slice(SEVERITY_ORDER.indexOf(min));
}

/**
 * The filter on `severity`: the chosen severities, or no `severity` attribute at all. Messages
 * without the attribute are raw CloudWatch alarm notifications about notify itself (the one
 * path that cannot go through notify); they reach every subscriber.
 */
export function severityFilter(min: Subscription['minSeverity']): sns.SubscriptionFilter {
  return new sns.SubscriptionFilter([...severitiesFrom(min), { exists: false }]);
}

const PROTOCOLS: Readonly<Record<Subscription['protocol'], sns.SubscriptionProtocol>> = {
  email: sns.SubscriptionProtocol.EMAIL,
  https: sns.SubscriptionProtocol.HTTPS,
  sms: sns.SubscriptionProtocol.SMS,
  sqs: sns.SubscriptionProtocol.SQS,
  lambda: sns.SubscriptionProtocol.LAMBDA,
};

export interface AlertTopicProps {
  /** The environment name, shown as the topic's display name. */
  readonly environmentName: string;
  /** The key that encrypts messages at rest. */
  readonly key: kms.IKey;
  /** Subscriptions from config; each filtered on the `severity` message attribute. */
  readonly subscriptions: readonly Subscription[];
}

/**
 * The alert topic: KMS-encrypted, TLS-only publishing, with the configured subscriptions.
 * Every subscription carries a filter policy on `severity` so a pager can take only `critical`.
 */
export class AlertTopic extends Construct {
  /** The topic every alert and alarm is published to. */
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `Caretaker ${props.environmentName}`,
      masterKey: props.key,
      enforceSSL: true,
    });

    props.subscriptions.forEach((subscription, index) => {
      new sns.Subscription(this, `Subscription${index}`, {
        topic: this.topic,
        protocol: PROTOCOLS[subscription.protocol],
        endpoint: subscription.endpoint,
        filterPolicy: { severity: severityFilter(subscription.minSeverity) },
      });
      if (subscription.protocol === 'lambda') {
        // A function outside this stack cannot be granted through its L2; allow SNS to invoke it.
        new lambda.CfnPermission(this, `InvokePermission${index}`, {
          action: 'lambda:InvokeFunction',
          functionName: subscription.endpoint,
          principal: 'sns.amazonaws.com',
          sourceArn: this.topic.topicArn,
          sourceAccount: Aws.ACCOUNT_ID,
        });
      }
    });
  }
}
