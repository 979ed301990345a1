/**
 * The moving parts behind the RDS records: one PostgreSQL server per instance or cluster, online
 * backups into snapshot homes, and the background work that moves statuses through their real
 * values over the configured delay (so callers' polling loops run as they would against AWS).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxContext } from '../../core/server.ts';
import { AwsError, type SandboxService } from '../../core/types.ts';
import type { PostgresManager, PostgresServer } from '../../postgres/manager.ts';
import { kmsKeyNotAccessible } from './errors.ts';
import type { ClusterRecord, InstanceRecord, SnapshotRecord } from './model.ts';
import type { RdsStore } from './store.ts';

/** `settings.rds` of the sandbox options. */
export interface RdsSettings {
  /** How long each status (creating, backing-up, modifying, …) lasts at least. @default 2000 */
  readonly statusDelayMs: number;
  /** Manual snapshots per region, for instances and for clusters each. @default 100 */
  readonly snapshotQuota: number;
}

export function readSettings(raw: unknown): RdsSettings {
  const settings = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const number = (name: string, fallback: number): number => {
    const value = settings[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`settings.rds.${name} must be a non-negative number`);
    }
    return value;
  };
  return { statusDelayMs: number('statusDelayMs', 2000), snapshotQuota: number('snapshotQuota', 100) };
}

/** The slice of the KMS service RDS uses (see sandbox/services/kms). */
interface KmsLookup extends SandboxService {
  describeKey(region: string, keyIdOrArnOrAlias: string): { Arn: string; KeyState: string } | undefined;
}

export type ServerRecord = InstanceRecord | ClusterRecord;

/** Thrown into background work when the sandbox stops. */
class Stopped extends Error {
  constructor() {
    super('The sandbox is stopping');
    this.name = 'Stopped';
  }
}

