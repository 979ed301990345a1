/**
 * The template every new database is copied from: initdb once per sandbox data directory, then
 * one run of the server to add what every instance needs.
 */
import { spawn } from 'node:child_process';
import { appendFile, lchown, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { PostgresBinaries } from './binaries.ts';
import { ensureReachable, type ServerIdentity } from './identity.ts';
import { releasePort, reserveFreePort } from './ports.ts';
import { PostgresServer } from './server.ts';
import { isSegment, segmentNumber, walFileName } from './wal.ts';

/** The internal superuser, named as on Amazon RDS; users never get its password. */
export const ADMIN_USER = 'rdsadmin';

/** A database made in the template that each new instance renames to its DBName. */
export const SPARE_DATABASE = 'caretaker_spare';

/** Settings every server runs with (appended to the template's postgresql.conf). */
const SERVER_SETTINGS = `
# Caretaker sandbox: loopback only, no Unix sockets (no shared directory to write to).
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
password_encryption = 'scram-sha-256'
# A rehearsal database, not a durable one: skip fsync (a crashed machine is not a concern here;
# a crashed or killed server still recovers from its WAL). Commits still hand their WAL to the
# kernel before they return (synchronous_commit on, nearly free without fsync): with it off, a
# server killed within the WAL writer's delay after a commit loses that commit.
fsync = off
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

export interface TemplateOptions {
  readonly binaries: PostgresBinaries;
  readonly identity: ServerIdentity | undefined;
  /** The directory the sandbox owns (permissions may be adjusted up to here). */
  readonly ownedRoot: string;
  readonly adminPassword: string;
  /** Opens a superuser session on a server listening on `port`. */
  readonly connectAdmin: (port: number) => Promise<pg.Client>;
}

/** Builds the template into `templateDir` unless a finished one is there already. */
export async function buildTemplate(templateDir: string, options: TemplateOptions): Promise<void> {
  const exists = await readFile(join(templateDir, 'PG_VERSION'), 'utf8').then(
    () => true,
    () => false,
  );
  if (exists) return;
  const { identity } = options;
  // Built aside and renamed into place, so a crash mid-way never leaves a half template.
  const building = `${templateDir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { mode: 0o700 });
  const pwfile = join(building, 'pwfile');
  await writeFile(pwfile, `${options.adminPassword}\n`, { mode: 0o600 });
  const data = join(building, 'data');
  await mkdir(data, { mode: 0o700 });
  if (identity) {
    for (const path of [building, pwfile, data]) await lchown(path, identity.uid, identity.gid);
  }
  await ensureReachable(building, options.ownedRoot, identity);
  await run(
    options.binaries.initdb,
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
    identity,
    join(building, 'initdb.log'),
  );
  await appendFile(join(data, 'postgresql.conf'), SERVER_SETTINGS);
  await writeFile(join(data, 'pg_hba.conf'), PG_HBA);
  await prepare(data, join(building, 'template.log'), options);
  await rm(templateDir, { recursive: true, force: true });
  await rename(data, templateDir);
  await rm(building, { recursive: true, force: true });
}

/**
 * Runs the new template once: the role every master user joins and the spare database each
 * instance renames to its DBName; then keeps only the WAL the shutdown checkpoint needs (initdb
 * leaves several preallocated segments that every instance would otherwise copy).
 */
async function prepare(data: string, logPath: string, options: TemplateOptions): Promise<void> {
  const port = await reserveFreePort();
  let server: PostgresServer;
  try {
    server = await PostgresServer.start({
      postgres: options.binaries.postgres,
      dataDir: data,
      port,
      logPath,
      ...(options.identity ? { identity: options.identity } : {}),
    });
  } finally {
    releasePort(port);
  }
  let current: string;
  let segmentBytes: number;
  try {
    const client = await options.connectAdmin(server.port);
    try {
      await client.query('CREATE ROLE rds_superuser NOLOGIN');
      await client.query('GRANT pg_monitor, pg_signal_backend, pg_checkpoint TO rds_superuser');
      // FILE_COPY: copied as files, not written a second time into the WAL every instance copies.
      await client.query(`CREATE DATABASE ${SPARE_DATABASE} STRATEGY FILE_COPY`);
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
    if (isSegment(name) && !keep.has(name)) await rm(join(data, 'pg_wal', name));
  }
  await rm(join(data, 'postmaster.opts'), { force: true });
}

/** Runs a PostgreSQL tool as the server identity; fails with its output on a non-zero exit. */
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
