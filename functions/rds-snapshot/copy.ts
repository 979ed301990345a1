/**
 * `copy`: this execution's snapshot copied into the target's DR region under the DR key.
 *
 * The copy is requested from the DR region (RDS copies into the caller's region) with the source
 * named by its ARN, always with the configured DR key: a snapshot under the AWS-managed `aws/rds`
 * key cannot be copied across regions without naming a key there, and an unencrypted instance
 * snapshot becomes encrypted this way. Before copying, the DR region's manual snapshot quota and
 * its copies in progress are counted: at the configured maximum the result says `waiting`, so the
 * flow waits (with its growing intervals and attempt cap) and asks again.
 */
import { CopyDBClusterSnapshotCommand, CopyDBSnapshotCommand, type RDSClient } from '@aws-sdk/client-rds';
import { isCaretakerKey, TAG, tagList, userTags, withinTagLimit } from '#common/caretaker-tags';
import { assessQuota, type QuotaUse, requireRoomFor } from '#common/rds/quota';
import {
  findSnapshot,
  isSettledSnapshotStatus,
  listManualSnapshots,
  type SnapshotView,
} from '#common/rds/rds-lookup';
import type { RdsTarget } from '#common/rds/rds-targets';
import {
  isErrorNamed,
  NotFoundError,
  PreconditionFailedError,
  ResourceBusyError,
} from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import { requireOwnSnapshot, snapshotFields } from './create.ts';
import { publishSnapshotCount, type SnapshotDeps } from './deps.ts';
import type { CopyEvent } from './input.ts';

export interface CopyResult {
  readonly target: string;
  readonly type: 'instance' | 'cluster';
  readonly snapshotIdentifier: string;
  readonly sourceRegion: string;
  readonly copy: {
    /** `waiting` (no copy slot yet: ask again later), else the copy's RDS status. */
    readonly status: string;
    readonly region: string;
    readonly snapshotIdentifier: string;
    /** False when this execution's copy already existed (a re-run). */
    readonly created: boolean;
    readonly snapshotArn?: string;
    readonly percentProgress?: number;
    readonly encrypted?: boolean;
    readonly kmsKeyId?: string;
    /** Cross-region copies in progress into the region, and the configured maximum. */
    readonly inProgress: number;
    readonly maxConcurrent: number;
  };
  /** Manual snapshots of the kind in the DR region. */
  readonly quota?: QuotaUse;
  readonly quotaWarning: boolean;
  readonly notes: string[];
}

/** How the copy is encrypted, and what to tell the operator about it. Pure. */
export function copyEncryption(
  source: Pick<SnapshotView, 'type' | 'encrypted' | 'kmsKeyId'>,
  drKeyArn: string,
  sourceKeyManager: string | undefined,
): { kmsKeyId?: string; notes: string[] } {
  if (!source.encrypted) {
    if (source.type === 'cluster') {
      return {
        notes: [
          'the source cluster snapshot is unencrypted and AWS cannot encrypt a cluster snapshot while copying it: the DR copy is unencrypted too (encrypt the cluster to fix this)',
        ],
      };
    }
    return {
      kmsKeyId: drKeyArn,
      notes: [`the source snapshot is unencrypted: the DR copy is encrypted under ${drKeyArn}`],
    };
  }
  const awsManaged = sourceKeyManager === 'AWS' || /alias\/aws\/rds$/.test(source.kmsKeyId ?? '');
  return {
    kmsKeyId: drKeyArn,
    notes: awsManaged
      ? [
          `the source snapshot is encrypted with the AWS-managed key aws/rds, which cannot be used in another region: the DR copy is re-encrypted under ${drKeyArn}`,
        ]
      : [],
  };
}

async function sendCopy(
  dr: RDSClient,
  source: SnapshotView,
  id: string,
  kmsKeyId: string | undefined,
  tags: Record<string, string>,
): Promise<void> {
  const common = { KmsKeyId: kmsKeyId, Tags: tagList(tags) };
  if (source.type === 'cluster') {
    await dr.send(
      new CopyDBClusterSnapshotCommand({
        SourceDBClusterSnapshotIdentifier: source.arn,
        TargetDBClusterSnapshotIdentifier: id,
        ...common,
      }),
    );
  } else {
    await dr.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: source.arn,
        TargetDBSnapshotIdentifier: id,
        ...common,
      }),
    );
  }
}

