/**
 * Recovery points: what Caretaker could restore from, per backup set or RDS target.
 *
 * Two sources, both per the shared data contracts:
 * - S3 backups in the backup bucket, `backups/<set>/<backupId>/…`, where `backupId` starts with
 *   its UTC creation time; which of them count, and which are verified, only their KMS seals say
 *   (functions/common/backup/trusted-backups.ts, verification-records.ts);
 * - RDS manual snapshots (instance or Aurora cluster) carrying the managed tag (`TAG.managed`), verified
 *   once `available` (AWS checks a snapshot's consistency when it completes).
 *
 * Shared by health-check (backup freshness), cleanup (retention) and report.
 */

import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { MANAGED_VALUE, TAG } from '../contract.ts';
import { logger } from '../runtime/observability.ts';

/** Tag keys of the shared data contract (contract.ts). */
export { TAG };

export type RecoveryPointKind = 'backup' | 'snapshot';

/** One point Caretaker could restore from. */
export interface RecoveryPoint {
  /** Backup set or RDS target name. */
  readonly target: string;
  readonly kind: RecoveryPointKind;
  /** The backupId, or the DB (cluster) snapshot identifier. */
  readonly id: string;
  /** When the data was captured (a copied snapshot keeps its original's time). */
  readonly createdAt: Date;
  /** A backup with a verification record; an `available` managed snapshot. */
  readonly verified: boolean;
  /** Created by Caretaker (it carries the managed tag, `TAG.managed`); backups in the backup bucket always are. */
  readonly managed: boolean;
  /** Newest verification record (backups) or `caretaker:drill-verified` (snapshots). */
  readonly verifiedAt?: Date;
  /** Snapshot status (`available`, `creating`, …); absent for backups. */
  readonly status?: string;
  /** Snapshot ARN; absent for backups. */
  readonly arn?: string;
  /** Tags (snapshots); `{}` for backups. */
  readonly tags: Readonly<Record<string, string>>;
}

const BACKUP_ID = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]{8}$/;
const COMPACT_ISO = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.?(\d{3}))?Z(?:\.json)?$/;

function compactToDate(match: RegExpExecArray): Date | undefined {
  const [, y, mo, d, h, mi, s, ms] = match.map(Number) as number[];
  const date = new Date(
    Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms === undefined || Number.isNaN(ms) ? 0 : ms),
  );
  // Reject impossible dates such as month 13 instead of letting Date roll them over.
  const exact =
    date.getUTCMonth() === mo! - 1 &&
    date.getUTCDate() === d! &&
    date.getUTCHours() === h! &&
    date.getUTCMinutes() === mi! &&
    date.getUTCSeconds() === s!;
  return exact ? date : undefined;
}

/** The creation time encoded in a backupId (`yyyyMMddTHHmmssZ-<8 hex>`), or undefined if it is not one. */
export function backupIdTime(backupId: string): Date | undefined {
  const match = BACKUP_ID.exec(backupId);
  return match ? compactToDate(match) : undefined;
}

/** The time in a verification record's key (`…/verifications/20260102T030405Z.json`), or undefined. */
export function verificationTime(key: string): Date | undefined {
  const match = COMPACT_ISO.exec(key.slice(key.lastIndexOf('/') + 1));
  return match ? compactToDate(match) : undefined;
}

/** The S3 prefix that holds a backup set's backups. */
export function backupSetPrefix(set: string): string {
  return `backups/${set}/`;
}

export interface BackupLocation {
  readonly bucket: string;
  readonly set: string;
}

/** The backupIds of a set, oldest first (ids sort by time), skipping (and logging) foreign folders. */
export async function listBackupIds(s3: S3Client, { bucket, set }: BackupLocation): Promise<string[]> {
  const prefix = backupSetPrefix(set);
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
    );
    for (const common of page.CommonPrefixes ?? []) {
      const id = common.Prefix?.slice(prefix.length, -1) ?? '';
      if (backupIdTime(id)) ids.push(id);
      else logger.warn('Ignoring a folder that is not a backupId', { bucket, prefix: common.Prefix });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return ids.sort();
}

export interface SnapshotSource {
  /** RDS target name (the `caretaker:target` tag). */
  readonly target: string;
  readonly type: 'instance' | 'cluster';
  /** DB instance or cluster identifier the snapshots were taken of. */
  readonly identifier: string;
  /** Also return manual snapshots without the managed tag, `TAG.managed` (marked `managed: false`). */
  readonly includeUnmanaged?: boolean;
}

