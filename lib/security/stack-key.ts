import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface StackKeyProps {
  /** The environment name, used in the alias `alias/caretaker/<name>`. */
  readonly environmentName: string;
}

/**
 * The customer-managed key that encrypts everything Caretaker stores: backups (client-side
 * envelope encryption and bucket default encryption), the alert topic, queues and log groups.
 * Rotation is on; the key is retained when the stack is deleted so old backups stay readable.
 */
export class StackKey extends Construct {
  /** The key. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: StackKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `Caretaker ${props.environmentName}: encrypts backups, alerts, queues and logs`,
      alias: `alias/caretaker/${props.environmentName}`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // CloudWatch alarms publish to the encrypted topic, which needs the key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    // EventBridge writes undeliverable alarm events to the encrypted dead-letter queue.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeDeadLettersToUseTheKey',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    // CloudWatch Logs encrypts the functions' and state machines' log groups with the key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
          },
        },
      }),
    );
  }
}
