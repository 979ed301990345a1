/**
 * The PostgreSQL process manager behind the sandbox's RDS: one real server per instance or
 * cluster, created from a template made by initdb once per sandbox, snapshotted online and
 * restored by copying data directories.
 *
 * Layout under the root directory:
 *   admin.secret       password of the internal `rdsadmin` superuser (owner-readable only)
 *   template/          the initdb result every new database is copied from
 *   servers/<id>/      data/ (PGDATA) and postgres.log of one server
 *   snapshots/<id>/    data/ of one snapshot: a base backup with its WAL and backup_label
 * template/, servers/ and snapshots/ move elsewhere for the run when the server user cannot reach
 * the root directory (see server-files.ts); {@link PostgresManager.filesRoot} says where they are.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, lchown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type BackupResult, baseBackup } from './base-backup.ts';
import { type PostgresBinaries, postgresBinaries } from './binaries.ts';
import { cachedBinaries } from './binary-cache.ts';
import { copyQuietTree } from './copy-tree.ts';
import {
  ensureExecutable,
  ensureReachable,
  ensureRunnable,
  type ServerIdentity,
  serverIdentity,
} from './identity.ts';
import { releasePort, reserveFreePort, reservePort } from './ports.ts';
import { logTail, PortInUseError, PostgresServer, SERVER_LOG } from './server.ts';
import { placeServerFiles, recallServerFiles, type ServerFilesPlace } from './server-files.ts';
import { stopStaleServers } from './stale.ts';
import { ADMIN_USER, buildTemplate, SPARE_DATABASE } from './template.ts';

/** What CreateDBInstance/CreateDBCluster set up inside a new database. */
export interface DatabaseSetup {
  readonly masterUsername: string;
  readonly masterPassword: string;
  /** A database created for, and owned by, the master user. */
  readonly dbName?: string;
}

/** Runs PostgreSQL servers for the sandbox; see the module comment for the layout. */
export class PostgresManager {
  readonly identity: ServerIdentity | undefined = serverIdentity();
  private readonly servers = new Set<PostgresServer>();
  private templateReady: Promise<void> | undefined;
  private versionText: Promise<string> | undefined;
  private adminSecret: Promise<string> | undefined;
  private usable: Promise<void> | undefined;
  private binaries: PostgresBinaries | undefined;
  private place: ServerFilesPlace | undefined;
  /** Why the server files have no place the servers can reach (RDS calls then fail saying so). */
  private unplaced: Error | undefined;
  private closed = false;

  /**
   * @param rootDir where templates, servers and snapshots live
   * @param ownedRoot the directory the sandbox owns (permissions may be adjusted up to here)
   */
  constructor(
    readonly rootDir: string,
    private readonly ownedRoot: string = rootDir,
  ) {}

  /** Where template/, servers/ and snapshots/ are for this run (known once open() has run). */
  get filesRoot(): string {
    return this.place?.root ?? this.rootDir;
  }

  get serversDir(): string {
    return join(this.filesRoot, 'servers');
  }

  get snapshotsDir(): string {
    return join(this.filesRoot, 'snapshots');
  }

  private get templateDir(): string {
    return join(this.filesRoot, 'template');
  }

  /**
   * Creates the layout, brings back server files an unclean stop left elsewhere, stops servers a
   * crashed previous run left behind (returning their pids), and decides where the server files
   * live for this run.
   */
  async open(): Promise<number[]> {
    await mkdir(this.rootDir, { recursive: true, mode: 0o711 });
    const stale: number[] = [];
    await recallServerFiles(this.rootDir, async (location) => {
      stale.push(...(await stopStaleServers(join(location, 'servers'))));
    });
    for (const name of ['servers', 'snapshots']) {
      await mkdir(join(this.rootDir, name), { recursive: true, mode: 0o711 });
    }
    stale.push(...(await stopStaleServers(join(this.rootDir, 'servers'))));
    try {
      this.place = await placeServerFiles(this.rootDir, this.ownedRoot, this.identity);
    } catch (error) {
      // The other services still run; RDS calls fail with this reason (see ensureUsable).
      this.unplaced = error as Error;
    }
    return stale;
  }

