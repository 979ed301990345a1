/**
 * An RDS change (engine version, instance class, parameter group) applied now and polled until it
 * is visible: `rds-apply` modifies only what is not already in place or on its way (so a retried
 * apply does not modify twice), `rds-progress` reports where it stands and reboots a member whose
 * new parameter group waits for a reboot (RDS applies a newly associated group only after one).
 *
 * Instances and clusters are read into one shape, {@link ChangeState}; what to apply and whether
 * it is done are decided by pure functions on it.
 */
import {
  type DBCluster,
  type DBInstance,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  type RDSClient,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { findCluster, findInstance } from '#common/rds/rds-lookup';
import type { RdsTarget } from '#common/rds/rds-targets';
import { isErrorNamed, NotFoundError, PreconditionFailedError } from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import type { MaintenanceItem, RdsChange } from './input.ts';
import { advanceMaintenance } from './rds-maintenance.ts';

/** One instance (an instance target, or a cluster member). */
export interface MemberState {
  readonly identifier: string;
  readonly status: string;
  readonly instanceClass?: string;
  readonly pendingClass?: string;
  /** `in-sync`, `applying`, `pending-reboot` for its (cluster) parameter group. */
  readonly parameterStatus?: string;
  /** A cluster's writer. */
  readonly writer?: boolean;
}

export interface ChangeState {
  readonly type: 'instance' | 'cluster';
  readonly identifier: string;
  readonly status: string;
  readonly engineVersion?: string;
  readonly pendingEngineVersion?: string;
  /** The DB parameter group (instances) or DB cluster parameter group (clusters). */
  readonly parameterGroup?: string;
  readonly members: readonly MemberState[];
}

/** What `rds-apply` must still send. Pure. */
export function changesToApply(
  change: RdsChange,
  state: ChangeState,
): { engineVersion?: string; parameterGroup?: string; instanceClassFor: string[] } {
  const wantsEngine =
    change.engineVersion !== undefined &&
    state.engineVersion !== change.engineVersion &&
    state.pendingEngineVersion !== change.engineVersion;
  const wantsGroup = change.parameterGroup !== undefined && state.parameterGroup !== change.parameterGroup;
  const instanceClassFor =
    change.instanceClass === undefined
      ? []
      : state.members
          .filter((m) => m.instanceClass !== change.instanceClass && m.pendingClass !== change.instanceClass)
          .map((m) => m.identifier);
  return {
    ...(wantsEngine ? { engineVersion: change.engineVersion } : {}),
    ...(wantsGroup ? { parameterGroup: change.parameterGroup } : {}),
    instanceClassFor,
  };
}

/** Where a change stands: what is still awaited and which members need a reboot. Pure. */
export function changeProgress(
  change: RdsChange,
  state: ChangeState,
): { done: boolean; waitingFor: string[]; reboot: string[] } {
  const waitingFor: string[] = [];
  const reboot: string[] = [];
  if (state.status !== 'available') waitingFor.push(`${state.identifier} is ${state.status}`);
  if (change.engineVersion !== undefined) {
    if (state.engineVersion !== change.engineVersion) {
      waitingFor.push(`engine version ${state.engineVersion ?? '?'} → ${change.engineVersion}`);
    } else if (state.pendingEngineVersion !== undefined) {
      waitingFor.push(`pending engine version ${state.pendingEngineVersion}`);
    }
  }
  if (change.parameterGroup !== undefined && state.parameterGroup !== change.parameterGroup) {
    waitingFor.push(`parameter group ${state.parameterGroup ?? '?'} → ${change.parameterGroup}`);
  }
  for (const member of state.members) {
    if (member.status !== 'available') {
      if (state.type === 'cluster') waitingFor.push(`${member.identifier} is ${member.status}`);
      continue;
    }
    if (change.instanceClass !== undefined && member.instanceClass !== change.instanceClass) {
      waitingFor.push(`${member.identifier} class ${member.instanceClass ?? '?'} → ${change.instanceClass}`);
    } else if (change.instanceClass !== undefined && member.pendingClass !== undefined) {
      waitingFor.push(`${member.identifier} pending class ${member.pendingClass}`);
    }
    if (change.parameterGroup !== undefined && state.parameterGroup === change.parameterGroup) {
      if (member.parameterStatus === 'pending-reboot') reboot.push(member.identifier);
      else if (member.parameterStatus !== undefined && member.parameterStatus !== 'in-sync') {
        waitingFor.push(`${member.identifier} parameters ${member.parameterStatus}`);
      }
    }
  }
  return { done: waitingFor.length === 0 && reboot.length === 0, waitingFor, reboot };
}

function memberOf(db: DBInstance, parameterStatus: string | undefined, writer?: boolean): MemberState {
  return {
    ...(writer !== undefined ? { writer } : {}),
    identifier: db.DBInstanceIdentifier ?? '',
    status: db.DBInstanceStatus ?? 'unknown',
    ...(db.DBInstanceClass ? { instanceClass: db.DBInstanceClass } : {}),
    ...(db.PendingModifiedValues?.DBInstanceClass
      ? { pendingClass: db.PendingModifiedValues.DBInstanceClass }
      : {}),
    ...(parameterStatus ? { parameterStatus } : {}),
  };
}

function instanceState(db: DBInstance): ChangeState {
  const group = db.DBParameterGroups?.[0];
  return {
    type: 'instance',
    identifier: db.DBInstanceIdentifier ?? '',
    status: db.DBInstanceStatus ?? 'unknown',
    ...(db.EngineVersion ? { engineVersion: db.EngineVersion } : {}),
    ...(db.PendingModifiedValues?.EngineVersion
      ? { pendingEngineVersion: db.PendingModifiedValues.EngineVersion }
      : {}),
    ...(group?.DBParameterGroupName ? { parameterGroup: group.DBParameterGroupName } : {}),
    members: [memberOf(db, group?.ParameterApplyStatus)],
  };
}

async function clusterState(rds: RDSClient, cluster: DBCluster): Promise<ChangeState> {
  const id = cluster.DBClusterIdentifier ?? '';
  const out = await rds.send(
    new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-cluster-id', Values: [id] }] }),
  );
  const listed = new Map((cluster.DBClusterMembers ?? []).map((m) => [m.DBInstanceIdentifier, m]));
  return {
    type: 'cluster',
    identifier: id,
    status: cluster.Status ?? 'unknown',
    ...(cluster.EngineVersion ? { engineVersion: cluster.EngineVersion } : {}),
    ...(cluster.PendingModifiedValues?.EngineVersion
      ? { pendingEngineVersion: cluster.PendingModifiedValues.EngineVersion }
      : {}),
    ...(cluster.DBClusterParameterGroup ? { parameterGroup: cluster.DBClusterParameterGroup } : {}),
    members: (out.DBInstances ?? []).map((db) => {
      const member = listed.get(db.DBInstanceIdentifier);
      return memberOf(db, member?.DBClusterParameterGroupStatus, member?.IsClusterWriter === true);
    }),
  };
}

/** Reads the target into a {@link ChangeState}, or NotFoundError. */
export async function readChangeState(rds: RDSClient, target: RdsTarget): Promise<ChangeState> {
  if (target.type === 'cluster') {
    const cluster = await findCluster(rds, target.identifier);
    if (cluster) return clusterState(rds, cluster);
  } else {
    const db = await findInstance(rds, target.identifier);
    if (db) return instanceState(db);
  }
  throw new NotFoundError(`RDS ${target.type} ${target.identifier} (target ${target.name}) does not exist`, {
    target: target.name,
  });
}

/** RDS's own refusals of a change (a downgrade, a missing AllowMajorVersionUpgrade, …) are permanent. */
async function refusedAsPrecondition<T>(call: Promise<T>, what: string): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (
      isErrorNamed(
        error,
        'InvalidParameterCombination',
        'InvalidParameterValue',
        'DBParameterGroupNotFound',
        'DBParameterGroupNotFoundFault',
        'DBClusterParameterGroupNotFoundFault',
      )
    ) {
      throw new PreconditionFailedError(
        `RDS refused ${what}: ${(error as Error).message}`,
        { what },
        { cause: error },
      );
    }
    throw error;
  }
}

