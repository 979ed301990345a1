/**
 * ApplyPendingMaintenanceAction over the actions seeded through the service's in-process API
 * (tags.ts describes them). `immediate` applies the action now, as RDS does: the instance or
 * cluster shows `upgrading` (a `db-upgrade`) or `maintenance` (anything else) for one status
 * delay while its server restarts (the database is briefly unreachable, as during a real patch),
 * then the action is no longer pending and the status is back to `available`. `next-maintenance`
 * and `undo-opt-in` only record the opt-in.
 */
import * as errors from './errors.ts';
import { failRecord } from './lifecycle.ts';
import { type MaintenanceAction, parseRdsArn, rdsArn } from './model.ts';
import type { Operation } from './operation.ts';
import type { RdsRuntime, ServerRecord } from './runtime.ts';
import { renderActions } from './tags.ts';

const OPT_IN_TYPES = ['immediate', 'next-maintenance', 'undo-opt-in'] as const;

/** The status RDS shows while an action applies. */
function statusWhileApplying(action: string): string {
  return action === 'db-upgrade' ? 'upgrading' : 'maintenance';
}

/** Applies `action` to `record` after one delay: restart, no longer pending, available again. */
function applySoon(rt: RdsRuntime, record: ServerRecord, arn: string, action: string): void {
  record.status = statusWhileApplying(action);
  rt.store.save();
  rt.background(
    record.key,
    async () => {
      await rt.delay();
      if (record.status === 'deleting') return;
      // An Aurora member has no server of its own: its cluster's keeps running.
      const ownServer = !(record.kind === 'db' && record.clusterKey);
      if (ownServer) {
        await rt.stopServer(record);
        await rt.startServer(record);
      }
      applied(rt, arn, (pending) => pending.Action === action);
      if (record.status !== 'deleting') record.status = 'available';
      rt.store.save();
    },
    failRecord(record),
  );
}

/** The actions of `arn` that `done` picks are applied: no longer pending. */
function applied(rt: RdsRuntime, arn: string, done: (action: MaintenanceAction) => boolean): void {
  const left = (rt.store.maintenance.get(arn) ?? []).filter((pending) => !done(pending));
  if (left.length > 0) rt.store.maintenance.set(arn, left);
  else rt.store.maintenance.delete(arn);
}

/**
 * After a restart: the actions opted in `immediate` were being applied when the sandbox stopped;
 * the record's server has just restarted, so they are done.
 */
export function finishImmediateActions(rt: RdsRuntime, record: ServerRecord): void {
  const arn = rdsArn(record.region, record.kind === 'db' ? 'db' : 'cluster', record.id);
  applied(rt, arn, (pending) => pending.OptInStatus === 'immediate');
}

const applyPendingMaintenanceAction: Operation = ({ region, rt, store }, input) => {
  const resource = input.required('ResourceIdentifier');
  const applyAction = input.required('ApplyAction');
  const optInType = input.required('OptInType');
  if (!(OPT_IN_TYPES as readonly string[]).includes(optInType)) {
    throw errors.invalidParameterValue(
      `Invalid value ${optInType} for OptInType: expected one of ${OPT_IN_TYPES.join(', ')}`,
    );
  }
  const parsed = parseRdsArn(resource);
  if (!parsed || parsed.region !== region || (parsed.type !== 'db' && parsed.type !== 'cluster')) {
    throw errors.resourceNotFound(`The resource ${resource} could not be found.`);
  }
  const record: ServerRecord | undefined =
    parsed.type === 'db' ? store.findInstance(region, resource) : store.findCluster(region, resource);
  if (!record) throw errors.resourceNotFound(`The resource ${resource} could not be found.`);
  const arn = rdsArn(region, parsed.type, record.id);
  const actions = store.maintenance.get(arn) ?? [];
  const action = actions.find((pending) => pending.Action === applyAction);
  if (!action) {
    throw errors.invalidParameterValue(
      `The maintenance action ${applyAction} is not pending for resource ${arn}`,
    );
  }
  if (optInType === 'immediate' && action.OptInStatus !== 'immediate') {
    if (record.status !== 'available') {
      const message = `${parsed.type === 'db' ? 'DB instance' : 'DB cluster'} ${record.id} is not available (${record.status}): the maintenance action cannot be applied now`;
      throw parsed.type === 'db'
        ? errors.invalidDBInstanceState(message)
        : errors.invalidDBClusterState(message);
    }
    setOptIn(action, 'immediate', Date.now());
    applySoon(rt, record, arn, applyAction);
  } else if (optInType === 'next-maintenance') {
    setOptIn(action, 'next-maintenance', action.CurrentApplyDate);
  } else if (optInType === 'undo-opt-in' && action.OptInStatus !== 'immediate') {
    setOptIn(action, undefined, undefined);
  }
  store.save();
  return {
    ResourcePendingMaintenanceActions: {
      ResourceIdentifier: arn,
      PendingMaintenanceActionDetails: {
        PendingMaintenanceAction: renderActions(store.maintenance.get(arn) ?? []),
      },
    },
  };
};

function setOptIn(action: MaintenanceAction, status: string | undefined, applyDate: number | undefined) {
  if (status === undefined) delete action.OptInStatus;
  else action.OptInStatus = status;
  if (applyDate === undefined) delete action.CurrentApplyDate;
  else action.CurrentApplyDate = applyDate;
}

export const MAINTENANCE_OPERATIONS: Readonly<Record<string, Operation>> = {
  ApplyPendingMaintenanceAction: applyPendingMaintenanceAction,
};
