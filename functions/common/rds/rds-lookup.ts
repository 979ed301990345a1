/**
 * Reading RDS state the way Caretaker's RDS functions need it: an instance, cluster or snapshot
 * that may not exist (undefined rather than an error), snapshots of either kind in one shape,
 * and every manual snapshot of a region (for the quota). Thin wrappers over the SDK.
 */
import {
  type DBCluster,
  type DBClusterSnapshot,
  type DBInstance,
  type DBSnapshot,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { tagMap } from '../caretaker-tags.ts';
import { isErrorNamed } from '../runtime/errors.ts';
import { captureClusterSettings, captureInstanceSettings, type DatabaseSettings } from './rds-settings.ts';

export type DatabaseType = 'instance' | 'cluster';

const NOT_FOUND = {
  instance: ['DBInstanceNotFound', 'DBInstanceNotFoundFault'],
  cluster: ['DBClusterNotFoundFault'],
  snapshot: ['DBSnapshotNotFound', 'DBSnapshotNotFoundFault'],
  clusterSnapshot: ['DBClusterSnapshotNotFoundFault'],
} as const;

async function orUndefined<T>(call: Promise<T>, notFound: readonly string[]): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isErrorNamed(error, ...notFound)) return undefined;
    throw error;
  }
}

/** A DB instance, or undefined when there is none of that identifier. */
export async function findInstance(rds: RDSClient, id: string): Promise<DBInstance | undefined> {
  const out = await orUndefined(
    rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })),
    NOT_FOUND.instance,
  );
  return out?.DBInstances?.[0];
}

/** A DB cluster, or undefined when there is none of that identifier. */
export async function findCluster(rds: RDSClient, id: string): Promise<DBCluster | undefined> {
  const out = await orUndefined(
    rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id })),
    NOT_FOUND.cluster,
  );
  return out?.DBClusters?.[0];
}

/** An instance or cluster as the snapshot and restore functions see it. */
export interface DatabaseView {
  readonly type: DatabaseType;
  readonly identifier: string;
  readonly arn: string;
  readonly status: string;
  /** Its settings now (a cluster's with its writer's class and parameter group). */
  readonly settings: DatabaseSettings;
  readonly tags: Record<string, string>;
  /** A rename waiting or being applied. */
  readonly pendingIdentifier?: string;
}

/** An instance or cluster with its settings, or undefined when there is none of that identifier. */
export async function findDatabase(
  rds: RDSClient,
  type: DatabaseType,
  identifier: string,
): Promise<DatabaseView | undefined> {
  if (type === 'instance') {
    const db = await findInstance(rds, identifier);
    if (!db) return undefined;
    return {
      type,
      identifier: db.DBInstanceIdentifier ?? identifier,
      arn: db.DBInstanceArn ?? '',
      status: db.DBInstanceStatus ?? 'unknown',
      settings: captureInstanceSettings(db),
      tags: tagMap(db.TagList),
      ...(db.PendingModifiedValues?.DBInstanceIdentifier
        ? { pendingIdentifier: db.PendingModifiedValues.DBInstanceIdentifier }
        : {}),
    };
  }
  const cluster = await findCluster(rds, identifier);
  if (!cluster) return undefined;
  const writerId = cluster.DBClusterMembers?.find((member) => member.IsClusterWriter)?.DBInstanceIdentifier;
  const writer = writerId ? await findInstance(rds, writerId) : undefined;
  return {
    type,
    identifier: cluster.DBClusterIdentifier ?? identifier,
    arn: cluster.DBClusterArn ?? '',
    status: cluster.Status ?? 'unknown',
    settings: captureClusterSettings(cluster, writer),
    tags: tagMap(cluster.TagList),
    ...(cluster.PendingModifiedValues?.DBClusterIdentifier
      ? { pendingIdentifier: cluster.PendingModifiedValues.DBClusterIdentifier }
      : {}),
  };
}

/** A DB snapshot or DB cluster snapshot in one shape. */
export interface SnapshotView {
  readonly type: DatabaseType;
  readonly id: string;
  readonly arn: string;
  /** `creating`, `available`, `copying`, `failed`, … as RDS reports it. */
  readonly status: string;
  readonly percentProgress: number;
  readonly createdAt?: Date;
  /** The instance or cluster it was taken of. */
  readonly sourceIdentifier?: string;
  /** Set on a cross-region copy: the region it was copied from. */
  readonly sourceRegion?: string;
  readonly snapshotType?: string;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  readonly engine?: string;
  /** Tags from the describe response (undefined when the endpoint left them out). */
  readonly tagList?: Record<string, string>;
}

