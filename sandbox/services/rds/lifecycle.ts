/**
 * The life of instances, clusters and snapshots: provisioning a server (new or restored), taking
 * snapshots, applying modifications, deleting, and picking up where a previous run stopped.
 * Statuses move through their real values, each lasting at least the configured delay.
 */
import { randomUUID } from 'node:crypto';
import {
  automatedSnapshotId,
  type ClusterRecord,
  type InstanceRecord,
  rdsArn,
  type SnapshotRecord,
  type Tag,
} from './model.ts';
import type { RdsRuntime, ServerRecord } from './runtime.ts';

/** A new snapshot record of `source`, status `creating`, data not taken yet. */
export function newSnapshot(
  source: ServerRecord,
  id: string,
  snapshotType: SnapshotRecord['snapshotType'],
  tags: Tag[],
  port: number | undefined,
): SnapshotRecord {
  const now = Date.now();
  const instance = source.kind === 'db' ? source : undefined;
  const cluster = source.kind === 'cluster' ? source : undefined;
  return {
    key: randomUUID(),
    kind: instance ? 'snapshot' : 'cluster-snapshot',
    region: source.region,
    id,
    sourceId: source.id,
    sourceResourceId: source.resourceId,
    snapshotType,
    status: 'creating',
    progress: 0,
    createdAt: now,
    originalCreatedAt: now,
    dataTime: now,
    sourceCreatedAt: source.readyAt ?? source.createdAt,
    engine: source.engine,
    engineVersion: source.engineVersion,
    allocatedStorage: instance ? instance.allocatedStorage : 1,
    port: port ?? 5432,
    availabilityZone: instance ? instance.availabilityZone : `${source.region}a`,
    availabilityZones: cluster ? cluster.availabilityZones : [],
    masterUsername: source.masterUsername,
    dbName: instance ? instance.dbName : cluster?.databaseName,
    instanceClass: instance ? instance.instanceClass : cluster?.instanceClass,
    storageType: source.storageType,
    optionGroup: instance?.optionGroup,
    encrypted: source.storageEncrypted,
    kmsKeyId: source.kmsKeyId,
    tags,
  };
}

/**
 * Takes a snapshot now: the data is copied before this returns (it is the data as of this
 * request, as an AWS snapshot is of the moment it starts); the snapshot then shows `creating`
 * with growing PercentProgress and the source `backing-up` for one delay.
 */
export async function snapshotNow(
  rt: RdsRuntime,
  source: ServerRecord,
  snapshot: SnapshotRecord,
  options: { sourceStatus?: boolean } = {},
): Promise<void> {
  const { store } = rt;
  store.snapshots.set(snapshot.key, snapshot);
  const before = source.status;
  const markSource = options.sourceStatus !== false;
  if (markSource) source.status = 'backing-up';
  try {
    await rt.backup(source, snapshot);
  } catch (error) {
    store.snapshots.delete(snapshot.key);
    if (markSource) source.status = before;
    throw error;
  }
  store.save();
  rt.background(snapshot.key, () => rt.completeSnapshot(snapshot), failSnapshot(snapshot));
  if (markSource) {
    rt.background(
      source.key,
      async () => {
        await rt.delay();
        if (source.status === 'backing-up') source.status = 'available';
        store.save();
      },
      failRecord(source),
    );
  }
}

/**
 * Brings up a new instance or cluster: a new database from the template, or the restored data
 * already copied into its home; then the first automated backup (status `backing-up`), then
 * `available`. Aurora members have no server of their own: they only wait.
 */
export function provision(rt: RdsRuntime, record: ServerRecord): void {
  const { store, manager } = rt;
  rt.background(
    record.key,
    async () => {
      const started = Date.now();
      if (record.kind === 'db' && record.clusterKey) {
        await rt.delaySince(started);
        record.readyAt = Date.now();
        if (deleting(record)) return;
        record.status = 'available';
        store.save();
        return;
      }
      if (record.home && !record.homeReady) {
        await manager.remove(record.home);
        record.home = undefined;
      }
      if (record.homeReady) {
        await rt.startServer(record);
      } else {
        const home = await manager.newHome('servers');
        record.home = home;
        store.save();
        const password = record.masterPassword;
        if (password === undefined) throw new Error(`${record.id}: no master password to create it with`);
        await rt.startServer(record, () =>
          manager.create(
            home,
            {
              masterUsername: record.masterUsername,
              masterPassword: password,
              ...(record.kind === 'db' && record.dbName ? { dbName: record.dbName } : {}),
              ...(record.kind === 'cluster' && record.databaseName ? { dbName: record.databaseName } : {}),
            },
            rt.preferredPort(record),
            (detail) => rt.crashed(record, detail),
            rt.avoidPorts(record),
          ),
        );
        record.homeReady = true;
      }
      record.masterPassword = undefined;
      store.save();
      await rt.delaySince(started);
      record.readyAt = Date.now();
      if (deleting(record)) return;
      if (record.backupRetentionPeriod > 0) {
        record.status = 'backing-up';
        store.save();
        const at = new Date();
        const id = automatedSnapshotId(record.id, at);
        const kind = record.kind === 'db' ? 'snapshot' : 'cluster-snapshot';
        const previous = store.findSnapshot(record.region, kind, id);
        if (previous) {
          store.snapshots.delete(previous.key);
          await rt.dropSnapshotData(previous);
        }
        const snapshot = newSnapshot(record, id, 'automated', [], rt.endpointPort(record));
        store.snapshots.set(snapshot.key, snapshot);
        await rt.backup(record, snapshot);
        store.save();
        await rt.completeSnapshot(snapshot);
      }
      if (deleting(record)) return;
      record.status = 'available';
      store.save();
    },
    failRecord(record),
  );
}

