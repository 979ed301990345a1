/**
 * Online base backups, taken the way pg_basebackup takes them: clients stay connected, and the
 * copied files plus the WAL written meanwhile (kept by a temporary replication slot) recover on
 * restore to the data as of the end of the backup.
 */
import { lchown, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { copyOneFile, copyTree } from './copy-tree.ts';
import type { ServerIdentity } from './identity.ts';
import { isSegment, segmentNumber } from './wal.ts';

/** The outcome of an online base backup. */
export interface BackupResult {
  readonly files: number;
  readonly bytes: number;
  /** The WAL position the backup is consistent at: the data as of this moment. */
  readonly stopLsn: string;
  readonly durationMs: number;
}

let backups = 0;

/**
 * Copies the running server whose data directory is `dataDir` into `target`, through `client`, a
 * superuser session on it (the backup starts and stops in that session).
 */
export async function baseBackup(
  client: pg.Client,
  dataDir: string,
  target: string,
  identity: ServerIdentity | undefined,
): Promise<BackupResult> {
  const started = performance.now();
  const slot = `caretaker_backup_${process.pid}_${++backups}`;
  await client.query('SELECT pg_create_physical_replication_slot($1, true, true)', [slot]);
  await client.query('SELECT pg_backup_start($1, true)', [`caretaker ${new Date().toISOString()}`]);
  let copied: { files: number; bytes: number };
  try {
    copied = await copyTree(dataDir, target, {
      ...(identity ? { identity } : {}),
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
  await writeOwned(join(target, 'backup_label'), stop.labelfile, identity);
  if (stop.spcmapfile) await writeOwned(join(target, 'tablespace_map'), stop.spcmapfile, identity);
  const startFile = /\(file ([0-9A-F]{24})\)/.exec(stop.labelfile)?.[1];
  if (!startFile) throw new Error(`Unexpected backup label:\n${stop.labelfile}`);
  const wal = await copyWal(dataDir, target, startFile, stop.stopfile, Number(stop.segsize), identity);
  return {
    files: copied.files + wal.files,
    bytes: copied.bytes + wal.bytes,
    stopLsn: stop.lsn,
    durationMs: performance.now() - started,
  };
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

/** Copies the WAL segments from the backup's start to its stop (and timeline histories). */
async function copyWal(
  source: string,
  target: string,
  startFile: string,
  stopFile: string,
  segmentBytes: number,
  identity: ServerIdentity | undefined,
): Promise<{ files: number; bytes: number }> {
  const from = join(source, 'pg_wal');
  const to = join(target, 'pg_wal');
  const names = (await readdir(from)).filter(
    (name) => (isSegment(name) && name >= startFile && name <= stopFile) || name.endsWith('.history'),
  );
  const segments = names.filter(isSegment).sort();
  const expected = segmentNumber(stopFile, segmentBytes) - segmentNumber(startFile, segmentBytes) + 1;
  if (segments.length !== expected || segments[0] !== startFile) {
    throw new Error(
      `WAL needed by the backup is missing: ${startFile}..${stopFile}, found ${segments.length}`,
    );
  }
  const sizes = await Promise.all(
    names.map((name) => copyOneFile(join(from, name), join(to, name), identity)),
  );
  return { files: names.length, bytes: sizes.reduce((sum, size) => sum + size, 0) };
}

async function writeOwned(path: string, text: string, identity: ServerIdentity | undefined): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  if (identity) await lchown(path, identity.uid, identity.gid);
}
