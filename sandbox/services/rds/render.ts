/**
 * Records rendered in RDS's XML shapes. Every list element is named as the SDK's model names its
 * members (DBInstances/DBInstance, VpcSecurityGroups/VpcSecurityGroupMembership, TagList/Tag, …):
 * a generic `member` element would parse as an empty list.
 */
import type { XmlNode } from '../../core/responses.ts';
import {
  type ClusterRecord,
  DEFAULT_VPC_ID,
  HOSTED_ZONE_ID,
  type InstanceRecord,
  LOOPBACK,
  type PendingValues,
  rdsArn,
  type SnapshotRecord,
  type Tag,
} from './model.ts';

/** What rendering needs beyond the record itself. */
export interface RenderContext {
  /** The port the data is served on (a member's cluster port), or undefined while there is none. */
  endpointPort(record: InstanceRecord | ClusterRecord): number | undefined;
  /** A cluster's member instances, in order. */
  members(cluster: ClusterRecord): InstanceRecord[];
  /** The cluster an Aurora member belongs to. */
  clusterOf(instance: InstanceRecord): ClusterRecord | undefined;
}

export function tagList(tags: readonly Tag[]): XmlNode {
  return { Tag: tags.map((tag) => ({ Key: tag.Key, Value: tag.Value })) };
}

function date(ms: number | undefined): Date | undefined {
  return ms === undefined ? undefined : new Date(ms);
}

function securityGroups(ids: readonly string[]): XmlNode {
  return { VpcSecurityGroupMembership: ids.map((id) => ({ VpcSecurityGroupId: id, Status: 'active' })) };
}

