/**
 * `create`: a manual snapshot of an RDS target, named after the execution so a re-run returns the
 * snapshot it already made, tagged with the contract tags and the source's settings, counted
 * against the manual snapshot quota first.
 */
import { CreateDBClusterSnapshotCommand, CreateDBSnapshotCommand, type RDSClient } from '@aws-sdk/client-rds';
import {
  caretakerTags,
  isFromExecution,
  isManaged,
  TAG,
  tagList,
  userTags,
  withinTagLimit,
} from '#common/caretaker-tags';
import { assessQuota, type QuotaUse, requireRoomFor } from '#common/rds/quota';
import {
  findDatabase,
  findSnapshot,
  listManualSnapshots,
  type SnapshotView,
  snapshotTags,
} from '#common/rds/rds-lookup';
import { snapshotIdentifier } from '#common/rds/rds-names';
import { SETTINGS_TAG, settingsToTags } from '#common/rds/rds-settings';
import type { RdsTarget } from '#common/rds/rds-targets';
import { isErrorNamed, NotFoundError, PreconditionFailedError } from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import { publishSnapshotCount, type SnapshotDeps } from './deps.ts';
import type { CreateEvent } from './input.ts';

/** What `create` returns. */
export interface SnapshotResult {
  readonly target: string;
  readonly type: 'instance' | 'cluster';
  readonly region: string;
  readonly snapshotIdentifier: string;
  readonly snapshotArn: string;
  readonly status: string;
  readonly percentProgress: number;
  /** False when this execution's snapshot already existed (a re-run). */
  readonly created: boolean;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  /** Manual snapshots of the kind in the region, including this one. */
  readonly quota: QuotaUse;
  readonly quotaWarning: boolean;
  /** Settings recorded in the snapshot's tags (false: restores fall back to AWS defaults). */
  readonly settingsRecorded: boolean;
  /** Settings whose values could not be written as tags. */
  readonly settingsUnrecorded: string[];
  /** Source tags left off because RDS allows 50 tags per snapshot. */
  readonly tagsDropped: string[];
  readonly notes: string[];
}

const SNAPSHOT_WHAT = { instance: 'DB snapshots', cluster: 'DB cluster snapshots' } as const;

/** Checks a snapshot found under this execution's identifier is this execution's own. */
export async function requireOwnSnapshot(
  rds: RDSClient,
  snapshot: SnapshotView,
  executionId: string,
): Promise<Record<string, string>> {
  const tags = await snapshotTags(rds, snapshot);
  if (!isManaged(tags) || !isFromExecution(tags, executionId)) {
    throw new PreconditionFailedError(
      `Snapshot ${snapshot.id} already exists but was not made by execution ${executionId} (tags ${TAG.managed}=${tags[TAG.managed] ?? '(none)'}, ${TAG.execution}=${tags[TAG.execution] ?? '(none)'}): refusing to treat it as this execution's`,
      { snapshotIdentifier: snapshot.id, tags },
    );
  }
  return tags;
}

async function sendCreate(
  rds: RDSClient,
  target: RdsTarget,
  id: string,
  tags: Record<string, string>,
): Promise<void> {
  if (target.type === 'cluster') {
    await rds.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterSnapshotIdentifier: id,
        DBClusterIdentifier: target.identifier,
        Tags: tagList(tags),
      }),
    );
  } else {
    await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: id,
        DBInstanceIdentifier: target.identifier,
        Tags: tagList(tags),
      }),
    );
  }
}

const ALREADY_EXISTS = [
  'DBSnapshotAlreadyExists',
  'DBSnapshotAlreadyExistsFault',
  'DBClusterSnapshotAlreadyExistsFault',
];

