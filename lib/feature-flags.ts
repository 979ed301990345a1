/**
 * CDK feature flags the stack relies on, applied by the app and by the tests' apps alike so
 * both synthesize the same template.
 */
export const FEATURE_FLAGS = {
  // Grant S3 log delivery with a bucket policy instead of the legacy LogDeliveryWrite ACL, so the
  // access-log bucket can keep ACLs disabled (BucketOwnerEnforced).
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/aws-lambda-nodejs:useLatestRuntimeVersion': true,
  '@aws-cdk/core:enablePartitionLiterals': true,
} as const;