function pendingValues(pending: PendingValues, kind: 'db' | 'cluster'): XmlNode | undefined {
  const node: Record<string, string | number | boolean | undefined> = {
    DBInstanceClass: kind === 'db' ? pending.DBInstanceClass : undefined,
    AllocatedStorage: pending.AllocatedStorage,
    MasterUserPassword: pending.MasterUserPassword === undefined ? undefined : '****',
    BackupRetentionPeriod: pending.BackupRetentionPeriod,
    MultiAZ: kind === 'db' ? pending.MultiAZ : undefined,
    EngineVersion: pending.EngineVersion,
    [kind === 'db' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier']: pending.Identifier,
    StorageType: pending.StorageType,
  };
  return Object.values(node).some((value) => value !== undefined) ? node : undefined;
}

/** A DBInstance element. */
export function renderInstance(record: InstanceRecord, context: RenderContext): XmlNode {
  const port = context.endpointPort(record);
  const cluster = context.clusterOf(record);
  const inFlight = { ...record.pending, ...record.applying };
  const pendingRename = record.applying?.Identifier ?? record.pending.Identifier;
  return {
    DBInstanceIdentifier: record.id,
    DBInstanceClass: record.instanceClass,
    Engine: record.engine,
    DBInstanceStatus: record.status,
    MasterUsername: record.masterUsername,
    DBName: record.dbName,
    Endpoint:
      port === undefined ? undefined : { Address: LOOPBACK, Port: port, HostedZoneId: HOSTED_ZONE_ID },
    AllocatedStorage: record.allocatedStorage,
    InstanceCreateTime: date(record.readyAt),
    PreferredBackupWindow: '03:00-03:30',
    BackupRetentionPeriod: record.backupRetentionPeriod,
    VpcSecurityGroups: securityGroups(record.vpcSecurityGroupIds),
    DBParameterGroups: {
      DBParameterGroup: [
        { DBParameterGroupName: record.parameterGroup, ParameterApplyStatus: record.parameterApplyStatus },
      ],
    },
    AvailabilityZone: record.availabilityZone,
    DBSubnetGroup: {
      DBSubnetGroupName: record.subnetGroup,
      DBSubnetGroupDescription: record.subnetGroup,
      VpcId: DEFAULT_VPC_ID,
      SubnetGroupStatus: 'Complete',
    },
    PreferredMaintenanceWindow: 'sun:05:00-sun:05:30',
    PendingModifiedValues: pendingValues({ ...inFlight, Identifier: pendingRename }, 'db'),
    LatestRestorableTime: record.readyAt === undefined ? undefined : new Date(),
    MultiAZ: record.multiAZ,
    EngineVersion: cluster?.engineVersion ?? record.engineVersion,
    AutoMinorVersionUpgrade: record.autoMinorVersionUpgrade,
    LicenseModel: 'postgresql-license',
    OptionGroupMemberships: {
      OptionGroupMembership: [{ OptionGroupName: record.optionGroup, Status: 'in-sync' }],
    },
    PubliclyAccessible: record.publiclyAccessible,
    StorageType: record.storageType,
    DbInstancePort: 0,
    DBClusterIdentifier: cluster?.id,
    StorageEncrypted: record.storageEncrypted,
    KmsKeyId: record.kmsKeyId,
    DbiResourceId: record.resourceId,
    CACertificateIdentifier: 'rds-ca-rsa2048-g1',
    CopyTagsToSnapshot: record.copyTagsToSnapshot,
    MonitoringInterval: 0,
    PromotionTier: record.promotionTier,
    DBInstanceArn: rdsArn(record.region, 'db', record.id),
    IAMDatabaseAuthenticationEnabled: false,
    PerformanceInsightsEnabled: false,
    DeletionProtection: record.deletionProtection,
    TagList: tagList(record.tags),
    CustomerOwnedIpEnabled: false,
    NetworkType: 'IPV4',
    BackupTarget: 'region',
  };
}

/** A DBCluster element. */
export function renderCluster(record: ClusterRecord, context: RenderContext): XmlNode {
  const port = context.endpointPort(record);
  const members = context.members(record);
  const pendingRename = record.applying?.Identifier ?? record.pending.Identifier;
  return {
    AllocatedStorage: 1,
    AvailabilityZones: { AvailabilityZone: record.availabilityZones },
    BackupRetentionPeriod: record.backupRetentionPeriod,
    DatabaseName: record.databaseName,
    DBClusterIdentifier: record.id,
    DBClusterParameterGroup: record.parameterGroup,
    DBSubnetGroup: record.subnetGroup,
    Status: record.status,
    EarliestRestorableTime: date(record.readyAt),
    Endpoint: port === undefined ? undefined : LOOPBACK,
    ReaderEndpoint: port === undefined ? undefined : LOOPBACK,
    MultiAZ: members.length > 1,
    Engine: record.engine,
    EngineVersion: record.engineVersion,
    LatestRestorableTime: record.readyAt === undefined ? undefined : new Date(),
    Port: port,
    MasterUsername: record.masterUsername,
    PreferredBackupWindow: '03:00-03:30',
    PreferredMaintenanceWindow: 'sun:05:00-sun:05:30',
    DBClusterMembers: {
      DBClusterMember: members.map((member, index) => ({
        DBInstanceIdentifier: member.id,
        IsClusterWriter: index === 0,
        DBClusterParameterGroupStatus: 'in-sync',
        PromotionTier: member.promotionTier ?? 1,
      })),
    },
    VpcSecurityGroups: securityGroups(record.vpcSecurityGroupIds),
    HostedZoneId: HOSTED_ZONE_ID,
    StorageEncrypted: record.storageEncrypted,
    KmsKeyId: record.kmsKeyId,
    DbClusterResourceId: record.resourceId,
    DBClusterArn: rdsArn(record.region, 'cluster', record.id),
    IAMDatabaseAuthenticationEnabled: false,
    ClusterCreateTime: date(record.createdAt),
    EngineMode: 'provisioned',
    PendingModifiedValues: pendingValues(
      { ...record.pending, ...record.applying, Identifier: pendingRename },
      'cluster',
    ),
    DeletionProtection: record.deletionProtection,
    HttpEndpointEnabled: false,
    CopyTagsToSnapshot: record.copyTagsToSnapshot,
    CrossAccountClone: false,
    TagList: tagList(record.tags),
    DBClusterInstanceClass: record.instanceClass,
    StorageType: record.storageType,
    NetworkType: 'IPV4',
  };
}

/** A DBSnapshot element. */
export function renderSnapshot(record: SnapshotRecord): XmlNode {
  return {
    DBSnapshotIdentifier: record.id,
    DBInstanceIdentifier: record.sourceId,
    SnapshotCreateTime: date(record.createdAt),
    Engine: record.engine,
    AllocatedStorage: record.allocatedStorage,
    Status: record.status,
    Port: record.port,
    AvailabilityZone: record.availabilityZone,
    VpcId: DEFAULT_VPC_ID,
    InstanceCreateTime: date(record.sourceCreatedAt),
    MasterUsername: record.masterUsername,
    EngineVersion: record.engineVersion,
    LicenseModel: 'postgresql-license',
    SnapshotType: record.snapshotType,
    OptionGroupName: record.optionGroup,
    PercentProgress: percent(record),
    SourceRegion: record.sourceRegion,
    SourceDBSnapshotIdentifier: record.sourceSnapshotArn,
    StorageType: record.storageType,
    Encrypted: record.encrypted,
    KmsKeyId: record.kmsKeyId,
    DBSnapshotArn: rdsArn(record.region, 'snapshot', record.id),
    IAMDatabaseAuthenticationEnabled: false,
    DbiResourceId: record.sourceResourceId,
    TagList: tagList(record.tags),
    SnapshotTarget: 'region',
    OriginalSnapshotCreateTime: date(record.originalCreatedAt),
    SnapshotDatabaseTime: date(record.dataTime),
  };
}

/** A DBClusterSnapshot element. */
export function renderClusterSnapshot(record: SnapshotRecord): XmlNode {
  return {
    AvailabilityZones: { AvailabilityZone: record.availabilityZones },
    DBClusterSnapshotIdentifier: record.id,
    DBClusterIdentifier: record.sourceId,
    SnapshotCreateTime: date(record.createdAt),
    Engine: record.engine,
    EngineMode: 'provisioned',
    AllocatedStorage: record.allocatedStorage,
    Status: record.status,
    Port: record.port,
    VpcId: DEFAULT_VPC_ID,
    ClusterCreateTime: date(record.sourceCreatedAt),
    MasterUsername: record.masterUsername,
    EngineVersion: record.engineVersion,
    LicenseModel: 'postgresql-license',
    SnapshotType: record.snapshotType,
    PercentProgress: percent(record),
    StorageEncrypted: record.encrypted,
    KmsKeyId: record.kmsKeyId,
    DBClusterSnapshotArn: rdsArn(record.region, 'cluster-snapshot', record.id),
    SourceDBClusterSnapshotArn: record.sourceSnapshotArn,
    IAMDatabaseAuthenticationEnabled: false,
    TagList: tagList(record.tags),
    StorageType: record.storageType,
    DbClusterResourceId: record.sourceResourceId,
  };
}

/** Progress of a snapshot: the data is captured up front, the status then catches up over the delay. */
function percent(record: SnapshotRecord): number {
  return record.status === 'available' ? 100 : record.progress;
}
