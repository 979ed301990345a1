import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface BackupStorageProps {
  /** The key that encrypts backups by default (SSE-KMS), on top of client-side encryption. */
  readonly key: kms.IKey;
  /**
   * Write-once backups with S3 Object Lock. Object Lock can only be turned on when the bucket is
   * created.
   * @default - no Object Lock
   */
  readonly objectLock?: { readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly retentionDays: number };
  /**
   * Days a replaced or deleted backup object version is kept.
   * @default 30
   */
  readonly noncurrentVersionDays?: number;
  /**
   * Days server access logs are kept.
   * @default 90
   */
  readonly accessLogDays?: number;
  /**
   * The one principal allowed s3:BypassGovernanceRetention (deleting or shortening GOVERNANCE
   * Object Lock retention); everyone else is denied it by the bucket policy.
   * @default - no one
   */
  readonly breakGlassPrincipalArn?: string;
}

/**
 * The backup bucket and its access-log bucket.
 *
 * Backups: SSE-KMS with the stack key (bucket key on to cut KMS calls), all public access blocked,
 * TLS only, versioned, noncurrent versions expired, incomplete uploads aborted, access logged,
 * optional Object Lock. The bucket policy refuses any write that asks for another encryption than
 * the stack key (another KMS key, the AWS managed key, SSE-S3, SSE-C) and s3:BypassGovernanceRetention
 * to everyone but an optional break-glass principal (docs/security.md). Both buckets are retained
 * on stack deletion: backups outlive the stack.
 */
export class BackupStorage extends Construct {
  /** Where backups, manifests and reports are written. */
  public readonly bucket: s3.Bucket;
  /** Where S3 server access logs of the backup bucket go. */
  public readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: BackupStorageProps) {
    super(scope, id);
    const noncurrentVersionDays = props.noncurrentVersionDays ?? 30;
    const accessLogDays = props.accessLogDays ?? 90;

    // Server access logs can only be delivered to a bucket with SSE-S3 default encryption.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(accessLogDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Backups', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'backup-bucket/',
      objectLockEnabled: props.objectLock ? true : undefined,
      objectLockDefaultRetention: props.objectLock
        ? props.objectLock.mode === 'COMPLIANCE'
          ? s3.ObjectLockRetention.compliance(Duration.days(props.objectLock.retentionDays))
          : s3.ObjectLockRetention.governance(Duration.days(props.objectLock.retentionDays))
        : undefined,
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(noncurrentVersionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          expiredObjectDeleteMarker: props.objectLock === undefined ? true : undefined,
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const objects = this.bucket.arnForObjects('*');
    const deny = (sid: string, actions: string[], conditions: Record<string, Record<string, unknown>>) =>
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions,
          resources: [objects],
          conditions,
        }),
      );
    // A write without encryption headers gets the default (the stack key); one that names
    // encryption must name exactly that.
    deny('DenyWritesUnderAnotherKey', ['s3:PutObject'], {
      Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
      StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': props.key.keyArn },
    });
    deny('DenyWritesWithoutTheStackKey', ['s3:PutObject'], {
      Null: { 's3:x-amz-server-side-encryption': 'false' },
      StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
    });
    deny('DenyWritesUnderTheAwsManagedKey', ['s3:PutObject'], {
      StringEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
      Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'true' },
    });
    deny('DenyWritesWithCustomerKeys', ['s3:PutObject'], {
      Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' },
    });
    deny(
      'DenyBypassingGovernanceRetention',
      ['s3:BypassGovernanceRetention'],
      props.breakGlassPrincipalArn
        ? { ArnNotEquals: { 'aws:PrincipalArn': props.breakGlassPrincipalArn } }
        : {},
    );
  }
}
