/**
 * What the sandbox's RDS keeps about instances, clusters and snapshots: plain JSON records (they
 * are persisted as they are), plus identifiers and ARNs in AWS's formats.
 */
import { randomBytes } from 'node:crypto';
import { SANDBOX_ACCOUNT_ID } from '../../core/types.ts';

export interface Tag {
  Key: string;
  Value: string;
}

/** Modifications waiting for a maintenance window (ApplyImmediately=false). */
export interface PendingValues {
  DBInstanceClass?: string;
  EngineVersion?: string;
  /** A rename waiting to be applied (instances: DBInstanceIdentifier; clusters: DBClusterIdentifier). */
  Identifier?: string;
  AllocatedStorage?: number;
  MultiAZ?: boolean;
  StorageType?: string;
  BackupRetentionPeriod?: number;
  MasterUserPassword?: string;
}

/** Fields shared by instances and clusters. */
interface ServerBacked {
  /** Internal, stable across renames. */
  key: string;
  region: string;
  id: string;
  resourceId: string;
  engine: string;
  engineVersion: string;
  status: string;
  masterUsername: string;
  createdAt: number;
  /** When the resource finished being created (InstanceCreateTime / ClusterCreateTime). */
  readyAt?: number;
  vpcSecurityGroupIds: string[];
  subnetGroup: string;
  storageEncrypted: boolean;
  kmsKeyId?: string;
  copyTagsToSnapshot: boolean;
  deletionProtection: boolean;
  backupRetentionPeriod: number;
  storageType: string;
  tags: Tag[];
  pending: PendingValues;
  /** A modification being applied now (status modifying/upgrading/renaming). */
  applying?: PendingValues & { parameterGroup?: string };
  /** The server's home directory (data/ and postgres.log); undefined until created, and for cluster members. */
  home?: string;
  /** Set once the database is fully created or restored (the home is usable after a restart). */
  homeReady?: boolean;
  /** Last port the server listened on. */
  port?: number;
  /** Kept for creating the database: never rendered. */
  masterPassword?: string;
}

export interface InstanceRecord extends ServerBacked {
  kind: 'db';
  dbName?: string;
  instanceClass: string;
  allocatedStorage: number;
  multiAZ: boolean;
  parameterGroup: string;
  parameterApplyStatus: string;
  optionGroup: string;
  availabilityZone: string;
  publiclyAccessible: boolean;
  autoMinorVersionUpgrade: boolean;
  /** Aurora member: the cluster serves its data. */
  clusterKey?: string;
  promotionTier?: number;
}

export interface ClusterRecord extends ServerBacked {
  kind: 'cluster';
  databaseName?: string;
  parameterGroup: string;
  instanceClass?: string;
  availabilityZones: string[];
  /** Member instance keys in creation order; the first is the writer. */
  members: string[];
}

export interface SnapshotRecord {
  key: string;
  kind: 'snapshot' | 'cluster-snapshot';
  region: string;
  id: string;
  /** The instance or cluster identifier at snapshot time. */
  sourceId: string;
  sourceResourceId: string;
  snapshotType: 'manual' | 'automated';
  status: string;
  /** PercentProgress while creating. */
  progress: number;
  createdAt: number;
  originalCreatedAt: number;
  /** When the data was captured (SnapshotDatabaseTime). */
  dataTime: number;
  sourceCreatedAt: number;
  engine: string;
  engineVersion: string;
  allocatedStorage: number;
  port: number;
  availabilityZone: string;
  availabilityZones: string[];
  masterUsername: string;
  dbName?: string;
  instanceClass?: string;
  storageType: string;
  optionGroup?: string;
  encrypted: boolean;
  kmsKeyId?: string;
  sourceRegion?: string;
  sourceSnapshotArn?: string;
  tags: Tag[];
  /** The snapshot's home (data/); copies share their source's home (snapshot data never changes). */
  home?: string;
  /** Bytes copied for this snapshot. */
  sizeBytes?: number;
}

export interface MaintenanceAction {
  Action: string;
  Description?: string;
  AutoAppliedAfterDate?: number;
  ForcedApplyDate?: number;
  CurrentApplyDate?: number;
  OptInStatus?: string;
}

export type ResourceType = 'db' | 'cluster' | 'snapshot' | 'cluster-snapshot';

export const DEFAULT_VPC_ID = 'vpc-00000000000000000';
export const DEFAULT_SECURITY_GROUP = 'sg-00000000000000000';
export const DEFAULT_SUBNET_GROUP = 'default';
export const HOSTED_ZONE_ID = 'Z2R2ITUGPM61AM';
export const LOOPBACK = '127.0.0.1';
export const SERVICE_NAMESPACE = 'http://rds.amazonaws.com/doc/2014-10-31/';

/** The ARN of an RDS resource in the sandbox account. */
export function rdsArn(region: string, type: ResourceType, id: string): string {
  return `arn:aws:rds:${region}:${SANDBOX_ACCOUNT_ID}:${type}:${id}`;
}

const ARN = /^arn:aws[\w-]*:rds:([a-z0-9-]+):(\d{12}):(db|cluster|snapshot|cluster-snapshot):(.+)$/;

/** Parses an RDS ARN; undefined when the text is not one. */
export function parseRdsArn(
  text: string,
): { region: string; account: string; type: ResourceType; id: string } | undefined {
  const match = ARN.exec(text);
  if (!match) return undefined;
  const [, region, account, type, id] = match as unknown as [string, string, string, ResourceType, string];
  return { region, account, type, id };
}

/** An RDS resource id: `db-`/`cluster-` followed by 26 upper-case letters and digits. */
export function resourceId(prefix: 'db' | 'cluster'): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(26);
  let id = '';
  for (const byte of bytes) id += alphabet[byte % alphabet.length];
  return `${prefix}-${id}`;
}

/** The major version of an engine version ("16.3" → 16). */
export function majorVersion(version: string): number {
  return Number.parseInt(version, 10);
}

/** Compares engine versions numerically, part by part. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The automated snapshot name RDS uses: `rds:<id>-yyyy-mm-dd-hh-mm`. */
export function automatedSnapshotId(sourceId: string, at: Date): string {
  const stamp = at.toISOString().slice(0, 16).replace('T', '-').replace(':', '-');
  return `rds:${sourceId}-${stamp}`;
}

/** Tag lists merged by key, later lists winning. */
export function mergeTags(...lists: readonly Tag[][]): Tag[] {
  const byKey = new Map<string, string>();
  for (const list of lists) for (const tag of list) byKey.set(tag.Key, tag.Value);
  return [...byKey].map(([Key, Value]) => ({ Key, Value }));
}
