/**
 * `status`: where an instance or cluster stands, for the flow's polling loop after a restore, a
 * switch-over or a delete. A cluster is done when it and every member are available.
 */
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import { findCluster, findInstance } from '#common/rds/rds-lookup';
import type { RdsTarget } from '#common/rds/rds-targets';
import { PreconditionFailedError } from '#common/runtime/errors';
import { type RestoreDeps, regional } from './deps.ts';
import type { StatusAction } from './input.ts';

export interface DatabaseStatus {
  readonly target: string;
  readonly identifier: string;
  readonly region: string;
  /** RDS's status, or `not-found` (gone after a delete, or not created yet). */
  readonly status: string;
  readonly exists: boolean;
  /** Available (a cluster: with every member available). */
  readonly done: boolean;
  readonly endpoint?: { readonly address: string; readonly port: number };
  /** Clusters: each member's status. */
  readonly members?: { readonly identifier: string; readonly status: string; readonly writer: boolean }[];
}

/** Statuses an instance or cluster does not leave by waiting. */
const BROKEN = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'restore-error',
  'storage-full',
]);

function requireHealthy(identifier: string, status: string): void {
  if (BROKEN.has(status)) {
    throw new PreconditionFailedError(`${identifier} is ${status}: waiting will not make it available`, {
      identifier,
      status,
    });
  }
}

async function clusterMembers(rds: RDSClient, clusterId: string) {
  const out = await rds.send(
    new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-cluster-id', Values: [clusterId] }] }),
  );
  return out.DBInstances ?? [];
}

/** The status of an instance or cluster (and its members). */
export async function databaseStatus(
  deps: RestoreDeps,
  target: RdsTarget,
  event: StatusAction,
): Promise<DatabaseStatus> {
  const { rds, region } = regional(deps, event.region);
  const base = { target: target.name, identifier: event.identifier, region };
  if (target.type === 'instance') {
    const db = await findInstance(rds, event.identifier);
    if (!db) return { ...base, status: 'not-found', exists: false, done: false };
    const status = db.DBInstanceStatus ?? 'unknown';
    requireHealthy(event.identifier, status);
    const endpoint =
      db.Endpoint?.Address && db.Endpoint.Port
        ? { address: db.Endpoint.Address, port: db.Endpoint.Port }
        : undefined;
    return { ...base, status, exists: true, done: status === 'available', ...(endpoint ? { endpoint } : {}) };
  }
  const cluster = await findCluster(rds, event.identifier);
  if (!cluster) return { ...base, status: 'not-found', exists: false, done: false };
  const status = cluster.Status ?? 'unknown';
  requireHealthy(event.identifier, status);
  const writers = new Set(
    (cluster.DBClusterMembers ?? []).filter((m) => m.IsClusterWriter).map((m) => m.DBInstanceIdentifier),
  );
  const members = (await clusterMembers(rds, event.identifier)).map((member) => {
    const memberStatus = member.DBInstanceStatus ?? 'unknown';
    requireHealthy(member.DBInstanceIdentifier ?? '', memberStatus);
    return {
      identifier: member.DBInstanceIdentifier ?? '',
      status: memberStatus,
      writer: writers.has(member.DBInstanceIdentifier),
    };
  });
  const endpoint =
    cluster.Endpoint && cluster.Port ? { address: cluster.Endpoint, port: cluster.Port } : undefined;
  return {
    ...base,
    status,
    exists: true,
    done: status === 'available' && members.length > 0 && members.every((m) => m.status === 'available'),
    ...(endpoint ? { endpoint } : {}),
    members,
  };
}
