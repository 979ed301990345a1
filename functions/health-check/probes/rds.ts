/**
 * RDS probe: the instance's or Aurora cluster's status and its pending maintenance actions,
 * then a pure evaluation. Also the shared `describeDatabase` the query probe uses to find the
 * endpoint it connects to.
 */
import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribePendingMaintenanceActionsCommand,
  type DescribePendingMaintenanceActionsCommandInput,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { NotFoundError } from '#common/runtime/errors';
import type { RdsCheck } from '../check-set.ts';
import type { CheckOutcome } from '../evaluate.ts';
import { describeError } from './errors.ts';

/**
 * Statuses in which the database still serves connections while RDS works on it (backups,
 * configuration changes). They degrade rather than fail: a nightly backup window is not an outage.
 */
export const SERVING_BUSY_STATUSES: ReadonlySet<string> = new Set([
  'backing-up',
  'configuring-enhanced-monitoring',
  'configuring-iam-database-auth',
  'configuring-log-exports',
  'converting-to-vpc',
  'modifying',
  'renaming',
  'resetting-master-credentials',
  'storage-optimization',
  'update-iam-db-auth',
]);

export interface DatabaseDescription {
  readonly type: 'instance' | 'cluster';
  readonly identifier: string;
  readonly status: string;
  readonly arn?: string;
  readonly endpoint?: { readonly host: string; readonly port: number };
  readonly engine?: string;
  readonly engineVersion?: string;
  readonly instanceClass?: string;
  readonly multiAZ?: boolean;
  /** Cluster member instance identifiers (writer first). */
  readonly members?: readonly string[];
}

/** Describes one instance or cluster; throws NotFoundError when it does not exist. */
export async function describeDatabase(
  rds: RDSClient,
  target: { readonly type: 'instance' | 'cluster'; readonly identifier: string },
): Promise<DatabaseDescription> {
  if (target.type === 'cluster') {
    const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: target.identifier }));
    const cluster = out.DBClusters?.[0];
    if (!cluster) throw new NotFoundError(`DB cluster ${target.identifier} not found`, { ...target });
    const members = [...(cluster.DBClusterMembers ?? [])]
      .sort((a, b) => Number(b.IsClusterWriter ?? false) - Number(a.IsClusterWriter ?? false))
      .flatMap((member) => (member.DBInstanceIdentifier ? [member.DBInstanceIdentifier] : []));
    return {
      type: 'cluster',
      identifier: target.identifier,
      status: cluster.Status ?? 'unknown',
      ...(cluster.DBClusterArn ? { arn: cluster.DBClusterArn } : {}),
      ...(cluster.Endpoint && cluster.Port
        ? { endpoint: { host: cluster.Endpoint, port: cluster.Port } }
        : {}),
      ...(cluster.Engine ? { engine: cluster.Engine } : {}),
      ...(cluster.EngineVersion ? { engineVersion: cluster.EngineVersion } : {}),
      ...(cluster.MultiAZ !== undefined ? { multiAZ: cluster.MultiAZ } : {}),
      members,
    };
  }
  const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: target.identifier }));
  const instance = out.DBInstances?.[0];
  if (!instance) throw new NotFoundError(`DB instance ${target.identifier} not found`, { ...target });
  const endpoint = instance.Endpoint;
  return {
    type: 'instance',
    identifier: target.identifier,
    status: instance.DBInstanceStatus ?? 'unknown',
    ...(instance.DBInstanceArn ? { arn: instance.DBInstanceArn } : {}),
    ...(endpoint?.Address && endpoint.Port
      ? { endpoint: { host: endpoint.Address, port: endpoint.Port } }
      : {}),
    ...(instance.Engine ? { engine: instance.Engine } : {}),
    ...(instance.EngineVersion ? { engineVersion: instance.EngineVersion } : {}),
    ...(instance.DBInstanceClass ? { instanceClass: instance.DBInstanceClass } : {}),
    ...(instance.MultiAZ !== undefined ? { multiAZ: instance.MultiAZ } : {}),
  };
}

/** One pending maintenance action, as reported in evidence. */
export interface PendingAction {
  readonly resource: string;
  readonly action: string;
  readonly description?: string;
  readonly autoAppliedAfter?: string;
  readonly forcedApplyDate?: string;
  readonly currentApplyDate?: string;
  readonly optInStatus?: string;
}