export interface ChangeResult {
  readonly target: string;
  readonly identifier: string;
  readonly done: boolean;
  readonly status: string;
  readonly engineVersion?: string;
  readonly parameterGroup?: string;
  readonly members: readonly MemberState[];
  readonly waitingFor: string[];
}

function resultOf(target: RdsTarget, change: RdsChange, state: ChangeState): ChangeResult {
  const progress = changeProgress(change, state);
  return {
    target: target.name,
    identifier: state.identifier,
    done: progress.done,
    status: state.status,
    ...(state.engineVersion ? { engineVersion: state.engineVersion } : {}),
    ...(state.parameterGroup ? { parameterGroup: state.parameterGroup } : {}),
    members: state.members,
    waitingFor: [...progress.waitingFor, ...progress.reboot.map((id) => `${id} reboot`)],
  };
}

/** A pending-maintenance update's answer, shaped as every other change's. */
async function maintenanceResult(
  rds: RDSClient,
  target: RdsTarget,
  kind: NonNullable<RdsChange['pendingMaintenance']>,
  state: ChangeState,
): Promise<ChangeResult & { sent: string[]; pendingMaintenance: MaintenanceItem[] }> {
  const step = await advanceMaintenance(rds, kind, state);
  return {
    target: target.name,
    identifier: state.identifier,
    done: step.done,
    status: state.status,
    ...(state.engineVersion ? { engineVersion: state.engineVersion } : {}),
    ...(state.parameterGroup ? { parameterGroup: state.parameterGroup } : {}),
    members: state.members,
    waitingFor: step.waitingFor,
    sent: step.sent,
    pendingMaintenance: step.pending,
  };
}