/** Deleting an instance that is still being created or changed cuts that work short. */
function deleting(record: ServerRecord): boolean {
  return record.status === 'deleting';
}

/**
 * Applies `record.applying` after one delay in status `status` (modifying, upgrading, renaming,
 * resetting-master-credentials), then returns the record to `available`.
 */
export function modifySoon(rt: RdsRuntime, record: ServerRecord, status: string): void {
  record.status = status;
  rt.store.save();
  rt.background(
    record.key,
    async () => {
      await rt.delay();
      if (deleting(record)) return;
      await applyNow(rt, record);
      if (deleting(record)) return;
      record.status = 'available';
      rt.store.save();
    },
    failRecord(record),
  );
}

/**
 * Applies a modification. Changes that reboot an AWS instance (class, engine version, parameter
 * group) restart its server; a rename moves the server to the endpoint port of the new name.
 */
export async function applyNow(rt: RdsRuntime, record: ServerRecord): Promise<void> {
  const change = record.applying;
  if (!change) return;
  const member = record.kind === 'db' && record.clusterKey !== undefined;
  if (change.MasterUserPassword !== undefined) {
    await setMasterPassword(rt, record, change.MasterUserPassword);
  }
  const reboot =
    !member &&
    (change.Identifier !== undefined ||
      change.EngineVersion !== undefined ||
      change.parameterGroup !== undefined ||
      (record.kind === 'db' && change.DBInstanceClass !== undefined));
  if (reboot) await rt.stopServer(record);
  if (change.Identifier !== undefined) renameRecord(rt, record, change.Identifier);
  if (change.EngineVersion !== undefined) record.engineVersion = change.EngineVersion;
  if (change.BackupRetentionPeriod !== undefined) record.backupRetentionPeriod = change.BackupRetentionPeriod;
  if (change.StorageType !== undefined) record.storageType = change.StorageType;
  if (record.kind === 'db') {
    if (change.DBInstanceClass !== undefined) record.instanceClass = change.DBInstanceClass;
    if (change.AllocatedStorage !== undefined) record.allocatedStorage = change.AllocatedStorage;
    if (change.MultiAZ !== undefined) record.multiAZ = change.MultiAZ;
    if (change.parameterGroup !== undefined) record.parameterGroup = change.parameterGroup;
    if (reboot) record.parameterApplyStatus = 'in-sync';
  } else if (change.parameterGroup !== undefined) {
    record.parameterGroup = change.parameterGroup;
  }
  record.applying = undefined;
  rt.store.save();
  if (reboot) await rt.startServer(record);
}

function renameRecord(rt: RdsRuntime, record: ServerRecord, id: string): void {
  const type = record.kind === 'db' ? 'db' : 'cluster';
  const oldArn = rdsArn(record.region, type, record.id);
  record.id = id;
  const actions = rt.store.maintenance.get(oldArn);
  if (actions) {
    rt.store.maintenance.delete(oldArn);
    rt.store.maintenance.set(rdsArn(record.region, type, id), actions);
  }
}

async function setMasterPassword(rt: RdsRuntime, record: ServerRecord, password: string): Promise<void> {
  const port = rt.endpointPort(record);
  if (port === undefined) throw new Error(`${record.id} has no running server`);
  const client = await rt.manager.connectAdmin(port);
  try {
    const user = client.escapeIdentifier(record.masterUsername);
    await client.query(`ALTER ROLE ${user} PASSWORD ${client.escapeLiteral(password)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Deletes after one delay in status `deleting`: the server stops, its files and automated
 * snapshots go, seeded maintenance actions go. Manual snapshots stay, as in AWS.
 */
export function deleteSoon(rt: RdsRuntime, record: ServerRecord): void {
  record.status = 'deleting';
  rt.store.save();
  rt.background(
    record.key,
    async () => {
      await rt.delay();
      await retire(rt, record);
    },
    failRecord(record),
  );
}

export async function retire(rt: RdsRuntime, record: ServerRecord): Promise<void> {
  const { store } = rt;
  await rt.stopServer(record);
  if (record.home) await rt.manager.remove(record.home);
  const kind = record.kind === 'db' ? 'snapshot' : 'cluster-snapshot';
  for (const snapshot of [...store.snapshots.values()]) {
    if (
      snapshot.kind === kind &&
      snapshot.snapshotType === 'automated' &&
      snapshot.sourceResourceId === record.resourceId
    ) {
      store.snapshots.delete(snapshot.key);
      await rt.dropSnapshotData(snapshot);
    }
  }
  store.maintenance.delete(rdsArn(record.region, record.kind, record.id));
  if (record.kind === 'db') {
    store.instances.delete(record.key);
    const cluster = record.clusterKey ? store.cluster(record.clusterKey) : undefined;
    if (cluster) cluster.members = cluster.members.filter((key) => key !== record.key);
  } else {
    store.clusters.delete(record.key);
  }
  store.save();
}

export function failRecord(record: InstanceRecord | ClusterRecord): () => void {
  return () => {
    record.status = 'failed';
  };
}

export function failSnapshot(snapshot: SnapshotRecord): () => void {
  return () => {
    snapshot.status = 'failed';
  };
}