async function pendingActionsFor(
  rds: RDSClient,
  input: DescribePendingMaintenanceActionsCommandInput,
): Promise<PendingAction[]> {
  const actions: PendingAction[] = [];
  let marker: string | undefined;
  do {
    const page = await rds.send(new DescribePendingMaintenanceActionsCommand({ ...input, Marker: marker }));
    for (const resource of page.PendingMaintenanceActions ?? []) {
      for (const action of resource.PendingMaintenanceActionDetails ?? []) {
        actions.push({
          resource: resource.ResourceIdentifier ?? 'unknown',
          action: action.Action ?? 'unknown',
          ...(action.Description ? { description: action.Description } : {}),
          ...(action.AutoAppliedAfterDate
            ? { autoAppliedAfter: action.AutoAppliedAfterDate.toISOString() }
            : {}),
          ...(action.ForcedApplyDate ? { forcedApplyDate: action.ForcedApplyDate.toISOString() } : {}),
          ...(action.CurrentApplyDate ? { currentApplyDate: action.CurrentApplyDate.toISOString() } : {}),
          ...(action.OptInStatus ? { optInStatus: action.OptInStatus } : {}),
        });
      }
    }
    marker = page.Marker;
  } while (marker);
  return actions;
}

/** Pending maintenance of the database and, for a cluster, of its member instances. */
export async function pendingMaintenance(rds: RDSClient, db: DatabaseDescription): Promise<PendingAction[]> {
  const filterName = db.type === 'cluster' ? 'db-cluster-id' : 'db-instance-id';
  const own = await pendingActionsFor(
    rds,
    db.arn ? { ResourceIdentifier: db.arn } : { Filters: [{ Name: filterName, Values: [db.identifier] }] },
  );
  if (db.type !== 'cluster' || !db.members?.length) return own;
  const members = await pendingActionsFor(rds, {
    Filters: [{ Name: 'db-instance-id', Values: [...db.members] }],
  });
  return [...own, ...members];
}

/** Describes the database and its pending maintenance, then evaluates. RDS errors fail the check. */
export async function probeRds(rds: RDSClient, check: RdsCheck): Promise<CheckOutcome> {
  let db: DatabaseDescription;
  try {
    db = await describeDatabase(rds, check);
  } catch (error) {
    const reason = describeError(error);
    return {
      status: 'fail',
      summary: `${check.type} ${check.identifier}: not described (${reason})`,
      evidence: {
        identifier: check.identifier,
        type: check.type,
        expectedStatus: 'available',
        error: reason,
      },
    };
  }
  try {
    return evaluateRds(db, { actions: await pendingMaintenance(rds, db) });
  } catch (error) {
    return evaluateRds(db, { error: describeError(error) });
  }
}

/**
 * `available` → pass, or warn when maintenance is pending or could not be read; a
 * serving-but-busy status → warn; any other status (stopped, failed, rebooting, …) → fail (pure).
 */
export function evaluateRds(
  db: DatabaseDescription,
  pending: { readonly actions?: readonly PendingAction[]; readonly error?: string },
): CheckOutcome {
  const actions = pending.actions ?? [];
  const status =
    db.status === 'available'
      ? actions.length > 0 || pending.error
        ? 'warn'
        : 'pass'
      : SERVING_BUSY_STATUSES.has(db.status)
        ? 'warn'
        : 'fail';
  const parts = [`${db.type} ${db.identifier}: status ${db.status} (expected available)`];
  if (pending.error) parts.push(`pending maintenance unknown (${pending.error})`);
  else if (actions.length > 0) {
    const first = actions[0]!;
    const when = first.currentApplyDate ?? first.autoAppliedAfter ?? first.forcedApplyDate;
    parts.push(
      `${actions.length} pending maintenance action${actions.length > 1 ? 's' : ''} (${first.action}${when ? ` from ${when}` : ''})`,
    );
  } else parts.push('no pending maintenance');
  return {
    status,
    summary: parts.join(', '),
    evidence: {
      identifier: db.identifier,
      type: db.type,
      status: db.status,
      expectedStatus: 'available',
      ...(db.arn ? { arn: db.arn } : {}),
      ...(db.engine ? { engine: db.engine } : {}),
      ...(db.engineVersion ? { engineVersion: db.engineVersion } : {}),
      ...(db.instanceClass ? { instanceClass: db.instanceClass } : {}),
      ...(db.multiAZ !== undefined ? { multiAZ: db.multiAZ } : {}),
      ...(db.members ? { members: db.members } : {}),
      pendingMaintenance: actions,
      ...(pending.error ? { pendingMaintenanceError: pending.error } : {}),
    },
  };
}