/**
 * `rds-apply`: modifies what the change still needs, with ApplyImmediately; for a
 * pending-maintenance update, applies the first of the chosen actions (rds-maintenance.ts).
 */
export async function applyRdsChange(
  rds: RDSClient,
  target: RdsTarget,
  change: RdsChange,
): Promise<ChangeResult & { before: ChangeState; sent: string[] }> {
  const before = await readChangeState(rds, target);
  if (change.pendingMaintenance !== undefined) {
    return { ...(await maintenanceResult(rds, target, change.pendingMaintenance, before)), before };
  }
  const work = changesToApply(change, before);
  const sent: string[] = [];
  const major = change.allowMajorVersionUpgrade ? { AllowMajorVersionUpgrade: true } : {};
  if (target.type === 'cluster') {
    if (work.engineVersion || work.parameterGroup) {
      await refusedAsPrecondition(
        rds.send(
          new ModifyDBClusterCommand({
            DBClusterIdentifier: target.identifier,
            EngineVersion: work.engineVersion,
            DBClusterParameterGroupName: work.parameterGroup,
            ApplyImmediately: true,
            ...(work.engineVersion ? major : {}),
          }),
        ),
        `the change to cluster ${target.identifier}`,
      );
      if (work.engineVersion) sent.push('engineVersion');
      if (work.parameterGroup) sent.push('parameterGroup');
    }
    // Readers first, the writer last: the cluster keeps a writer while the readers change class.
    const writers = new Set(before.members.filter((m) => m.writer).map((m) => m.identifier));
    const ordered = [...work.instanceClassFor].sort(
      (a, b) => Number(writers.has(a)) - Number(writers.has(b)),
    );
    for (const member of ordered) {
      await refusedAsPrecondition(
        rds.send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: member,
            DBInstanceClass: change.instanceClass,
            ApplyImmediately: true,
          }),
        ),
        `instance class ${change.instanceClass} for ${member}`,
      );
      sent.push(`instanceClass:${member}`);
    }
  } else if (work.engineVersion || work.parameterGroup || work.instanceClassFor.length) {
    await refusedAsPrecondition(
      rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: target.identifier,
          EngineVersion: work.engineVersion,
          DBInstanceClass: work.instanceClassFor.length ? change.instanceClass : undefined,
          DBParameterGroupName: work.parameterGroup,
          ApplyImmediately: true,
          ...(work.engineVersion ? major : {}),
        }),
      ),
      `the change to instance ${target.identifier}`,
    );
    if (work.engineVersion) sent.push('engineVersion');
    if (work.instanceClassFor.length) sent.push('instanceClass');
    if (work.parameterGroup) sent.push('parameterGroup');
  }
  logger.info(sent.length ? 'RDS change applied' : 'RDS change already in place or under way', {
    target: target.name,
    sent,
  });
  const after = await readChangeState(rds, target);
  return { ...resultOf(target, change, after), before, sent };
}

/**
 * `rds-progress`: where the change stands; reboots members whose new parameter group waits for
 * one; applies the next pending maintenance action of a pending-maintenance update.
 */
export async function rdsChangeProgress(
  rds: RDSClient,
  target: RdsTarget,
  change: RdsChange,
): Promise<ChangeResult & { rebooted: string[] }> {
  const state = await readChangeState(rds, target);
  if (change.pendingMaintenance !== undefined) {
    return { ...(await maintenanceResult(rds, target, change.pendingMaintenance, state)), rebooted: [] };
  }
  const { reboot } = changeProgress(change, state);
  for (const member of reboot) {
    logger.info('Rebooting to apply the new parameter group', { identifier: member });
    await rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: member }));
  }
  const after = reboot.length ? await readChangeState(rds, target) : state;
  return { ...resultOf(target, change, after), rebooted: reboot };
}