  /**
   * Checks, once, that servers can run here: the binaries are installed and, when they run as
   * another user, that user can run them (from this user's verified copy of them) and reach the
   * server files. Throws a message that says what to do.
   */
  ensureUsable(): Promise<void> {
    this.usable ??= (async () => {
      if (this.unplaced) throw this.unplaced;
      const binaries = this.identity ? await cachedBinaries(this.identity) : postgresBinaries();
      await ensureExecutable(binaries.postgres);
      await ensureExecutable(binaries.initdb);
      if (this.identity) {
        await ensureRunnable(binaries.postgres, this.identity);
        await ensureReachable(this.serversDir, this.ownedRoot, this.identity);
      }
      this.binaries = binaries;
    })().catch((error: unknown) => {
      this.usable = undefined;
      throw error;
    });
    return this.usable;
  }

  /** The server version, e.g. "18.4". */
  version(): Promise<string> {
    this.versionText ??= promisify(execFile)(postgresBinaries().postgres, ['--version']).then(
      ({ stdout }) => {
        const match = /(\d+(?:\.\d+)?)/.exec(stdout);
        if (!match?.[1]) throw new Error(`Unexpected postgres --version output: ${stdout}`);
        return match[1];
      },
    );
    return this.versionText;
  }

  /** A new, empty home directory for a server or a snapshot. */
  async newHome(kind: 'servers' | 'snapshots'): Promise<string> {
    const home = join(this.filesRoot, kind, randomUUID());
    await mkdir(home, { mode: 0o700 });
    if (this.identity) await lchown(home, this.identity.uid, this.identity.gid);
    return home;
  }

  /** Creates a database in a new home from the template, starts it and creates the master user. */
  async create(
    home: string,
    setup: DatabaseSetup,
    preferredPort?: number,
    onUnexpectedExit?: (detail: string) => void,
    avoid?: (port: number) => boolean,
  ): Promise<PostgresServer> {
    await this.ensureTemplate();
    await copyDataDirectory(this.templateDir, join(home, 'data'), this.identity);
    const server = await this.start(home, preferredPort, onUnexpectedExit, avoid);
    try {
      await this.bootstrap(server, setup);
    } catch (error) {
      await this.stop(server);
      throw error;
    }
    return server;
  }

  /**
   * Starts the server of an existing home, on `preferredPort` when it is free, else on any free
   * port that `avoid` does not rule out; the server's `port` says which.
   */
  async start(
    home: string,
    preferredPort?: number,
    onUnexpectedExit?: (detail: string) => void,
    avoid?: (port: number) => boolean,
  ): Promise<PostgresServer> {
    if (this.closed) throw new Error('The PostgreSQL manager is closed');
    await this.ensureUsable();
    for (let attempt = 0; ; attempt++) {
      const port =
        preferredPort !== undefined && attempt === 0 && (await reservePort(preferredPort))
          ? preferredPort
          : await reserveFreePort(avoid);
      try {
        const server = await PostgresServer.start({
          postgres: this.usableBinaries().postgres,
          dataDir: join(home, 'data'),
          port,
          logPath: join(home, SERVER_LOG),
          ...identityOption(this.identity),
          ...(onUnexpectedExit ? { onUnexpectedExit } : {}),
        });
        this.servers.add(server);
        if (this.closed) {
          await this.stop(server);
          throw new Error('The PostgreSQL manager is closed');
        }
        return server;
      } catch (error) {
        releasePort(port);
        if (!(error instanceof PortInUseError) || attempt >= 5) throw error;
      }
    }
  }

  /** Stops a server (fast shutdown) and frees its port. */
  async stop(server: PostgresServer): Promise<void> {
    await server.stop();
    this.servers.delete(server);
    releasePort(server.port);
  }

