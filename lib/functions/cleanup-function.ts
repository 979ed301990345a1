import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV, MANAGED_VALUE, TAG } from '../../functions/common/contract.ts';
import type { CaretakerConfig } from '../config/schema.ts';
import { stackArn } from '../security/arns.ts';
import { keyThroughS3, openSeals } from '../security/key-use.ts';
import { acknowledgeGrant, allow } from '../security/nag.ts';
import { CaretakerFunction, type CaretakerFunctionProps } from './caretaker-function.ts';

const MANAGED = `${TAG.managed}=${MANAGED_VALUE}`;

export interface CleanupFunctionProps
  extends Pick<CaretakerFunctionProps, 'environmentName' | 'logRetention' | 'logKey'> {
  readonly config: CaretakerConfig;
  readonly backupBucket: s3.IBucket;
  /** The stack key: cleanup opens the seals of manifests and verification records with it. */
  readonly key: kms.IKey;
}

/**
 * The cleanup function: retention over managed snapshots (primary and DR regions) and backups.
 * It may delete only snapshots Caretaker names (`caretaker-*`) carrying the managed tag (`TAG.managed`) (an
 * IAM condition, checked again in code) and objects under `backups/` in the backup bucket; it may
 * open seals with the stack key but decrypt no backup data (lib/security/key-use.ts).
 */
export class CleanupFunction extends Construct {
  public readonly function: CaretakerFunction;

  constructor(scope: Construct, id: string, props: CleanupFunctionProps) {
    super(scope, id);
    const { config, backupBucket } = props;
    const stack = Stack.of(this);
    this.function = new CaretakerFunction(this, 'Function', {
      environmentName: props.environmentName,
      logRetention: props.logRetention,
      logKey: props.logKey,
      name: 'cleanup',
      description:
        'Applies retention to Caretaker-managed snapshots and backups (dry run explains every decision)',
      timeout: Duration.minutes(15),
      memorySize: 1024,
    })
      .bind(ENV.rdsTargets, JSON.stringify(config.rdsTargets))
      .bind(
        ENV.backupSets,
        JSON.stringify(config.backupSets.map(({ name, retention }) => ({ name, retention }))),
      )
      .bind(ENV.retentionPolicies, JSON.stringify(config.retentionPolicies));
    const fn = this.function;

    const regions = [
      stack.region,
      ...new Set(config.rdsTargets.flatMap((t) => (t.crossRegionCopy ? [t.crossRegionCopy.region] : []))),
    ];
    if (config.rdsTargets.length > 0) {
      const arns = (resource: string) => regions.map((region) => stackArn('rds', resource, region));
      const reasons: Record<string, string> = {
        'db:*': 'Listing the snapshots of each target in the region; read-only.',
        'cluster:*': 'Listing the cluster snapshots of each target in the region; read-only.',
        'snapshot:*': `Retention reads every manual snapshot and deletes only those tagged ${MANAGED} (rds:snapshot-tag condition).`,
        'cluster-snapshot:*': 'Listing the cluster snapshots of each target in the region; read-only.',
        'snapshot:caretaker-*': `Caretaker names its snapshots caretaker-<target>-<execution>-<kind>; retention deletes only those, and only while tagged ${MANAGED}.`,
        'cluster-snapshot:caretaker-*': `Caretaker names its cluster snapshots caretaker-<target>-<execution>-<kind>; retention deletes only those, and only while tagged ${MANAGED}.`,
      };
      const reason = (wildcard: string) =>
        Object.entries(reasons).find(([suffix]) => wildcard.endsWith(`:${suffix}`))?.[1];
      for (const statement of [
        new iam.PolicyStatement({
          actions: ['rds:DescribeDBSnapshots', 'rds:DescribeDBClusterSnapshots', 'rds:ListTagsForResource'],
          resources: [
            ...arns('db:*'),
            ...arns('cluster:*'),
            ...arns('snapshot:*'),
            ...arns('cluster-snapshot:*'),
          ],
        }),
        new iam.PolicyStatement({
          actions: ['rds:DeleteDBSnapshot'],
          resources: arns('snapshot:caretaker-*'),
          conditions: { StringEquals: { [`rds:snapshot-tag/${TAG.managed}`]: MANAGED_VALUE } },
        }),
        new iam.PolicyStatement({
          actions: ['rds:DeleteDBClusterSnapshot'],
          resources: arns('cluster-snapshot:caretaker-*'),
          conditions: { StringEquals: { [`rds:cluster-snapshot-tag/${TAG.managed}`]: MANAGED_VALUE } },
        }),
      ]) {
        allow(fn.role, statement, reason);
      }
    }

    if (config.backupSets.length > 0) {
      fn.bind(ENV.backupKeyArn, props.key.keyArn);
      fn.role.addToPolicy(openSeals(props.key));
      fn.role.addToPolicy(keyThroughS3(this, props.key, ['kms:Decrypt']));
      fn.bind(ENV.backupBucket, backupBucket.bucketName, (grantee) => {
        iam.Grant.addToPrincipal({
          grantee,
          // ListBucketVersions: a deleted catalog head leaves versions behind (tampering).
          actions: ['s3:ListBucket', 's3:ListBucketVersions'],
          resourceArns: [backupBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': ['backups/*'] } },
        });
        return acknowledgeGrant(
          fn.role,
          iam.Grant.addToPrincipal({
            grantee,
            actions: ['s3:GetObject', 's3:GetObjectTagging', 's3:DeleteObject'],
            resourceArns: [backupBucket.arnForObjects('backups/*')],
          }),
          'Backups are stored under backups/<set>/<backup id>/ with names made per run; cleanup reads and deletes there only.',
        );
      });
    }
  }
}
