/**
 * The RDS records of every region, and the identifier → port book that makes an identifier's
 * endpoint stable (a renamed or restored instance taking a name takes that name's endpoint, as a
 * DNS name would follow it in AWS). Persisted to a JSON state file after every change.
 *
 * Homes (server and snapshot directories) are absolute paths in memory and relative ones
 * (`servers/<uuid>`) in the file: the server files may live elsewhere during a run than in the
 * data directory (see sandbox/postgres/server-files.ts).
 */
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { readStateFile, writeStateFile } from '../../core/state-file.ts';
import {
  dbClusterNotFound,
  dbClusterSnapshotNotFound,
  dbInstanceNotFound,
  dbSnapshotNotFound,
} from './errors.ts';
import {
  type ClusterRecord,
  type InstanceRecord,
  type MaintenanceAction,
  parseRdsArn,
  type SnapshotRecord,
} from './model.ts';

interface StoredState {
  version: 1;
  instances: InstanceRecord[];
  clusters: ClusterRecord[];
  snapshots: SnapshotRecord[];
  maintenance: { arn: string; actions: MaintenanceAction[] }[];
  ports: [string, number][];
}

export type SnapshotKind = SnapshotRecord['kind'];

export class RdsStore {
  readonly instances = new Map<string, InstanceRecord>();
  readonly clusters = new Map<string, ClusterRecord>();
  readonly snapshots = new Map<string, SnapshotRecord>();
  /** Seeded pending maintenance actions by resource ARN. */
  readonly maintenance = new Map<string, MaintenanceAction[]>();
  private readonly ports = new Map<string, number>();
  private readonly path: string;

  /**
   * @param rootDir where state.json is
   * @param filesRoot where the homes' servers/ and snapshots/ directories are during this run
   */
  constructor(
    rootDir: string,
    private readonly filesRoot: string = rootDir,
  ) {
    this.path = join(rootDir, 'state.json');
    const stored = readStateFile(this.path) as StoredState | undefined;
    if (!stored) return;
    if (stored.version !== 1) throw new Error(`Unsupported RDS state version in ${this.path}`);
    const load = <T extends { key: string; home?: string }>(records: T[], into: Map<string, T>): void => {
      for (const record of records) {
        if (record.home !== undefined) record.home = this.absoluteHome(record.home);
        into.set(record.key, record);
      }
    };
    load(stored.instances, this.instances);
    load(stored.clusters, this.clusters);
    load(stored.snapshots, this.snapshots);
    for (const { arn, actions } of stored.maintenance) this.maintenance.set(arn, actions);
    for (const [name, port] of stored.ports) this.ports.set(name, port);
  }

  /** Writes the state file (synchronously, so concurrent requests never interleave writes). */
  save(): void {
    const stored = <T extends { home?: string }>(records: Iterable<T>): T[] =>
      [...records].map((record) =>
        record.home === undefined ? record : { ...record, home: relative(this.filesRoot, record.home) },
      );
    const state: StoredState = {
      version: 1,
      instances: stored(this.instances.values()),
      clusters: stored(this.clusters.values()),
      snapshots: stored(this.snapshots.values()),
      maintenance: [...this.maintenance].map(([arn, actions]) => ({ arn, actions })),
      ports: [...this.ports],
    };
    writeStateFile(this.path, state);
  }

  /**
   * A stored home as a path for this run. Files written before homes were stored relative hold
   * absolute paths under the data directory; their last two parts (`servers/<uuid>`) still name them.
   */
  private absoluteHome(home: string): string {
    if (!isAbsolute(home)) return join(this.filesRoot, home);
    return join(this.filesRoot, basename(dirname(home)), basename(home));
  }

  /** The port an identifier's endpoint had, if it ever had one. */
  portOf(region: string, kind: 'db' | 'cluster', id: string): number | undefined {
    return this.ports.get(`${region}/${kind}/${id}`);
  }

  /** Whether `port` is the endpoint of another identifier (so a new server should not take it). */
  portBookedByOther(region: string, kind: 'db' | 'cluster', id: string, port: number): boolean {
    const own = `${region}/${kind}/${id}`;
    for (const [name, booked] of this.ports) if (booked === port && name !== own) return true;
    return false;
  }

  bindPort(region: string, kind: 'db' | 'cluster', id: string, port: number): void {
    this.ports.set(`${region}/${kind}/${id}`, port);
  }

  instancesIn(region: string): InstanceRecord[] {
    return [...this.instances.values()].filter((record) => record.region === region);
  }

  clustersIn(region: string): ClusterRecord[] {
    return [...this.clusters.values()].filter((record) => record.region === region);
  }

  snapshotsIn(region: string, kind: SnapshotKind): SnapshotRecord[] {
    return [...this.snapshots.values()].filter((record) => record.region === region && record.kind === kind);
  }

  /** An instance by identifier or ARN, in `region`. */
  findInstance(region: string, idOrArn: string): InstanceRecord | undefined {
    const id = idIn(region, idOrArn, 'db');
    return id === undefined ? undefined : this.instancesIn(region).find((record) => record.id === id);
  }

  requireInstance(region: string, idOrArn: string): InstanceRecord {
    const record = this.findInstance(region, idOrArn);
    if (!record) throw dbInstanceNotFound(idOrArn);
    return record;
  }

  findCluster(region: string, idOrArn: string): ClusterRecord | undefined {
    const id = idIn(region, idOrArn, 'cluster');
    return id === undefined ? undefined : this.clustersIn(region).find((record) => record.id === id);
  }

  requireCluster(region: string, idOrArn: string): ClusterRecord {
    const record = this.findCluster(region, idOrArn);
    if (!record) throw dbClusterNotFound(idOrArn);
    return record;
  }

  findSnapshot(region: string, kind: SnapshotKind, idOrArn: string): SnapshotRecord | undefined {
    const id = idIn(region, idOrArn, kind);
    return id === undefined ? undefined : this.snapshotsIn(region, kind).find((record) => record.id === id);
  }

  requireSnapshot(region: string, kind: SnapshotKind, idOrArn: string): SnapshotRecord {
    const record = this.findSnapshot(region, kind, idOrArn);
    if (!record) throw kind === 'snapshot' ? dbSnapshotNotFound(idOrArn) : dbClusterSnapshotNotFound(idOrArn);
    return record;
  }

  /** Whether an instance or cluster name is in use in `region`, counting renames under way. */
  nameTaken(region: string, kind: 'db' | 'cluster', id: string): boolean {
    const records = kind === 'db' ? this.instancesIn(region) : this.clustersIn(region);
    return records.some(
      (record) => record.id === id || record.applying?.Identifier === id || record.pending.Identifier === id,
    );
  }

  manualSnapshotCount(region: string, kind: SnapshotKind): number {
    return this.snapshotsIn(region, kind).filter((record) => record.snapshotType === 'manual').length;
  }

  instance(key: string): InstanceRecord | undefined {
    return this.instances.get(key);
  }

  cluster(key: string): ClusterRecord | undefined {
    return this.clusters.get(key);
  }
}

/**
 * The identifier an id-or-ARN names in `region`: identifiers are case-insensitive (stored lower
 * case); an ARN must be of the right type and region, else nothing matches.
 */
function idIn(region: string, idOrArn: string, type: 'db' | 'cluster' | SnapshotKind): string | undefined {
  if (!idOrArn.startsWith('arn:')) return idOrArn.toLowerCase();
  const arn = parseRdsArn(idOrArn);
  if (!arn || arn.type !== type || arn.region !== region) return undefined;
  return arn.id.toLowerCase();
}