const ALREADY_EXISTS = [
  'DBSnapshotAlreadyExists',
  'DBSnapshotAlreadyExistsFault',
  'DBClusterSnapshotAlreadyExistsFault',
];
const WHAT = { instance: 'DB snapshots', cluster: 'DB cluster snapshots' } as const;

/** Starts (or finds) this execution's DR copy of a snapshot, or says to wait for a copy slot. */
export async function copySnapshot(
  deps: SnapshotDeps,
  target: RdsTarget,
  event: CopyEvent,
): Promise<CopyResult> {
  const dr = target.crossRegionCopy;
  if (!dr) {
    throw new PreconditionFailedError(`RDS target ${target.name} has no crossRegionCopy configured`, {
      target: target.name,
    });
  }
  const drRds = deps.rdsIn(dr.region);
  const id = event.snapshotIdentifier;
  const base = { target: target.name, type: target.type, snapshotIdentifier: id, sourceRegion: deps.region };
  const limits = { maxConcurrent: deps.quota.maxConcurrentCopies };

  const existing = await findSnapshot(drRds, target.type, id);
  if (existing) {
    await requireOwnSnapshot(drRds, existing, event.executionId);
    return {
      ...base,
      copy: {
        ...snapshotFields(existing),
        region: dr.region,
        snapshotIdentifier: id,
        created: false,
        inProgress: 0,
        ...limits,
      },
      quotaWarning: false,
      notes: ['this execution had already started the copy: returned it'],
    };
  }

  const source = await findSnapshot(deps.rds, target.type, id);
  if (!source) throw new NotFoundError(`Snapshot ${id} does not exist in ${deps.region}`, { id });
  const sourceTags = await requireOwnSnapshot(deps.rds, source, event.executionId);
  if (source.status !== 'available') {
    throw new ResourceBusyError(`Snapshot ${id} is ${source.status}: it can be copied once available`, {
      id,
      status: source.status,
    });
  }

  const inRegion = await listManualSnapshots(drRds, target.type);
  const inProgress = inRegion.filter((s) => s.sourceRegion && !isSettledSnapshotStatus(s.status)).length;
  requireRoomFor(WHAT[target.type], dr.region, inRegion.length, deps.quota.manualSnapshots);
  publishSnapshotCount(dr.region, target.type, inRegion.length);
  if (inProgress >= deps.quota.maxConcurrentCopies) {
    logger.info('No copy slot in the DR region: waiting', { region: dr.region, inProgress, ...limits });
    return {
      ...base,
      copy: {
        status: 'waiting',
        region: dr.region,
        snapshotIdentifier: id,
        created: false,
        inProgress,
        ...limits,
      },
      quotaWarning: false,
      notes: [
        `${inProgress} cross-region copies are in progress into ${dr.region} (maximum ${deps.quota.maxConcurrentCopies}): waiting for one to finish`,
      ],
    };
  }

  const manager = source.kmsKeyId ? await deps.keyManager(source.kmsKeyId) : undefined;
  const encryption = copyEncryption(source, dr.kmsKeyArn, manager);
  const own = Object.fromEntries(Object.entries(sourceTags).filter(([key]) => isCaretakerKey(key)));
  const { tags } = withinTagLimit({ ...own, [TAG.copiedFrom]: deps.region }, userTags(sourceTags));
  try {
    await sendCopy(drRds, source, id, encryption.kmsKeyId, tags);
  } catch (error) {
    if (!isErrorNamed(error, ...ALREADY_EXISTS)) throw error;
    logger.info('Copy appeared while starting it: checking it is ours', { snapshotId: id });
  }
  const copy = await findSnapshot(drRds, target.type, id);
  if (!copy)
    throw new NotFoundError(`Copy ${id} vanished in ${dr.region} right after it was started`, { id });
  await requireOwnSnapshot(drRds, copy, event.executionId);
  const assessed = assessQuota(
    WHAT[target.type],
    dr.region,
    inRegion.length + 1,
    deps.quota.manualSnapshots,
    deps.quota.warnPercent,
  );
  logger.info('Cross-region copy started', { snapshotId: id, region: dr.region, encrypted: copy.encrypted });
  return {
    ...base,
    copy: {
      ...snapshotFields(copy),
      region: dr.region,
      snapshotIdentifier: id,
      created: true,
      inProgress: inProgress + 1,
      ...limits,
    },
    quota: assessed.quota,
    quotaWarning: assessed.warning,
    notes: [...encryption.notes, ...(assessed.note ? [assessed.note] : [])],
  };
}