export class RdsRuntime {
  /** Running servers by record key. */
  private readonly servers = new Map<string, PostgresServer>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    readonly store: RdsStore,
    readonly manager: PostgresManager,
    readonly settings: RdsSettings,
    private readonly context: SandboxContext,
  ) {}

  get closed(): boolean {
    return this.stopping.signal.aborted;
  }

  /**
   * Runs `work` after earlier work on the same record has finished. A failure marks the record
   * with `onFailure` and is logged; stopping the sandbox ends the work quietly.
   */
  background(key: string, work: () => Promise<void>, onFailure: (error: unknown) => void): void {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (this.closed) return;
      try {
        await work();
      } catch (error) {
        if (error instanceof Stopped || this.closed) return;
        console.error(`[sandbox rds] background work failed for ${key}:`, error);
        onFailure(error);
        this.store.save();
      }
    });
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /**
   * Fails the request (500, with the reason) when PostgreSQL cannot run on this machine or data
   * directory, before any record is made.
   */
  async requireServers(): Promise<void> {
    try {
      await this.manager.ensureUsable();
    } catch (error) {
      throw new AwsError('InternalFailure', (error as Error).message, 500);
    }
  }

  /** Waits one status delay (or `ms`); rejects when the sandbox stops. */
  async delay(ms = this.settings.statusDelayMs): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.stopping.signal });
    } catch {
      throw new Stopped();
    }
  }

  /** Waits until at least one status delay has passed since `since`. */
  async delaySince(since: number): Promise<void> {
    const left = since + this.settings.statusDelayMs - Date.now();
    if (left > 0) await this.delay(left);
    else if (this.closed) throw new Stopped();
  }

  /** Animates a snapshot's PercentProgress over one delay, then marks it available. */
  async completeSnapshot(snapshot: SnapshotRecord): Promise<void> {
    const steps = 4;
    for (let step = 1; step < steps; step++) {
      await this.delay(this.settings.statusDelayMs / steps);
      snapshot.progress = Math.round((step * 100) / steps);
    }
    await this.delay(this.settings.statusDelayMs / steps);
    snapshot.status = 'available';
    snapshot.progress = 100;
    this.store.save();
  }

  /** The server holding a record's data: the cluster's for an Aurora member. */
  server(record: ServerRecord): PostgresServer | undefined {
    if (record.kind === 'db' && record.clusterKey) {
      const cluster = this.store.cluster(record.clusterKey);
      return cluster && this.servers.get(cluster.key);
    }
    return this.servers.get(record.key);
  }

  /** The port a record's endpoint answers on, once its server is up. */
  endpointPort(record: ServerRecord): number | undefined {
    const server = this.server(record);
    return server?.running ? server.port : undefined;
  }

  /** Starts (or restarts) a record's server on the port its identifier owns. */
  async startServer(record: ServerRecord, create?: () => Promise<PostgresServer>): Promise<PostgresServer> {
    if (!record.home) throw new Error(`${record.id} has no data directory`);
    const preferred = this.store.portOf(record.region, record.kind, record.id);
    const server = create
      ? await create()
      : await this.manager.start(
          record.home,
          preferred,
          (detail) => this.crashed(record, detail),
          this.avoidPorts(record),
        );
    if (this.closed) {
      await this.manager.stop(server);
      throw new Stopped();
    }
    this.servers.set(record.key, server);
    record.port = server.port;
    this.store.bindPort(record.region, record.kind, record.id, server.port);
    return server;
  }

  /** The preferred port for a new server of `record` (its identifier's port, if it had one). */
  preferredPort(record: ServerRecord): number | undefined {
    return this.store.portOf(record.region, record.kind, record.id);
  }

  /** Ports another identifier's endpoint owns, which a new server must not take. */
  avoidPorts(record: ServerRecord): (port: number) => boolean {
    return (port) => this.store.portBookedByOther(record.region, record.kind, record.id, port);
  }

  /** Reports a server that exited on its own. */
  crashed(record: ServerRecord, detail: string): void {
    if (this.closed) return;
    console.error(`[sandbox rds] ${record.id}: ${detail}; see ${record.home}/postgres.log`);
    if (this.servers.get(record.key)?.running === false) {
      this.servers.delete(record.key);
      record.status = 'failed';
      this.store.save();
    }
  }

  async stopServer(record: ServerRecord): Promise<void> {
    const server = this.servers.get(record.key);
    if (!server) return;
    this.servers.delete(record.key);
    await this.manager.stop(server);
  }

  /** Takes an online backup of a record's server into a new snapshot home. */
  async backup(record: ServerRecord, snapshot: SnapshotRecord): Promise<void> {
    const server = this.server(record);
    if (!server?.running) throw new Error(`${record.id} has no running server to snapshot`);
    const home = await this.manager.newHome('snapshots');
    try {
      const result = await this.manager.backup(server, home);
      snapshot.home = home;
      snapshot.sizeBytes = result.bytes;
      snapshot.dataTime = Date.now();
    } catch (error) {
      await this.manager.remove(home);
      throw error;
    }
  }

  /**
   * Removes the files of a snapshot whose record is gone, unless a copy still shares them
   * (snapshot data is immutable, so copies share one home).
   */
  async dropSnapshotData(snapshot: SnapshotRecord): Promise<void> {
    if (!snapshot.home) return;
    for (const other of this.store.snapshots.values()) if (other.home === snapshot.home) return;
    await this.manager.remove(snapshot.home);
  }

  /** The ARN of a usable KMS key in `region`, or KMSKeyNotAccessibleFault. */
  kmsKeyArn(region: string, keyId: string): string {
    const kms = this.context.service<KmsLookup>('kms');
    const key = typeof kms?.describeKey === 'function' ? kms.describeKey(region, keyId) : undefined;
    if (key?.KeyState !== 'Enabled') throw kmsKeyNotAccessible(keyId);
    return key.Arn;
  }

  /** Stops background work and every server, and saves the state. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.chains.values()]);
    try {
      await this.manager.close();
    } finally {
      // Saved even when the server files could not be brought back: the next start does that.
      this.servers.clear();
      this.store.save();
    }
  }
}
