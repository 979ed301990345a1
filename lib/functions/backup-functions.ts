import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { CaretakerConfig } from '../config/schema.ts';
import { allow } from '../security/nag.ts';
import { CaretakerFunction, type CaretakerFunctionProps } from './caretaker-function.ts';

export interface BackupFunctionsProps
  extends Pick<CaretakerFunctionProps, 'environmentName' | 'logRetention' | 'logKey'> {
  readonly config: CaretakerConfig;
  readonly backupBucket: s3.IBucket;
  /** The stack key: client-side envelope encryption of every backup object. */
  readonly key: kms.IKey;
}

const BACKUP_OBJECT_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:PutObjectTagging',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
];

/**
 * The backup functions: s3-backup, backup-verify and backup-restore, with the backup bucket, the
 * stack key (by ARN: the Encryption SDK decrypts with key ARNs, not aliases) and the stack name.
 * Access to the backup bucket is limited to `backups/`; the sources of the configured sets may be
 * read; restores may write into those source buckets and the DR restore bucket.
 */
export class BackupFunctions extends Construct {
  public readonly backup: CaretakerFunction;
  public readonly verify: CaretakerFunction;
  public readonly restore: CaretakerFunction;

  constructor(scope: Construct, id: string, props: BackupFunctionsProps) {
    super(scope, id);
    const { config, backupBucket, key } = props;
    const stack = Stack.of(this);
    const make = (id: string, name: string, description: string) =>
      new CaretakerFunction(this, id, {
        environmentName: props.environmentName,
        logRetention: props.logRetention,
        logKey: props.logKey,
        name,
        description,
        timeout: Duration.minutes(15),
        memorySize: 2048,
      })
        .bind('BACKUP_BUCKET', backupBucket.bucketName)
        .bind('BACKUP_KEY_ARN', key.keyArn, (grantee) =>
          key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt'),
        )
        .bind('CARETAKER_STACK', stack.stackName);

    this.backup = make(
      'Backup',
      's3-backup',
      'Backs up an S3 prefix: envelope-encrypted, SHA-256 per object, sealed hash-chained manifest',
    );
    this.verify = make(
      'Verify',
      'backup-verify',
      'Reads a backup back, decrypts and checks every checksum, the seal and the manifest chain',
    );
    this.restore = make(
      'Restore',
      'backup-restore',
      'Restores a verified backup into a bucket/prefix after taking a rollback point',
    );

    const backupsPrefix = (fn: CaretakerFunction, actions: string[]) => {
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [backupBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': ['backups/*'] } },
        }),
      );
      allow(
        fn.role,
        new iam.PolicyStatement({ actions, resources: [backupBucket.arnForObjects('backups/*')] }),
        'Backups are stored under backups/<set>/<backup id>/ with ids made per run; the function works there only.',
      );
    };
    backupsPrefix(this.backup, BACKUP_OBJECT_ACTIONS);
    backupsPrefix(this.verify, ['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging']);
    backupsPrefix(this.restore, BACKUP_OBJECT_ACTIONS);

    // Sources: each configured set's bucket, under its prefix.
    const sources = config.backupSets.map((set) => ({ bucket: set.sourceBucket, prefix: set.prefix }));
    for (const { bucket, prefix } of sources) {
      this.backup.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [`arn:${stack.partition}:s3:::${bucket}`],
          ...(prefix ? { conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } } } : {}),
        }),
      );
      allow(
        this.backup.role,
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [`arn:${stack.partition}:s3:::${bucket}/${prefix}*`],
        }),
        `Backups read every object under the configured prefix of ${bucket}.`,
      );
    }
    // Restore targets: the sets' source buckets, and the DR restore bucket when configured.
    const targets = [
      ...new Set([
        ...sources.map((s) => s.bucket),
        ...(config.disasterRecovery.restoreBucket ? [config.disasterRecovery.restoreBucket] : []),
      ]),
    ];
    for (const bucket of targets) {
      this.restore.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [`arn:${stack.partition}:s3:::${bucket}`],
        }),
      );
      allow(
        this.restore.role,
        new iam.PolicyStatement({
          actions: [
            's3:GetObject',
            's3:PutObject',
            's3:DeleteObject',
            's3:AbortMultipartUpload',
            // Restored objects carry their restore's id; a teardown reads it to remove only those.
            's3:PutObjectTagging',
            's3:GetObjectTagging',
          ],
          resources: [`arn:${stack.partition}:s3:::${bucket}/*`],
        }),
        `A restore writes objects anywhere under the prefix an operator chooses in ${bucket}; it takes a rollback point first.`,
      );
    }
  }
}
