import { Aws } from 'aws-cdk-lib';

/** An ARN in this stack's partition, region and account. */
export function stackArn(service: string, resource: string, region: string = Aws.REGION): string {
  return `arn:${Aws.PARTITION}:${service}:${region}:${Aws.ACCOUNT_ID}:${resource}`;
}

/** The ARN of an RDS instance (`db:`) or Aurora cluster (`cluster:`). */
export function rdsResourceArn(type: 'instance' | 'cluster', identifier: string, region?: string): string {
  return stackArn('rds', `${type === 'cluster' ? 'cluster' : 'db'}:${identifier}`, region);
}

/** ARNs matching every manual snapshot of instances (`snapshot:*`) or clusters (`cluster-snapshot:*`). */
export function rdsSnapshotArns(type: 'instance' | 'cluster', region?: string): string {
  return stackArn('rds', `${type === 'cluster' ? 'cluster-snapshot' : 'snapshot'}:*`, region);
}