/** Creates (or finds) this execution's snapshot of the target. */
export async function createSnapshot(
  deps: SnapshotDeps,
  target: RdsTarget,
  event: CreateEvent,
): Promise<SnapshotResult> {
  const id = snapshotIdentifier(target.name, event.executionId, event.kind);
  const what = SNAPSHOT_WHAT[target.type];
  const base = { target: target.name, type: target.type, region: deps.region, snapshotIdentifier: id };

  const existing = await findSnapshot(deps.rds, target.type, id);
  if (existing) {
    const tags = await requireOwnSnapshot(deps.rds, existing, event.executionId);
    const used = (await listManualSnapshots(deps.rds, target.type)).length;
    publishSnapshotCount(deps.region, target.type, used);
    const assessed = assessQuota(what, deps.region, used, deps.quota.manualSnapshots, deps.quota.warnPercent);
    logger.info('Snapshot of this execution already exists', { snapshotId: id, status: existing.status });
    return {
      ...base,
      ...snapshotFields(existing),
      created: false,
      quota: assessed.quota,
      quotaWarning: assessed.warning,
      settingsRecorded: SETTINGS_TAG in tags,
      settingsUnrecorded: [],
      tagsDropped: [],
      notes: ['this execution had already created the snapshot: returned it', ...noteOf(assessed.note)],
    };
  }

  const source = await findDatabase(deps.rds, target.type, target.identifier);
  if (!source) {
    throw new NotFoundError(
      `RDS ${target.type} ${target.identifier} (target ${target.name}) does not exist`,
      {
        target: target.name,
        identifier: target.identifier,
      },
    );
  }
  const used = (await listManualSnapshots(deps.rds, target.type)).length;
  requireRoomFor(what, deps.region, used, deps.quota.manualSnapshots);

  const settings = settingsToTags(source.settings);
  const contract = caretakerTags({
    stack: deps.stack,
    executionId: event.executionId,
    kind: event.kind,
    target: target.name,
  });
  const { tags, dropped } = withinTagLimit({ ...settings.tags, ...contract }, userTags(source.tags));
  try {
    await sendCreate(deps.rds, target, id, tags);
  } catch (error) {
    // The call may have succeeded before a retry: then the snapshot is ours and creating.
    if (!isErrorNamed(error, ...ALREADY_EXISTS)) throw error;
    logger.info('Snapshot appeared while creating it: checking it is ours', { snapshotId: id });
  }
  const snapshot = await findSnapshot(deps.rds, target.type, id);
  if (!snapshot) throw new NotFoundError(`Snapshot ${id} vanished right after it was created`, { id });
  await requireOwnSnapshot(deps.rds, snapshot, event.executionId);

  publishSnapshotCount(deps.region, target.type, used + 1);
  const assessed = assessQuota(
    what,
    deps.region,
    used + 1,
    deps.quota.manualSnapshots,
    deps.quota.warnPercent,
  );
  const notes = [
    ...noteOf(assessed.note),
    ...(settings.unrecorded.length
      ? [`settings not recorded (characters RDS tags do not allow): ${settings.unrecorded.join(', ')}`]
      : []),
    ...(dropped.length ? [`source tags left off (50 tags per snapshot): ${dropped.join(', ')}`] : []),
  ];
  if (assessed.warning) logger.warn('Manual snapshots near the quota', { ...assessed.quota });
  logger.info('Snapshot started', { snapshotId: id, source: target.identifier, kind: event.kind });
  return {
    ...base,
    ...snapshotFields(snapshot),
    created: true,
    quota: assessed.quota,
    quotaWarning: assessed.warning,
    settingsRecorded: true,
    settingsUnrecorded: settings.unrecorded,
    tagsDropped: dropped,
    notes,
  };
}

function noteOf(note: string | undefined): string[] {
  return note ? [note] : [];
}

/** The result fields a snapshot's description gives. */
export function snapshotFields(snapshot: SnapshotView) {
  return {
    snapshotArn: snapshot.arn,
    status: snapshot.status,
    percentProgress: snapshot.status === 'available' ? 100 : snapshot.percentProgress,
    encrypted: snapshot.encrypted,
    ...(snapshot.kmsKeyId ? { kmsKeyId: snapshot.kmsKeyId } : {}),
  };
}
