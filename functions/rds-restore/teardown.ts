/**
 * `delete`: tears down an instance or cluster this execution restored (a drill's copy, or a
 * half-finished restore on rollback), without a final snapshot. It refuses anything else: the
 * original's identifier, anything without `caretaker:managed=true`, anything another execution
 * restored, anything promoted by a switch-over (it dropped `managed`), anything protected.
 * Idempotent: gone already is done; deleting already is reported as such.
 */
import {
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { tagMap } from '#common/caretaker-tags';
import { isErrorNamed, PreconditionFailedError } from '#common/errors';
import { logger } from '#common/observability';
import { type DatabaseView, findDatabase } from '#common/rds-lookup';
import type { RdsTarget } from '#common/rds-targets';
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
}

const GONE = ['DBInstanceNotFound', 'DBInstanceNotFoundFault', 'DBClusterNotFoundFault'];

async function quietlyGone(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!isErrorNamed(error, ...GONE)) throw error;
  }
}

function requireDeletable(view: DatabaseView, target: RdsTarget, executionId: string): void {
  requireRestoredBy(view, executionId);
  if (view.settings.deletionProtection) {
    throw new PreconditionFailedError(
      `${view.identifier} has deletion protection on, which Caretaker never sets on a copy it may delete: refusing`,
      { identifier: view.identifier, target: target.name },
    );
  }
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
  requireDeletable(view, target, event.executionId);
  if (target.type === 'cluster') {
    const members = await deleteMembers(rds, id, target, event.executionId);
    if (view.status !== 'deleting') {
      logger.info('Deleting a restored cluster', { identifier: id, target: target.name });
      await quietlyGone(
        rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: id, SkipFinalSnapshot: true })),
      );
    }
    return { ...base, status: 'deleting', done: false, members };
  }
  if (view.status !== 'deleting') {
    logger.info('Deleting a restored instance', { identifier: id, target: target.name });
    await quietlyGone(
      rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: id,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      ),
    );
  }
  return { ...base, status: 'deleting', done: false };
}
