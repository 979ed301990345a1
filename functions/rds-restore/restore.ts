/**
 * `restore`: a new DB instance (RestoreDBInstanceFromDBSnapshot) or Aurora cluster
 * (RestoreDBClusterFromSnapshot, then CreateDBInstance for its writer) from a snapshot, carrying
 * the settings recorded with the snapshot (docs/rds-snapshots.md) so it does not fall back to
 * AWS's defaults. Idempotent per execution: a re-run finds what it restored and continues (a
 * cluster without its writer gets it); anything of that name not made by this execution is refused.
 */
import {
  CreateDBInstanceCommand,
  type RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import {
  caretakerTags,
  isFromExecution,
  isManaged,
  TAG,
  tagList,
  userTags,
  withinTagLimit,
} from '#common/caretaker-tags';
import {
  type DatabaseView,
  findDatabase,
  findInstance,
  findSnapshot,
  snapshotTags,
} from '#common/rds/rds-lookup';
import { restoredIdentifier, writerIdentifier } from '#common/rds/rds-names';
import {
  clusterRestorePlan,
  type DatabaseSettings,
  instanceRestorePlan,
  settingsFromTags,
  writerInstancePlan,
} from '#common/rds/rds-settings';
import type { RdsTarget } from '#common/rds/rds-targets';
import {
  isErrorNamed,
  NotFoundError,
  PreconditionFailedError,
  ResourceBusyError,
} from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import { type RestoreDeps, regional } from './deps.ts';
import type { RestoreAction } from './input.ts';

export interface RestoreResult {
  readonly target: string;
  readonly type: 'instance' | 'cluster';
  readonly region: string;
  readonly identifier: string;
  readonly snapshotIdentifier: string;
  /** Clusters: the writer instance. */
  readonly writerIdentifier?: string;
  readonly status: string;
  /** False when this execution had already restored it (a re-run). */
  readonly created: boolean;
  /** Where the settings came from: the snapshot's tags, the live source (older snapshots), or nowhere. */
  readonly settingsSource: 'snapshot' | 'live-source' | 'none';
  readonly carried: string[];
  readonly defaulted: string[];
  readonly notes: string[];
}

const ALREADY_EXISTS = [
  'DBInstanceAlreadyExists',
  'DBInstanceAlreadyExistsFault',
  'DBClusterAlreadyExistsFault',
];

/** Refuses a resource of the restore's name that this execution did not restore. */
export function requireRestoredBy(
  view: Pick<DatabaseView, 'type' | 'identifier' | 'tags'>,
  executionId: string,
): void {
  if (!isManaged(view.tags) || !isFromExecution(view.tags, executionId) || !view.tags[TAG.restoredFrom]) {
    throw new PreconditionFailedError(
      `${view.type === 'cluster' ? 'DB cluster' : 'DB instance'} ${view.identifier} exists but was not restored by execution ${executionId}: refusing to touch it`,
      { identifier: view.identifier, tags: view.tags },
    );
  }
}

interface SettingsFound {
  readonly settings: DatabaseSettings | undefined;
  readonly source: RestoreResult['settingsSource'];
  readonly notes: string[];
}

/** The recorded settings, or (for a snapshot taken without them) the live source's. */
async function settingsFor(
  rds: RDSClient,
  target: RdsTarget,
  tags: Record<string, string>,
): Promise<SettingsFound> {
  const recorded = settingsFromTags(tags);
  if (recorded) return { settings: recorded, source: 'snapshot', notes: [] };
  const live = await findDatabase(rds, target.type, target.identifier);
  if (live) {
    return {
      settings: live.settings,
      source: 'live-source',
      notes: [`the snapshot carries no recorded settings: took ${target.identifier}'s current settings`],
    };
  }
  return { settings: undefined, source: 'none', notes: [] };
}

/** Restores (or continues restoring) the target's snapshot into a new instance or cluster. */
export async function restoreDatabase(
  deps: RestoreDeps,
  target: RdsTarget,
  event: RestoreAction,
): Promise<RestoreResult> {
  const { rds, region } = regional(deps, event.region);
  const id = event.identifier ?? restoredIdentifier(target.identifier, event.executionId);
  if (id.toLowerCase() === target.identifier.toLowerCase()) {
    throw new PreconditionFailedError(
      `Refusing to restore into ${id}: that is the original's identifier (a switch-over moves the restored copy there)`,
      { identifier: id },
    );
  }
  const snapshot = await findSnapshot(rds, target.type, event.snapshotIdentifier);
  if (!snapshot) {
    throw new NotFoundError(`Snapshot ${event.snapshotIdentifier} does not exist in ${region}`, {
      snapshotIdentifier: event.snapshotIdentifier,
      region,
    });
  }
  const base = {
    target: target.name,
    type: target.type,
    region,
    identifier: id,
    snapshotIdentifier: snapshot.id,
    ...(target.type === 'cluster' ? { writerIdentifier: writerIdentifier(id) } : {}),
  };

  const existing = await findDatabase(rds, target.type, id);
  if (existing) requireRestoredBy(existing, event.executionId);
  if (!existing && snapshot.status !== 'available') {
    throw new ResourceBusyError(
      `Snapshot ${snapshot.id} is ${snapshot.status}: it can be restored once available`,
      {
        snapshotIdentifier: snapshot.id,
        status: snapshot.status,
      },
    );
  }

  const tags = await snapshotTags(rds, snapshot);
  const found = await settingsFor(rds, target, tags);
  const copiedFrom = tags[TAG.copiedFrom];
  const context = { sameRegion: copiedFrom === undefined || copiedFrom === region };
  const plan =
    target.type === 'cluster'
      ? clusterRestorePlan(found.settings, event.overrides, context)
      : instanceRestorePlan(found.settings, event.overrides, context);
  const contract = caretakerTags({
    stack: deps.stack,
    executionId: event.executionId,
    kind: event.kind,
    target: target.name,
  });
  const own = {
    ...contract,
    [TAG.restoredFrom]: snapshot.id,
    ...(plan.protectOnPromote ? { [TAG.protectOnPromote]: 'true' } : {}),
  };
  const { tags: restoredTags, dropped } = withinTagLimit(own, userTags(tags));
  const notes = [
    ...found.notes,
    ...plan.notes,
    ...(dropped.length ? [`source tags left off (50 tags per resource): ${dropped.join(', ')}`] : []),
  ];

  let created = false;
  if (!existing) {
    created = await sendRestore(rds, target, event, id, plan.input, restoredTags, snapshot.engine);
  }
  if (target.type === 'cluster') {
    const writer = writerInstancePlan(found.settings, event.overrides, context);
    notes.push(...writer.notes);
    await ensureWriter(rds, id, snapshot.engine ?? found.settings?.engine, writer.input, restoredTags);
  }
  const restored = await findDatabase(rds, target.type, id);
  if (!restored) throw new NotFoundError(`${id} vanished right after it was restored`, { identifier: id });
  logger.info(created ? 'Restore started' : 'Restore already under way', {
    identifier: id,
    snapshotId: snapshot.id,
    region,
    settingsSource: found.source,
  });
  return {
    ...base,
    status: restored.status,
    created,
    settingsSource: found.source,
    carried: plan.carried,
    defaulted: plan.defaulted,
    notes: created ? notes : ['this execution had already started the restore: continued it', ...notes],
  };
}

/** Sends the restore call; false when it turns out this execution's restore already exists. */
async function sendRestore(
  rds: RDSClient,
  target: RdsTarget,
  event: RestoreAction,
  id: string,
  input: Record<string, unknown>,
  tags: Record<string, string>,
  engine: string | undefined,
): Promise<boolean> {
  try {
    if (target.type === 'cluster') {
      await rds.send(
        new RestoreDBClusterFromSnapshotCommand({
          ...input,
          DBClusterIdentifier: id,
          SnapshotIdentifier: event.snapshotIdentifier,
          Engine: engine ?? 'aurora-postgresql',
          Tags: tagList(tags),
        }),
      );
    } else {
      await rds.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          ...input,
          DBInstanceIdentifier: id,
          DBSnapshotIdentifier: event.snapshotIdentifier,
          Tags: tagList(tags),
        }),
      );
    }
    return true;
  } catch (error) {
    // A retried call whose first attempt went through: it must be this execution's.
    if (!isErrorNamed(error, ...ALREADY_EXISTS)) throw error;
    const found = await findDatabase(rds, target.type, id);
    if (!found) throw error;
    requireRestoredBy(found, event.executionId);
    return false;
  }
}

/** Creates the restored cluster's writer instance unless it exists (and is ours). */
async function ensureWriter(
  rds: RDSClient,
  clusterId: string,
  engine: string | undefined,
  input: Record<string, unknown>,
  tags: Record<string, string>,
): Promise<void> {
  const writerId = writerIdentifier(clusterId);
  const existing = await findInstance(rds, writerId);
  if (existing) return;
  if (typeof input.DBInstanceClass !== 'string') {
    throw new PreconditionFailedError(
      `No instance class is known for ${clusterId}'s writer: give overrides.instanceClass`,
      { identifier: clusterId },
    );
  }
  try {
    await rds.send(
      new CreateDBInstanceCommand({
        ...input,
        DBInstanceIdentifier: writerId,
        DBInstanceClass: input.DBInstanceClass,
        DBClusterIdentifier: clusterId,
        Engine: engine ?? 'aurora-postgresql',
        Tags: tagList(tags),
      }),
    );
  } catch (error) {
    if (!isErrorNamed(error, ...ALREADY_EXISTS)) throw error;
  }
}
