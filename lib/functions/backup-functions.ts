import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ROLLBACK_POINT_SET } from '../../functions/common/backup/layout.ts';
import { ENV, SEAL_PURPOSES } from '../../functions/common/contract.ts';
import type { CaretakerConfig } from '../config/schema.ts';
import { keyThroughS3, makeSeals, neverSeal } from '../security/key-use.ts';
import { allow } from '../security/nag.ts';
import { CaretakerFunction, type CaretakerFunctionProps } from './caretaker-function.ts';

export interface BackupFunctionsProps
  extends Pick<CaretakerFunctionProps, 'environmentName' | 'logRetention' | 'logKey'> {
  readonly config: CaretakerConfig;
  readonly backupBucket: s3.IBucket;
  /** The stack key: client-side envelope encryption of every backup object. */
  readonly key: kms.IKey;
}

/**
 * The backup functions: s3-backup, backup-verify and backup-restore, with the backup bucket, the
 * stack key (by ARN: the Encryption SDK decrypts with key ARNs, not aliases) and the stack name.
 * Each writes only its own kind of object in the backup bucket, and seals only its own kind of
 * record (lib/security/key-use.ts, docs/security.md):
 * - s3-backup writes backups (and the catalog heads) and may delete only its work areas;
 * - backup-verify reads everything and writes only verification records, which it alone can seal;
 * - backup-restore reads backups, writes rollback points (`backups/_rollback-points/`) and deletes
 *   only their work areas; it writes into the configured restore targets (the sets' source buckets
 *   and the DR restore bucket) and nowhere else.
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
        .bind(ENV.backupBucket, backupBucket.bucketName)
        .bind(ENV.backupKeyArn, key.keyArn)
        .bind(ENV.stackName, stack.stackName);

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

    // The key: every function reads (data keys of objects, seals; S3's SSE-KMS through S3).
    for (const fn of [this.backup, this.verify, this.restore]) {
      fn.role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }));
      fn.role.addToPolicy(keyThroughS3(this, key, ['kms:GenerateDataKey', 'kms:Decrypt']));
    }
    // Backup data and manifest seals: s3-backup and backup-restore (rollback points), never a
    // verification record's seal; the catalog head is s3-backup's only.
    this.backup.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [key.keyArn] }),
    );
    this.backup.role.addToPolicy(neverSeal(key, [SEAL_PURPOSES.verification]));
    this.restore.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [key.keyArn] }),
    );
    this.restore.role.addToPolicy(neverSeal(key, [SEAL_PURPOSES.verification, SEAL_PURPOSES.catalogHead]));
    // Verification records: backup-verify's alone, and nothing else.
    this.verify.role.addToPolicy(makeSeals(key, [SEAL_PURPOSES.verification]));

    const list = (fn: CaretakerFunction, prefix: string) =>
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [backupBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [prefix] } },
        }),
      );
    const objects = (fn: CaretakerFunction, actions: string[], pattern: string, reason: string) =>
      allow(
        fn.role,
        new iam.PolicyStatement({ actions, resources: [backupBucket.arnForObjects(pattern)] }),
        reason,
      );
    const backupsReason =
      'Backups are stored under backups/<set>/<backup id>/ with ids made per run; the function works there only.';
    for (const fn of [this.backup, this.verify, this.restore]) {
      list(fn, 'backups/*');
      objects(fn, ['s3:GetObject'], 'backups/*', backupsReason);
    }
    objects(
      this.backup,
      ['s3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'],
      'backups/*',
      backupsReason,
    );
    objects(
      this.backup,
      ['s3:DeleteObject'],
      'backups/*/work/*',
      "A backup deletes only its own work area (backups/<set>/<id>/work/) once its manifest is written: never another backup's data.",
    );
    objects(
      this.verify,
      ['s3:PutObject', 's3:PutObjectTagging'],
      'backups/*/verifications/*',
      'A verification writes only its record, under backups/<set>/<id>/verifications/.',
    );
    objects(
      this.restore,
      ['s3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'],
      `backups/${ROLLBACK_POINT_SET}/*`,
      'A restore writes its rollback point (a backup of the target) under backups/_rollback-points/ only.',
    );
    objects(
      this.restore,
      ['s3:DeleteObject'],
      `backups/${ROLLBACK_POINT_SET}/*/work/*`,
      "A rollback point's work area is deleted once its manifest is written; nothing else is.",
    );

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