function instanceSnapshotView(raw: DBSnapshot): SnapshotView {
  return {
    type: 'instance',
    id: raw.DBSnapshotIdentifier ?? '',
    arn: raw.DBSnapshotArn ?? '',
    status: raw.Status ?? 'unknown',
    percentProgress: raw.PercentProgress ?? 0,
    ...(raw.SnapshotCreateTime ? { createdAt: raw.SnapshotCreateTime } : {}),
    ...(raw.DBInstanceIdentifier ? { sourceIdentifier: raw.DBInstanceIdentifier } : {}),
    ...(raw.SourceRegion ? { sourceRegion: raw.SourceRegion } : {}),
    ...(raw.SnapshotType ? { snapshotType: raw.SnapshotType } : {}),
    encrypted: raw.Encrypted === true,
    ...(raw.KmsKeyId ? { kmsKeyId: raw.KmsKeyId } : {}),
    ...(raw.Engine ? { engine: raw.Engine } : {}),
    ...(raw.TagList ? { tagList: tagMap(raw.TagList) } : {}),
  };
}

function clusterSnapshotView(raw: DBClusterSnapshot): SnapshotView {
  const sourceArn = raw.SourceDBClusterSnapshotArn;
  const sourceRegion = sourceArn?.split(':')[3];
  const region = raw.DBClusterSnapshotArn?.split(':')[3];
  return {
    type: 'cluster',
    id: raw.DBClusterSnapshotIdentifier ?? '',
    arn: raw.DBClusterSnapshotArn ?? '',
    status: raw.Status ?? 'unknown',
    percentProgress: raw.PercentProgress ?? 0,
    ...(raw.SnapshotCreateTime ? { createdAt: raw.SnapshotCreateTime } : {}),
    ...(raw.DBClusterIdentifier ? { sourceIdentifier: raw.DBClusterIdentifier } : {}),
    // Cluster snapshots report no SourceRegion: a copy from elsewhere names its source's ARN.
    ...(sourceRegion && sourceRegion !== region ? { sourceRegion } : {}),
    ...(raw.SnapshotType ? { snapshotType: raw.SnapshotType } : {}),
    encrypted: raw.StorageEncrypted === true,
    ...(raw.KmsKeyId ? { kmsKeyId: raw.KmsKeyId } : {}),
    ...(raw.Engine ? { engine: raw.Engine } : {}),
    ...(raw.TagList ? { tagList: tagMap(raw.TagList) } : {}),
  };
}

/** A snapshot of either kind, or undefined when there is none of that identifier (or ARN). */
export async function findSnapshot(
  rds: RDSClient,
  type: DatabaseType,
  id: string,
): Promise<SnapshotView | undefined> {
  if (type === 'cluster') {
    const out = await orUndefined(
      rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id })),
      NOT_FOUND.clusterSnapshot,
    );
    const raw = out?.DBClusterSnapshots?.[0];
    return raw ? clusterSnapshotView(raw) : undefined;
  }
  const out = await orUndefined(
    rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id })),
    NOT_FOUND.snapshot,
  );
  const raw = out?.DBSnapshots?.[0];
  return raw ? instanceSnapshotView(raw) : undefined;
}

/** Every manual snapshot of the kind in the client's region (all sources), paginated. */
export async function listManualSnapshots(rds: RDSClient, type: DatabaseType): Promise<SnapshotView[]> {
  const views: SnapshotView[] = [];
  let marker: string | undefined;
  do {
    if (type === 'cluster') {
      const page = await rds.send(
        new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual', MaxRecords: 100, Marker: marker }),
      );
      for (const raw of page.DBClusterSnapshots ?? []) views.push(clusterSnapshotView(raw));
      marker = page.Marker;
    } else {
      const page = await rds.send(
        new DescribeDBSnapshotsCommand({ SnapshotType: 'manual', MaxRecords: 100, Marker: marker }),
      );
      for (const raw of page.DBSnapshots ?? []) views.push(instanceSnapshotView(raw));
      marker = page.Marker;
    }
  } while (marker);
  return views;
}

/** A resource's tags by ARN. */
export async function listTags(rds: RDSClient, arn: string): Promise<Record<string, string>> {
  const out = await rds.send(new ListTagsForResourceCommand({ ResourceName: arn }));
  return tagMap(out.TagList);
}

/** A snapshot's tags: from the describe response, else read by ARN. */
export function snapshotTags(rds: RDSClient, snapshot: SnapshotView): Promise<Record<string, string>> {
  return snapshot.tagList ? Promise.resolve(snapshot.tagList) : listTags(rds, snapshot.arn);
}

/** Snapshot statuses that no longer change by themselves. */
export function isSettledSnapshotStatus(status: string): boolean {
  return (
    status === 'available' || status === 'failed' || status === 'deleted' || status === 'incompatible-restore'
  );
}
