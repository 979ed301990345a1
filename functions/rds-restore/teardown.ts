/**
 * `delete`: tears down an instance or cluster this execution restored (a drill's copy, or a
 * half-finished restore on rollback). It refuses anything else: the original's identifier,
 * anything another execution restored, anything promoted by a switch-over and not undone,
 * anything protected.
 *
 * A copy a switch-over ever gave the production name (`caretaker:took-source-name`) may hold
 * writes made to it there: it is deleted with a final snapshot (`caretaker-<target>-<hash>-final`),
 * never without. Such a copy dropped the managed tag when it was promoted; once the undo has
 * given it its own name back, it is tagged managed again here (this role may tag only copies'
 * names) so that the deletion's IAM condition holds. Idempotent: gone already is done; deleting
 * already is reported as such.
 */
import {
  AddTagsToResourceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { isFromExecution, isManaged, TAG, tagMap } from '#common/caretaker-tags';
import { type DatabaseView, findDatabase } from '#common/rds/rds-lookup';
import { snapshotIdentifier } from '#common/rds/rds-names';
import type { RdsTarget } from '#common/rds/rds-targets';
import { isErrorNamed, PreconditionFailedError } from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import { type RestoreDeps, regional } from './deps.ts';
import type { DeleteAction } from './input.ts';
import { requireRestoredBy } from './restore.ts';

export interface DeleteResult {
  readonly target: string;
  readonly identifier: string;
  readonly region: string;
  /** `deleting` (poll `status` until `not-found`) or `not-found` (gone). */
  readonly status: 'deleting' | 'not-found';
  readonly done: boolean;
  /** Clusters: the member instances deleted with it. */
  readonly members?: string[];
  /** The final snapshot taken of a copy that held the production name. */
  readonly finalSnapshot?: string;
}

const GONE = ['DBInstanceNotFound', 'DBInstanceNotFoundFault', 'DBClusterNotFoundFault'];

async function quietlyGone(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!isErrorNamed(error, ...GONE)) throw error;
  }
}

interface Deletable {
  /** It lost the managed tag when promoted: tag it again before deleting. */
  readonly remanage: boolean;
  /** It held the production name: take a final snapshot. */
  readonly finalSnapshot: boolean;
}

function requireDeletable(view: DatabaseView, target: RdsTarget, executionId: string): Deletable {
  const promotedBefore = !isManaged(view.tags) && view.tags[TAG.tookSourceName] !== undefined;
  if (promotedBefore && isFromExecution(view.tags, executionId) && view.tags[TAG.restoredFrom]) {
    if (view.tags[TAG.promotedAt] !== undefined) {
      throw new PreconditionFailedError(
        `${view.identifier} is still promoted (${TAG.promotedAt}): undo the switch-over before deleting it`,
        { identifier: view.identifier, target: target.name },
      );
    }
  } else {
    requireRestoredBy(view, executionId);
  }
  if (view.settings.deletionProtection) {
    throw new PreconditionFailedError(
      `${view.identifier} has deletion protection on, which Caretaker never sets on a copy it may delete: refusing`,
      { identifier: view.identifier, target: target.name },
    );
  }
  return { remanage: promotedBefore, finalSnapshot: view.tags[TAG.tookSourceName] !== undefined };
}

async function deleteMembers(
  rds: RDSClient,
  clusterId: string,
  target: RdsTarget,
  executionId: string,
): Promise<string[]> {
  const out = await rds.send(
    new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-cluster-id', Values: [clusterId] }] }),
  );
  const members = out.DBInstances ?? [];
  for (const member of members) {
    const id = member.DBInstanceIdentifier ?? '';
    requireRestoredBy({ type: 'instance', identifier: id, tags: tagMap(member.TagList) }, executionId);
    if (member.DBInstanceStatus === 'deleting') continue;
    logger.info('Deleting a restored cluster member', { identifier: id, target: target.name });
    await quietlyGone(
      rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: id, SkipFinalSnapshot: true })),
    );
  }
  return members.map((member) => member.DBInstanceIdentifier ?? '');
}

/** Deletes this execution's restored instance or cluster (never the original). */
export async function deleteRestored(
  deps: RestoreDeps,
  target: RdsTarget,
  event: DeleteAction,
): Promise<DeleteResult> {
  const { rds, region } = regional(deps, event.region);
  const id = event.identifier.toLowerCase();
  const base = { target: target.name, identifier: id, region };
  if (id === target.identifier.toLowerCase()) {
    throw new PreconditionFailedError(`Refusing to delete ${id}: it is the target's own identifier`, base);
  }
  const view = await findDatabase(rds, target.type, id);
  if (!view) return { ...base, status: 'not-found', done: true };
  const deletable = requireDeletable(view, target, event.executionId);
  if (deletable.remanage) {
    await rds.send(
      new AddTagsToResourceCommand({ ResourceName: view.arn, Tags: [{ Key: TAG.managed, Value: 'true' }] }),
    );
  }
  const finalId = deletable.finalSnapshot
    ? snapshotIdentifier(target.name, event.executionId, 'final')
    : undefined;
  const final = finalId
    ? { SkipFinalSnapshot: false, FinalDBSnapshotIdentifier: finalId }
    : { SkipFinalSnapshot: true };
  const snapshot = finalId ? { finalSnapshot: finalId } : {};
  if (target.type === 'cluster') {
    const members = await deleteMembers(rds, id, target, event.executionId);
    if (view.status !== 'deleting') {
      logger.info('Deleting a restored cluster', {
        identifier: id,
        target: target.name,
        finalSnapshot: finalId,
      });
      await quietlyGone(rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: id, ...final })));
    }
    return { ...base, status: 'deleting', done: false, members, ...snapshot };
  }
  if (view.status !== 'deleting') {
    logger.info('Deleting a restored instance', {
      identifier: id,
      target: target.name,
      finalSnapshot: finalId,
    });
    await quietlyGone(
      rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: id,
          ...final,
          DeleteAutomatedBackups: true,
        }),
      ),
    );
  }
  return { ...base, status: 'deleting', done: false, ...snapshot };
}
