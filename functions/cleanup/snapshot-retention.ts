/**
 * Retention over an RDS target's manual snapshots in one region (the stack's, or the DR region
 * holding its copies). The planner decides over every manual snapshot of the source (unmanaged
 * ones are kept and counted for nothing); a managed snapshot in `failed` state is no recovery
 * point and goes. Right before each DeleteDB(Cluster)Snapshot the snapshot is described again and
 * its tags checked: only a snapshot carrying the managed tag (`TAG.managed`) and this target is ever deleted.
 */
import { DeleteDBClusterSnapshotCommand, DeleteDBSnapshotCommand, type RDSClient } from '@aws-sdk/client-rds';
import { isManaged, TAG } from '#common/caretaker-tags';
import { findSnapshot, snapshotTags } from '#common/rds/rds-lookup';
import type { RdsTarget } from '#common/rds/rds-targets';
import { listSnapshotRecoveryPoints } from '#common/retention/recovery-points';
import { planRetention, type RetentionDecision } from '#common/retention/retention';
import type { RetentionPolicy } from '#common/retention/retention-policy';
import { isErrorNamed } from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import { type Deletion, recordDecisions, settle, type TargetReport, targetReport } from './report.ts';

export interface RunOptions {
  readonly dryRun: boolean;
  readonly now: Date;
  /** Start no deletion after this time (epoch ms). */
  readonly deadline: number;
}

const FAILED_REASON = 'failed snapshot: not a recovery point';
const GONE = ['DBSnapshotNotFound', 'DBSnapshotNotFoundFault', 'DBClusterSnapshotNotFoundFault'];
const BUSY = ['InvalidDBSnapshotState', 'InvalidDBSnapshotStateFault', 'InvalidDBClusterSnapshotStateFault'];

/** Describes the snapshot again and deletes it only if it still is a managed snapshot of this target. */
async function deleteOne(rds: RDSClient, target: RdsTarget, decision: RetentionDecision): Promise<Deletion> {
  const base = { id: decision.id, reasons: decision.reasons };
  const snapshot = await findSnapshot(rds, target.type, decision.id);
  if (!snapshot) return { ...base, outcome: 'already-gone' };
  const tags = await snapshotTags(rds, snapshot);
  if (!isManaged(tags)) return { ...base, outcome: 'skipped', detail: `${TAG.managed} is no longer true` };
  const owner = tags[TAG.target];
  if (owner !== undefined && owner !== target.name) {
    return { ...base, outcome: 'skipped', detail: `now tagged for target ${owner}` };
  }
  if (snapshot.status !== 'available' && snapshot.status !== 'failed') {
    return { ...base, outcome: 'skipped', detail: `snapshot is ${snapshot.status}` };
  }
  try {
    if (target.type === 'cluster') {
      await rds.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: decision.id }));
    } else {
      await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: decision.id }));
    }
  } catch (error) {
    if (isErrorNamed(error, ...GONE)) return { ...base, outcome: 'already-gone' };
    // E.g. a copy of it to the DR region is in progress: the next run deletes it.
    if (isErrorNamed(error, ...BUSY))
      return { ...base, outcome: 'skipped', detail: (error as Error).message };
    throw error;
  }
  logger.info('Deleted snapshot', {
    snapshotId: decision.id,
    target: target.name,
    reasons: decision.reasons,
  });
  return { ...base, outcome: 'deleted' };
}

/** Plans and applies retention to one target's snapshots in one region. */
export async function cleanSnapshots(
  rds: RDSClient,
  target: RdsTarget,
  region: string,
  policyName: string,
  policy: RetentionPolicy,
  options: RunOptions,
): Promise<TargetReport> {
  const report = targetReport(target.name, 'rds-snapshots', policyName, region);
  try {
    await planAndDelete(rds, target, region, policy, options, report);
  } catch (error) {
    report.status = 'failed';
    report.reason = (error as Error).message;
    report.error = error;
  }
  settle(report);
  return report;
}

async function planAndDelete(
  rds: RDSClient,
  target: RdsTarget,
  region: string,
  policy: RetentionPolicy,
  options: RunOptions,
  report: TargetReport,
): Promise<void> {
  const points = await listSnapshotRecoveryPoints(rds, {
    target: target.name,
    type: target.type,
    identifier: target.identifier,
    includeUnmanaged: true,
  });
  if (points.length === 0) {
    report.status = 'refused';
    report.reason = `no manual snapshots of ${target.type} ${target.identifier} in ${region}: refusing to act on an empty inventory`;
    return;
  }
  const failed = points.filter((point) => point.managed && point.status === 'failed');
  const planned = points.filter((point) => !(point.managed && point.status === 'failed'));
  const decisions: RetentionDecision[] = [
    ...planRetention(planned, policy, { now: options.now }),
    ...failed.map((point) => ({ id: point.id, action: 'delete' as const, reasons: [FAILED_REASON] })),
  ];
  recordDecisions(report, decisions);
  for (const decision of decisions) {
    if (decision.action !== 'delete') continue;
    const base = { id: decision.id, reasons: decision.reasons };
    if (options.dryRun) {
      report.deletions.push({ ...base, outcome: 'would-delete' });
    } else if (Date.now() > options.deadline) {
      report.deletions.push({
        ...base,
        outcome: 'skipped',
        detail: 'time budget spent: the next run deletes it',
      });
    } else {
      report.deletions.push(await deleteOne(rds, target, decision));
    }
  }
}
