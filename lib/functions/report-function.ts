import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV } from '../../functions/common/contract.ts';
import { INCIDENT_STATE_FILE } from '../../functions/report/incident.ts';
import { acknowledgeGrant } from '../security/nag.ts';
import { CaretakerFunction, type CaretakerFunctionProps } from './caretaker-function.ts';

export interface ReportFunctionProps
  extends Pick<CaretakerFunctionProps, 'environmentName' | 'logRetention' | 'logKey'> {
  /** Where reports are written, under `reports/`. */
  readonly backupBucket: s3.IBucket;
  /** Where the report's summary is published. */
  readonly alertTopic: sns.ITopic;
}

/**
 * The report function: writes run reports under `reports/` in the backup bucket, keeps each flow's
 * incident state there, and publishes one alert per run.
 */
export class ReportFunction extends Construct {
  public readonly function: CaretakerFunction;

  constructor(scope: Construct, id: string, props: ReportFunctionProps) {
    super(scope, id);
    this.function = new CaretakerFunction(this, 'Function', {
      ...props,
      name: 'report',
      description: 'Writes the maintenance report of a run (JSON and Markdown) and publishes its summary',
    })
      .bindTopic(ENV.alertTopicArn, props.alertTopic)
      .bind(ENV.backupBucket, props.backupBucket.bucketName, (grantee) => {
        // SSE-KMS under the bucket's key: a single PutObject needs GenerateDataKey, reading the
        // incident state back needs Decrypt.
        props.backupBucket.encryptionKey?.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
        // Without s3:ListBucket S3 answers a missing key with 403 instead of NoSuchKey, and the
        // first run of every flow (no incident state yet) would fail to report.
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['s3:ListBucket'],
          resourceArns: [props.backupBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': ['reports/*'] } },
        });
        acknowledgeGrant(
          this,
          iam.Grant.addToPrincipal({
            grantee,
            actions: ['s3:GetObject'],
            resourceArns: [props.backupBucket.arnForObjects(`reports/*/${INCIDENT_STATE_FILE}`)],
          }),
          "Each flow's incident state is reports/<flow>/incident.json; the role may read nothing else in the bucket.",
        );
        return acknowledgeGrant(
          this,
          iam.Grant.addToPrincipal({
            grantee,
            actions: ['s3:PutObject', 's3:PutObjectTagging'],
            resourceArns: [props.backupBucket.arnForObjects('reports/*')],
          }),
          'Report keys are made per run (flow, day, execution name) under reports/, with one incident state per flow; the role may write there only.',
        );
      });
  }
}
