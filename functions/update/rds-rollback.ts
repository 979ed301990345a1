/**
 * The rollback side of an RDS change: `rds-capture` records the settings a change can touch before
 * it is applied; `rds-rollback-check` says whether the change can be rolled back now (or must
 * wait, or is someone else's to sort out); `rds-revert` puts the class and parameter group back in
 * place, one step per call until done. The decisions are rollback-decision.ts's; this module
 * reads the target and sends.
 */
import {
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  type RDSClient,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import type { RdsTarget } from '#common/rds/rds-targets';
import { PreconditionFailedError, ResourceBusyError } from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import type { CapturedSettings, RdsChange, RdsRollbackCheckEvent } from './input.ts';
import { type ChangeState, readChangeState } from './rds-change.ts';
import { chosenActions, pendingMaintenanceOf } from './rds-maintenance.ts';
import {
  assessRollback,
  manualCommands,
  type RollbackAssessment,
  revertWork,
  unsettled,
} from './rollback-decision.ts';

/** `rds-capture`: the target's settings before the update, refused while anything is pending. */
export async function captureSettings(
  rds: RDSClient,
  target: RdsTarget,
  change?: RdsChange,
  now: () => Date = () => new Date(),
): Promise<CapturedSettings> {
  const state = await readChangeState(rds, target);
  if (state.status !== 'available') {
    throw new ResourceBusyError(
      `${state.identifier} is ${state.status}: an update starts from an available database`,
      {
        identifier: state.identifier,
        status: state.status,
      },
    );
  }
  const pending = unsettled(state);
  if (pending.length > 0) {
    // ApplyImmediately applies every pending modification along with the update's, and the
    // rollback could not tell them apart: someone else's pending change must be settled first.
    throw new PreconditionFailedError(
      `${state.identifier} has modifications under way or pending (${pending.join('; ')}): applying the update now would apply them too; apply or cancel them first`,
      { identifier: state.identifier, pending },
    );
  }
  const settings = settingsOf(target, state, now());
  if (change?.pendingMaintenance === undefined) return settings;
  const pendingMaintenance = chosenActions(change.pendingMaintenance, await pendingMaintenanceOf(rds, state));
  return { ...settings, pendingMaintenance };
}

/** The captured shape of a settled state. Pure. */
export function settingsOf(target: RdsTarget, state: ChangeState, at: Date): CapturedSettings {
  return {
    target: target.name,
    type: state.type,
    identifier: state.identifier,
    ...(state.engineVersion !== undefined ? { engineVersion: state.engineVersion } : {}),
    ...(state.parameterGroup !== undefined ? { parameterGroup: state.parameterGroup } : {}),
    members: state.members.map((member) => ({
      identifier: member.identifier,
      ...(member.instanceClass !== undefined ? { instanceClass: member.instanceClass } : {}),
      ...(member.writer !== undefined ? { writer: member.writer } : {}),
    })),
    capturedAt: at.toISOString(),
  };
}

export interface RollbackCheckResult extends RollbackAssessment {
  readonly target: string;
  readonly identifier: string;
  readonly method: RdsRollbackCheckEvent['method'];
  /** The settings found now, as they were captured. */
  readonly found: CapturedSettings;
  /** Commands that put the rollback point's settings back by hand. */
  readonly manualCommands: string[];
}

/** `rds-rollback-check`: whether the change can be rolled back now, without side effects. */
export async function checkRdsRollback(
  rds: RDSClient,
  target: RdsTarget,
  event: RdsRollbackCheckEvent,
  now: () => Date = () => new Date(),
): Promise<RollbackCheckResult> {
  const state = await readChangeState(rds, target);
  const pendingNow =
    event.change.pendingMaintenance !== undefined ? await pendingMaintenanceOf(rds, state) : undefined;
  const assessment = assessRollback(event.change, event.captured, state, event.method, pendingNow);
  logger.info('Rollback assessed', { target: target.name, ...assessment });
  return {
    target: target.name,
    identifier: state.identifier,
    method: event.method,
    ...assessment,
    found: settingsOf(target, state, now()),
    manualCommands: manualCommands(event.change, event.captured, event.snapshotIdentifier),
  };
}

export interface RevertResult {
  readonly target: string;
  readonly identifier: string;
  readonly done: boolean;
  /** What this call sent. */
  readonly sent: string[];
  readonly rebooted: string[];
  readonly waitingFor: string[];
}

/** `rds-revert`: one step of putting the class and parameter group back; call again until done. */
export async function revertRdsChange(
  rds: RDSClient,
  target: RdsTarget,
  change: RdsChange,
  captured: CapturedSettings,
): Promise<RevertResult> {
  if (change.engineVersion !== undefined) {
    throw new PreconditionFailedError(
      `An engine version cannot be reverted in place (RDS does not downgrade): ${target.name} is rolled back by restoring its rollback snapshot`,
      { target: target.name },
    );
  }
  if (change.pendingMaintenance !== undefined) {
    throw new PreconditionFailedError(
      `Applied maintenance cannot be reverted in place: ${target.name} is rolled back by restoring its rollback snapshot`,
      { target: target.name },
    );
  }
  const state = await readChangeState(rds, target);
  const work = revertWork(change, captured, state);
  if (work.conflicts.length > 0) {
    throw new PreconditionFailedError(
      `Refusing to revert ${state.identifier}: someone else changed it during the rollback (${work.conflicts.join('; ')})`,
      { identifier: state.identifier, conflicts: work.conflicts },
    );
  }
  const sent: string[] = [];
  if (work.instance) {
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: state.identifier,
        DBInstanceClass: work.instance.instanceClass,
        DBParameterGroupName: work.instance.parameterGroup,
        ApplyImmediately: true,
      }),
    );
    if (work.instance.instanceClass) sent.push(`instanceClass:${work.instance.instanceClass}`);
    if (work.instance.parameterGroup) sent.push(`parameterGroup:${work.instance.parameterGroup}`);
  }
  if (work.clusterParameterGroup !== undefined) {
    await rds.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: state.identifier,
        DBClusterParameterGroupName: work.clusterParameterGroup,
        ApplyImmediately: true,
      }),
    );
    sent.push(`parameterGroup:${work.clusterParameterGroup}`);
  }
  for (const member of work.memberClasses) {
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: member.identifier,
        DBInstanceClass: member.instanceClass,
        ApplyImmediately: true,
      }),
    );
    sent.push(`instanceClass:${member.identifier}:${member.instanceClass}`);
  }
  for (const member of work.reboot) {
    logger.info('Rebooting to apply the restored parameter group', { identifier: member });
    await rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: member }));
  }
  logger.info(sent.length ? 'Reverting in place' : 'Revert under way or done', {
    target: target.name,
    sent,
    waitingFor: work.waitingFor,
  });
  const waiting = sent.length > 0 || work.reboot.length > 0;
  return {
    target: target.name,
    identifier: state.identifier,
    done: work.done,
    sent,
    rebooted: work.reboot,
    waitingFor: waiting ? [...work.waitingFor, 'the settings just sent'] : work.waitingFor,
  };
}
