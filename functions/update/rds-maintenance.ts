/**
 * Pending RDS maintenance applied as an update (`change.pendingMaintenance`: `security` patches or
 * `all`): the Update flow runs it like any RDS change — health first, a rollback snapshot, apply,
 * poll, a stabilisation window — and, since a patch cannot be undone in place, rolls a failure back
 * by restoring the snapshot. Applying is ApplyPendingMaintenanceAction with OptInType `immediate`,
 * one action per instance or cluster at a time (RDS refuses a second while the first applies), so
 * `rds-progress` applies the next one when its resource is available again, until none of the
 * chosen actions is pending.
 *
 * What to apply and whether it is done are decided by {@link maintenanceStep}, a pure function.
 */
import {
  ApplyPendingMaintenanceActionCommand,
  DescribePendingMaintenanceActionsCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { isErrorNamed } from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import { isSecurityAction } from '../security-maintenance/classify.ts';
import type { MaintenanceItem, PendingMaintenanceKind } from './input.ts';
import type { ChangeState } from './rds-change.ts';

/** The actions a pending-maintenance update of `kind` applies. Pure. */
export function chosenActions(
  kind: PendingMaintenanceKind,
  items: readonly MaintenanceItem[],
): MaintenanceItem[] {
  return items.filter((item) => kind === 'all' || item.security);
}

/** `os-upgrade on orders-prod` */
export const itemText = (item: MaintenanceItem) => `${item.action} on ${item.identifier}`;

export interface MaintenanceStep {
  /** Actions to apply on this call (at most one per resource, only on an available one). */
  readonly apply: MaintenanceItem[];
  readonly waitingFor: string[];
  /** None of the chosen actions is pending and the target is available. */
  readonly done: boolean;
}

/** The status of the instance or cluster an action is pending on. */
function statusOf(state: ChangeState, identifier: string): string | undefined {
  if (identifier === state.identifier) return state.status;
  return state.members.find((member) => member.identifier === identifier)?.status;
}

/** What to do now for the actions of `kind` still pending (`items`, read just now). Pure. */
export function maintenanceStep(
  kind: PendingMaintenanceKind,
  state: ChangeState,
  items: readonly MaintenanceItem[],
): MaintenanceStep {
  const apply: MaintenanceItem[] = [];
  const waitingFor: string[] = [];
  const busy = new Set<string>();
  if (state.status !== 'available') waitingFor.push(`${state.identifier} is ${state.status}`);
  for (const member of state.members) {
    if (state.type === 'cluster' && member.status !== 'available') {
      waitingFor.push(`${member.identifier} is ${member.status}`);
    }
  }
  const chosen = chosenActions(kind, items);
  for (const item of chosen) if (item.optInStatus === 'immediate') busy.add(item.identifier);
  for (const item of chosen) {
    if (item.optInStatus === 'immediate') {
      waitingFor.push(`${itemText(item)} being applied`);
    } else if (statusOf(state, item.identifier) === 'available' && !busy.has(item.identifier)) {
      apply.push(item);
      busy.add(item.identifier);
    } else {
      waitingFor.push(`${itemText(item)} (next, once ${item.identifier} is available)`);
    }
  }
  return { apply, waitingFor, done: apply.length === 0 && waitingFor.length === 0 };
}

/** `orders-prod` from `arn:aws:rds:eu-central-1:111122223333:db:orders-prod`. */
const identifierOf = (arn: string) => arn.split(':').slice(6).join(':');

async function describeBy(rds: RDSClient, name: string, values: string[]): Promise<MaintenanceItem[]> {
  const items: MaintenanceItem[] = [];
  let Marker: string | undefined;
  do {
    const out = await rds.send(
      new DescribePendingMaintenanceActionsCommand({ Filters: [{ Name: name, Values: values }], Marker }),
    );
    for (const resource of out.PendingMaintenanceActions ?? []) {
      const resourceArn = resource.ResourceIdentifier ?? '';
      for (const action of resource.PendingMaintenanceActionDetails ?? []) {
        const name = action.Action ?? 'unknown';
        items.push({
          resourceArn,
          identifier: identifierOf(resourceArn),
          action: name,
          ...(action.Description ? { description: action.Description } : {}),
          security: isSecurityAction(name, action.Description),
          ...(action.OptInStatus ? { optInStatus: action.OptInStatus } : {}),
        });
      }
    }
    Marker = out.Marker;
  } while (Marker);
  return items;
}

/** Every pending maintenance action of the target: the instance, or the cluster and its members. */
export async function pendingMaintenanceOf(rds: RDSClient, state: ChangeState): Promise<MaintenanceItem[]> {
  if (state.type === 'instance') return describeBy(rds, 'db-instance-id', [state.identifier]);
  const members = state.members.map((member) => member.identifier);
  return [
    ...(await describeBy(rds, 'db-cluster-id', [state.identifier])),
    ...(members.length > 0 ? await describeBy(rds, 'db-instance-id', members) : []),
  ];
}

export interface MaintenanceAdvance extends MaintenanceStep {
  /** `os-upgrade:orders-prod` for each action this call applied. */
  readonly sent: string[];
  /** The chosen actions still pending after this call. */
  readonly pending: MaintenanceItem[];
}

/**
 * One step of a pending-maintenance update: applies what {@link maintenanceStep} says. An action
 * that is no longer pending (applied meanwhile) or whose resource just became busy is left to the
 * next call, which reads everything again.
 */
export async function advanceMaintenance(
  rds: RDSClient,
  kind: PendingMaintenanceKind,
  state: ChangeState,
): Promise<MaintenanceAdvance> {
  const items = await pendingMaintenanceOf(rds, state);
  const step = maintenanceStep(kind, state, items);
  const sent: string[] = [];
  const waitingFor = [...step.waitingFor];
  for (const item of step.apply) {
    try {
      await rds.send(
        new ApplyPendingMaintenanceActionCommand({
          ResourceIdentifier: item.resourceArn,
          ApplyAction: item.action,
          OptInType: 'immediate',
        }),
      );
      sent.push(`${item.action}:${item.identifier}`);
      waitingFor.push(`${itemText(item)} being applied`);
    } catch (error) {
      if (
        !isErrorNamed(
          error,
          'InvalidDBInstanceState',
          'InvalidDBInstanceStateFault',
          'InvalidDBClusterStateFault',
          'InvalidParameterValue',
        )
      ) {
        throw error;
      }
      logger.info('Pending maintenance action not applied on this call', {
        action: item.action,
        identifier: item.identifier,
        reason: (error as Error).message,
      });
      waitingFor.push(`${itemText(item)} (RDS: ${(error as Error).message})`);
    }
  }
  if (sent.length > 0) logger.info('Pending maintenance applied', { sent });
  return {
    apply: step.apply,
    sent,
    waitingFor,
    done: step.done,
    pending: chosenActions(kind, items),
  };
}