interface RawSnapshot {
  readonly id: string;
  readonly arn: string | undefined;
  readonly status: string | undefined;
  readonly createdAt: Date | undefined;
  readonly tags: Tag[] | undefined;
}

async function describeSnapshots(rds: RDSClient, source: SnapshotSource): Promise<RawSnapshot[]> {
  const raw: RawSnapshot[] = [];
  let marker: string | undefined;
  do {
    if (source.type === 'cluster') {
      const page = await rds.send(
        new DescribeDBClusterSnapshotsCommand({
          DBClusterIdentifier: source.identifier,
          SnapshotType: 'manual',
          Marker: marker,
        }),
      );
      for (const s of page.DBClusterSnapshots ?? []) {
        raw.push({
          id: s.DBClusterSnapshotIdentifier ?? '',
          arn: s.DBClusterSnapshotArn,
          status: s.Status,
          createdAt: s.SnapshotCreateTime,
          tags: s.TagList,
        });
      }
      marker = page.Marker;
    } else {
      const page = await rds.send(
        new DescribeDBSnapshotsCommand({
          DBInstanceIdentifier: source.identifier,
          SnapshotType: 'manual',
          Marker: marker,
        }),
      );
      for (const s of page.DBSnapshots ?? []) {
        raw.push({
          id: s.DBSnapshotIdentifier ?? '',
          arn: s.DBSnapshotArn,
          status: s.Status,
          // A cross-region copy is created later than the data it holds; its original time is the RPO time.
          createdAt: s.OriginalSnapshotCreateTime ?? s.SnapshotCreateTime,
          tags: s.TagList,
        });
      }
      marker = page.Marker;
    }
  } while (marker);
  return raw;
}

function tagMap(tags: readonly Tag[]): Record<string, string> {
  return Object.fromEntries(tags.filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']));
}

/** Snapshot tags: from the describe response, or (when an endpoint omits TagList) ListTagsForResource. */
async function snapshotTags(rds: RDSClient, snapshot: RawSnapshot): Promise<Record<string, string>> {
  if (snapshot.tags) return tagMap(snapshot.tags);
  if (!snapshot.arn) return {};
  const listed = await rds.send(new ListTagsForResourceCommand({ ResourceName: snapshot.arn }));
  return tagMap(listed.TagList ?? []);
}

/**
 * The manual snapshots of an RDS target as recovery points, oldest first: only those carrying
 * the managed tag (`TAG.managed`) (unless `includeUnmanaged`), and not those tagged for another target.
 * A snapshot without a creation time is still being created and is not yet a recovery point.
 */
export async function listSnapshotRecoveryPoints(
  rds: RDSClient,
  source: SnapshotSource,
): Promise<RecoveryPoint[]> {
  const points: RecoveryPoint[] = [];
  for (const snapshot of await describeSnapshots(rds, source)) {
    if (!snapshot.createdAt || !snapshot.id) continue;
    const tags = await snapshotTags(rds, snapshot);
    const managed = tags[TAG.managed] === MANAGED_VALUE;
    if (!managed && !source.includeUnmanaged) continue;
    const taggedTarget = tags[TAG.target];
    if (taggedTarget !== undefined && taggedTarget !== source.target) continue;
    const drillTag = tags[TAG.drillVerified];
    const drillVerified = drillTag ? new Date(drillTag) : undefined;
    points.push({
      target: source.target,
      kind: 'snapshot',
      id: snapshot.id,
      createdAt: snapshot.createdAt,
      verified: managed && snapshot.status === 'available',
      managed,
      ...(drillVerified && !Number.isNaN(drillVerified.getTime()) ? { verifiedAt: drillVerified } : {}),
      ...(snapshot.status ? { status: snapshot.status } : {}),
      ...(snapshot.arn ? { arn: snapshot.arn } : {}),
      tags,
    });
  }
  return points.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/** The newest verified point of a list, or undefined when none is verified. */
export function newestVerified(points: readonly RecoveryPoint[]): RecoveryPoint | undefined {
  let newest: RecoveryPoint | undefined;
  for (const point of points) {
    if (point.verified && (!newest || point.createdAt > newest.createdAt)) newest = point;
  }
  return newest;
}