  /**
   * Takes an online base backup of a running server into `targetHome`/data, the way pg_basebackup
   * does: clients stay connected, and the copy plus the WAL written meanwhile (kept by a temporary
   * replication slot) recover on restore to the data as of the end of the backup.
   */
  async backup(server: PostgresServer, targetHome: string): Promise<BackupResult> {
    const client = await this.connectAdmin(server.port);
    try {
      return await baseBackup(client, server.dataDir, join(targetHome, 'data'), this.identity);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Copies a snapshot's data into a new server home (a real copy: the server will write to it). */
  async restore(snapshotHome: string, home: string): Promise<void> {
    await copyDataDirectory(join(snapshotHome, 'data'), join(home, 'data'), this.identity);
  }

  /** Deletes a home (its server must be stopped). */
  async remove(home: string): Promise<void> {
    await rm(home, { recursive: true, force: true });
  }

  /** Homes present on disk, to find leftovers no record refers to. */
  async listHomes(kind: 'servers' | 'snapshots'): Promise<string[]> {
    const names = await readdir(join(this.filesRoot, kind)).catch(() => []);
    return names.map((name) => join(this.filesRoot, kind, name));
  }

  /** Stops every server this manager started, and brings moved server files back. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.servers].map((server) => this.stop(server)));
    await this.place?.settle();
  }

  /** Opens a session as the internal superuser (for setup and backups). */
  async connectAdmin(port: number, database = 'postgres'): Promise<pg.Client> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: ADMIN_USER,
      password: await this.adminPassword(),
      database,
      connectionTimeoutMillis: 10_000,
    });
    client.on('error', () => {}); // a server stopping mid-session surfaces on the next query instead
    await client.connect();
    return client;
  }

  /**
   * Creates the master user and gives it its database: the template's spare database renamed
   * (instant, where CREATE DATABASE copies and WAL-logs a whole database), or dropped when no
   * DBName was asked for.
   */
  private async bootstrap(server: PostgresServer, setup: DatabaseSetup): Promise<void> {
    const client = await this.connectAdmin(server.port);
    try {
      const user = client.escapeIdentifier(setup.masterUsername);
      await client.query(
        `CREATE ROLE ${user} LOGIN CREATEDB CREATEROLE PASSWORD ${client.escapeLiteral(setup.masterPassword)} IN ROLE rds_superuser`,
      );
      if (setup.dbName && setup.dbName !== 'postgres') {
        const database = client.escapeIdentifier(setup.dbName);
        await client.query(`ALTER DATABASE ${SPARE_DATABASE} RENAME TO ${database}`);
        await client.query(`ALTER DATABASE ${database} OWNER TO ${user}`);
      } else {
        await client.query(`DROP DATABASE ${SPARE_DATABASE}`);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** The binaries servers run from; set by {@link ensureUsable}. */
  private usableBinaries(): PostgresBinaries {
    if (!this.binaries) throw new Error('PostgresManager: ensureUsable() has not run');
    return this.binaries;
  }

  private adminPassword(): Promise<string> {
    this.adminSecret ??= (async () => {
      const path = join(this.rootDir, 'admin.secret');
      try {
        return (await readFile(path, 'utf8')).trim();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      const secret = randomBytes(24).toString('hex');
      await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      return secret;
    })();
    return this.adminSecret;
  }

  /** initdb once per sandbox data directory; later runs reuse the finished template. */
  private ensureTemplate(): Promise<void> {
    this.templateReady ??= this.buildTemplate().catch((error: unknown) => {
      this.templateReady = undefined;
      throw error;
    });
    return this.templateReady;
  }

  private async buildTemplate(): Promise<void> {
    await this.ensureUsable();
    await buildTemplate(this.templateDir, {
      binaries: this.usableBinaries(),
      identity: this.identity,
      ownedRoot: this.ownedRoot,
      adminPassword: await this.adminPassword(),
      connectAdmin: (port) => this.connectAdmin(port),
    });
  }
}

/**
 * Copies a data directory for a new server. PostgreSQL refuses a data directory open to others,
 * and not every copy keeps the source's mode (Node 24's cpSync makes directories 0755), so the
 * mode is set here rather than trusted.
 */
async function copyDataDirectory(
  source: string,
  target: string,
  identity: ServerIdentity | undefined,
): Promise<void> {
  await copyQuietTree(source, target, identity);
  await chmod(target, 0o700);
}

function identityOption(identity: ServerIdentity | undefined): { identity?: ServerIdentity } {
  return identity ? { identity } : {};
}

export type { BackupResult };
export { ADMIN_USER, logTail, PostgresServer };
