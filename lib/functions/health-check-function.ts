import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../../functions/common/contract.ts';
import type { CaretakerConfig } from '../config/schema.ts';
import { rdsResourceArn, rdsSnapshotArns } from '../security/arns.ts';
import { keyThroughS3, openSeals } from '../security/key-use.ts';
import { allow } from '../security/nag.ts';
import { CaretakerFunction, type CaretakerFunctionProps } from './caretaker-function.ts';

export interface HealthCheckFunctionProps
  extends Pick<CaretakerFunctionProps, 'environmentName' | 'logRetention' | 'logKey'> {
  readonly config: CaretakerConfig;
  /** Where backups (and their verification records) are, for the freshness checks. */
  readonly backupBucket: s3.IBucket;
  /** The stack key: freshness counts only backups and records whose seals open with it. */
  readonly key: kms.IKey;
}

/**
 * The health-check function with the configured checks in `HEALTH_CHECKS` and read access to
 * exactly what they look at: the configured RDS instances and clusters, their snapshots, the
 * backup bucket listing and the query checks' secrets.
 */
export class HealthCheckFunction extends Construct {
  public readonly function: CaretakerFunction;

  constructor(scope: Construct, id: string, props: HealthCheckFunctionProps) {
    super(scope, id);
    const { config } = props;
    this.function = new CaretakerFunction(this, 'Function', {
      ...props,
      name: 'health-check',
      description:
        'Checks endpoints, certificates, databases and backup freshness; publishes one metric per check',
      timeout: Duration.seconds(90),
    });
    const fn = this.function;

    const checkSet = {
      ...config.healthChecks,
      backupSets: config.backupSets.map(({ name, rpo }) => ({ name, rpo })),
      rdsTargets: config.rdsTargets.map(({ name, type, identifier, rpo }) => ({
        name,
        type,
        identifier,
        rpo,
      })),
    };
    fn.bind(ENV.healthChecks, JSON.stringify(checkSet));
    fn.bind(ENV.databaseTls, 'verify-full');
    // The RDS certificate bundle shipped with the Lambda runtime, for verify-full connections.
    fn.bind(ENV.nodeExtraCaCerts, '/var/runtime/ca-cert.pem');
    if (config.backupSets.length > 0 && config.healthChecks.backupFreshness) {
      fn.bind(ENV.backupBucket, props.backupBucket.bucketName, (grantee) =>
        iam.Grant.addToPrincipal({
          grantee,
          // ListBucketVersions: a deleted catalog head leaves versions behind (tampering).
          actions: ['s3:ListBucket', 's3:ListBucketVersions'],
          resourceArns: [props.backupBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': ['backups/*'] } },
        }),
      );
      // Sealed facts only: manifests, seals, verification records and catalog heads, and their
      // seals opened with the stack key (never a data key: lib/security/key-use.ts).
      fn.bind(ENV.backupKeyArn, props.key.keyArn);
      fn.role.addToPolicy(openSeals(props.key));
      fn.role.addToPolicy(keyThroughS3(this, props.key, ['kms:Decrypt']));
      allow(
        fn.role,
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [
            props.backupBucket.arnForObjects('backups/*/manifest.json'),
            props.backupBucket.arnForObjects('backups/*/manifest.seal'),
            props.backupBucket.arnForObjects('backups/*/verifications/*'),
            props.backupBucket.arnForObjects('backups/*/catalog-head.json'),
          ],
        }),
        'Backup ids are made per run: freshness reads each backup set’s manifests, seals, verification records and catalog head, and no backup data.',
      );
    }

    // RDS targets the checks look at: status, pending maintenance, endpoints, snapshots.
    const watched = [
      ...config.healthChecks.rds.map(({ type, identifier }) => ({ type, identifier })),
      ...config.rdsTargets.map(({ type, identifier }) => ({ type, identifier })),
    ];
    if (watched.length > 0) {
      const snapshotTypes = [...new Set(watched.map((target) => target.type))];
      allow(
        fn.role,
        new iam.PolicyStatement({
          actions: [
            'rds:DescribeDBInstances',
            'rds:DescribeDBClusters',
            'rds:DescribePendingMaintenanceActions',
            'rds:DescribeDBSnapshots',
            'rds:DescribeDBClusterSnapshots',
            'rds:ListTagsForResource',
          ],
          resources: [
            ...new Set(watched.map((target) => rdsResourceArn(target.type, target.identifier))),
            ...snapshotTypes.map((type) => rdsSnapshotArns(type)),
          ],
        }),
        'Freshness reads (Describe/ListTags only) the manual snapshots of the watched targets; their names are made per execution, so they cannot be listed in advance.',
      );
    }

    // DisasterRecovery checks its restored copies (<identifier>-r<execution hash>), in the stack's
    // region and in disasterRecovery.region: status, pending maintenance and endpoint only.
    if (config.rdsTargets.length > 0) {
      const regions = [
        undefined,
        ...(config.disasterRecovery.region ? [config.disasterRecovery.region] : []),
      ];
      allow(
        fn.role,
        new iam.PolicyStatement({
          actions: [
            'rds:DescribeDBInstances',
            'rds:DescribeDBClusters',
            'rds:DescribePendingMaintenanceActions',
          ],
          resources: [
            ...new Set(
              regions.flatMap((region) =>
                config.rdsTargets.flatMap(({ type, identifier }) => [
                  rdsResourceArn(type, `${identifier}-r*`, region),
                  // A restored cluster's writer instance.
                  ...(type === 'cluster' ? [rdsResourceArn('instance', `${identifier}-r*`, region)] : []),
                ]),
              ),
            ),
          ],
        }),
        'Disaster recovery checks the copies it restored, named <identifier>-r<execution hash> per run; read-only.',
      );
    }

    // Log analysis: Insights queries over the configured log groups; reading results has no
    // resource-level permission.
    const logGroups = [...new Set(config.healthChecks.logs.flatMap((check) => check.logGroups))];
    if (logGroups.length > 0) {
      allow(
        fn.role,
        new iam.PolicyStatement({
          actions: ['logs:StartQuery'],
          // Both forms: IAM evaluates StartQuery against the log group's ARN, which CloudWatch Logs
          // writes with and without the trailing `:*`.
          resources: logGroups.flatMap((name) => {
            const arn = CaretakerFunction.scopedArn('logs', `log-group:${name}`);
            return [arn, `${arn}:*`];
          }),
        }),
        'The trailing :* is how CloudWatch Logs writes a log group ARN; it names this one group, not others.',
      );
      allow(
        fn.role,
        new iam.PolicyStatement({ actions: ['logs:GetQueryResults', 'logs:StopQuery'], resources: ['*'] }),
        'GetQueryResults and StopQuery have no resource-level permissions (they take a query id); StartQuery is scoped to the configured log groups.',
      );
    }

    const secrets = config.healthChecks.queries.map((query) => query.passwordSecretArn);
    if (secrets.length > 0) {
      allow(
        fn.role,
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          // A secret ARN given without its random 6-character suffix matches with -??????.
          resources: [...new Set(secrets.flatMap((arn) => [arn, `${arn}-??????`]))],
        }),
        'Secrets Manager appends a random 6-character suffix to secret ARNs; -?????? matches exactly that suffix of this one secret.',
      );
    }
  }
}
