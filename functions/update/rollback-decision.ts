/**
 * What the rollback of an RDS change may do, decided purely from three pictures of the target:
 * its settings at the rollback point (`captured`), what the update asked for (`change`) and how it
 * is now (`state`). A rollback never overwrites what someone else changed meanwhile: a setting
 * the rollback would touch must hold either its rollback-point value or the update's value;
 * anything else is a conflict, and the rollback is refused with the commands that would put the
 * rollback-point values back by hand.
 */
import type { CapturedSettings, MaintenanceItem, RdsChange, RollbackMethod } from './input.ts';
import type { ChangeState, MemberState } from './rds-change.ts';

export type RollbackDecision =
  /** The target is still changing: look again after a wait. */
  | 'busy'
  /** Nothing the update asked for took effect: there is nothing to roll back. */
  | 'unchanged'
  /** Every difference from the rollback point is this update's: roll back. */
  | 'revert'
  /** Someone else changed a setting the rollback would touch: do not roll back. */
  | 'conflict';

export interface RollbackAssessment {
  readonly decision: RollbackDecision;
  /** What this update changed and the rollback puts back (`instance class of orders: db.r6g.large → db.r6g.xlarge`). */
  readonly changed: string[];
  /** What someone else changed. */
  readonly conflicts: string[];
  /** Why the target is busy. */
  readonly waitingFor: string[];
  readonly notes: string[];
}

/** One setting as the rollback sees it. */
interface Setting {
  readonly what: string;
  readonly original: string | undefined;
  readonly requested: string | undefined;
  readonly current: string | undefined;
  /** The update asked for this setting. */
  readonly inChange: boolean;
}

const shown = (value: string | undefined) => value ?? '(none)';

/** Why the target is not settled (status, pending values, parameters being applied). */
export function unsettled(state: ChangeState): string[] {
  const waiting: string[] = [];
  if (state.status !== 'available') waiting.push(`${state.identifier} is ${state.status}`);
  if (state.pendingEngineVersion !== undefined) {
    waiting.push(`${state.identifier} has engine version ${state.pendingEngineVersion} pending`);
  }
  for (const member of state.members) {
    if (state.type === 'cluster' && member.status !== 'available') {
      waiting.push(`${member.identifier} is ${member.status}`);
    }
    if (member.pendingClass !== undefined) {
      waiting.push(`${member.identifier} has class ${member.pendingClass} pending`);
    }
    if (member.parameterStatus === 'applying') waiting.push(`${member.identifier} is applying parameters`);
  }
  return waiting;
}

/** A pending-maintenance update that applies an engine upgrade (`db-upgrade`). */
const maintenanceUpgrades = (change: RdsChange, captured: CapturedSettings) =>
  change.pendingMaintenance !== undefined &&
  (captured.pendingMaintenance ?? []).some((item) => item.action === 'db-upgrade');

/** The settings a change can touch, with their three values. */
function settingsOf(change: RdsChange, captured: CapturedSettings, state: ChangeState): Setting[] {
  const settings: Setting[] = [
    // A db-upgrade the update applied moves the engine version to one RDS chose: this update's too.
    maintenanceUpgrades(change, captured)
      ? {
          what: `engine version of ${captured.identifier}`,
          original: captured.engineVersion,
          requested: state.engineVersion,
          current: state.engineVersion,
          inChange: true,
        }
      : {
          what: `engine version of ${captured.identifier}`,
          original: captured.engineVersion,
          requested: change.engineVersion,
          current: state.engineVersion,
          inChange: change.engineVersion !== undefined,
        },
    {
      what: `${captured.type === 'cluster' ? 'cluster parameter group' : 'parameter group'} of ${captured.identifier}`,
      original: captured.parameterGroup,
      requested: change.parameterGroup,
      current: state.parameterGroup,
      inChange: change.parameterGroup !== undefined,
    },
  ];
  for (const member of captured.members) {
    const now = state.members.find((m) => m.identifier === member.identifier);
    if (!now) continue;
    settings.push({
      what: `instance class of ${member.identifier}`,
      original: member.instanceClass,
      requested: change.instanceClass,
      current: now.instanceClass,
      inChange: change.instanceClass !== undefined,
    });
  }
  return settings;
}

/**
 * Whether and how the change can be rolled back now. In place, only the settings the update asked
 * for are touched, so only they must be unchanged by others; a restore replaces the whole
 * database, so every setting must still be the rollback point's or the update's.
 */
export function assessRollback(
  change: RdsChange,
  captured: CapturedSettings,
  state: ChangeState,
  method: RollbackMethod,
  pendingNow?: readonly MaintenanceItem[],
): RollbackAssessment {
  const waitingFor = unsettled(state);
  const changed: string[] = [];
  const conflicts: string[] = [];
  const notes: string[] = [];
  if (change.pendingMaintenance !== undefined) {
    const applied = maintenanceApplied(captured, pendingNow ?? []);
    changed.push(...applied.changed);
    waitingFor.push(...applied.waitingFor);
  }
  for (const member of captured.members) {
    if (!state.members.some((m) => m.identifier === member.identifier)) {
      conflicts.push(`${member.identifier} (a member at the rollback point) is gone`);
    }
  }
  for (const member of state.members) {
    if (!captured.members.some((m) => m.identifier === member.identifier)) {
      notes.push(`${member.identifier} joined after the rollback point: the rollback leaves it as it is`);
    }
  }
  for (const setting of settingsOf(change, captured, state)) {
    if (setting.current === setting.original) continue;
    if (setting.inChange && setting.current === setting.requested) {
      changed.push(`${setting.what}: ${shown(setting.original)} → ${shown(setting.requested)}`);
    } else if (!setting.inChange && method === 'in-place') {
      notes.push(
        `${setting.what} is ${shown(setting.current)}, not ${shown(setting.original)} as at the rollback point: someone else changed it; the rollback leaves it alone`,
      );
    } else {
      conflicts.push(
        `${setting.what} is ${shown(setting.current)}: neither ${shown(setting.original)} (the rollback point)${setting.inChange ? ` nor ${shown(setting.requested)} (this update)` : ''}`,
      );
    }
  }
  const decision: RollbackDecision =
    waitingFor.length > 0
      ? 'busy'
      : conflicts.length > 0
        ? 'conflict'
        : changed.length === 0
          ? 'unchanged'
          : 'revert';
  return { decision, changed, conflicts, waitingFor, notes };
}

/**
 * What a pending-maintenance update did, from the actions pending at the rollback point and those
 * pending now: an action no longer pending was applied (the restore takes it back); one still
 * opted in `immediate` is being applied (wait before restoring). Pure.
 */
export function maintenanceApplied(
  captured: CapturedSettings,
  pendingNow: readonly MaintenanceItem[],
): { changed: string[]; waitingFor: string[] } {
  const changed: string[] = [];
  const waitingFor: string[] = [];
  for (const item of captured.pendingMaintenance ?? []) {
    const now = pendingNow.find((p) => p.resourceArn === item.resourceArn && p.action === item.action);
    if (!now) changed.push(`maintenance ${item.action} applied to ${item.identifier}`);
    else if (now.optInStatus === 'immediate') {
      waitingFor.push(`maintenance ${item.action} on ${item.identifier} is being applied`);
    }
  }
  return { changed, waitingFor };
}

/** What `rds-revert` sends, reboots or waits for on this call. */
export interface RevertWork {
  /** Instance targets: the instance's class and/or parameter group back. */
  readonly instance?: { readonly instanceClass?: string; readonly parameterGroup?: string };
  /** Cluster targets: the cluster parameter group back. */
  readonly clusterParameterGroup?: string;
  /** Cluster members whose class goes back, readers first. */
  readonly memberClasses: readonly { readonly identifier: string; readonly instanceClass: string }[];
  /** Instances whose restored parameter group waits for a reboot. */
  readonly reboot: string[];
  readonly waitingFor: string[];
  readonly conflicts: string[];
  /** Every reverted setting is back, applied and settled. */
  readonly done: boolean;
}

type Step = 'ok' | 'send' | 'wait' | 'conflict';

/** One setting on its way back: already there, to send, under way, or someone else's. */
function stepOf(
  current: string | undefined,
  pending: string | undefined,
  original: string | undefined,
  requested: string | undefined,
  available: boolean,
): Step {
  if (pending !== undefined) return pending === original ? 'wait' : 'conflict';
  if (current === original) return 'ok';
  if (current === requested) return available ? 'send' : 'wait';
  return 'conflict';
}

/**
 * The next step of putting the captured class and parameter group back. Called again after each
 * wait until `done`, it re-reads everything, so a retried call never sends twice and a setting
 * someone changed in between is reported as a conflict rather than overwritten. The engine
 * version is not reverted in place (RDS does not downgrade): that is the restore's job.
 */
export function revertWork(change: RdsChange, captured: CapturedSettings, state: ChangeState): RevertWork {
  const waitingFor: string[] = [];
  const conflicts: string[] = [];
  const reboot: string[] = [];
  const memberClasses: { identifier: string; instanceClass: string }[] = [];
  const instance: { instanceClass?: string; parameterGroup?: string } = {};
  let clusterParameterGroup: string | undefined;
  const available = state.status === 'available';
  if (!available) waitingFor.push(`${state.identifier} is ${state.status}`);

  if (change.parameterGroup !== undefined) {
    const step = stepOf(
      state.parameterGroup,
      undefined,
      captured.parameterGroup,
      change.parameterGroup,
      available,
    );
    if (step === 'conflict') {
      conflicts.push(`parameter group of ${state.identifier} is ${shown(state.parameterGroup)}`);
    } else if (step === 'send' && captured.parameterGroup !== undefined) {
      if (state.type === 'cluster') clusterParameterGroup = captured.parameterGroup;
      else instance.parameterGroup = captured.parameterGroup;
    } else if (step === 'wait') {
      waitingFor.push(`parameter group of ${state.identifier} → ${shown(captured.parameterGroup)}`);
    } else if (step === 'ok') {
      for (const member of state.members) {
        if (member.parameterStatus === 'pending-reboot' && member.status === 'available') {
          reboot.push(member.identifier);
        } else if (member.parameterStatus !== undefined && member.parameterStatus !== 'in-sync') {
          waitingFor.push(`${member.identifier} parameters ${member.parameterStatus}`);
        }
      }
    }
  }

  if (change.instanceClass !== undefined) {
    const writers = new Set(state.members.filter((m) => m.writer).map((m) => m.identifier));
    for (const member of captured.members) {
      const now: MemberState | undefined = state.members.find((m) => m.identifier === member.identifier);
      if (!now) {
        conflicts.push(`${member.identifier} is gone`);
        continue;
      }
      const ready = now.status === 'available' && (state.type === 'cluster' || available);
      const step = stepOf(
        now.instanceClass,
        now.pendingClass,
        member.instanceClass,
        change.instanceClass,
        ready,
      );
      if (step === 'conflict') {
        conflicts.push(
          `instance class of ${member.identifier} is ${shown(now.pendingClass ?? now.instanceClass)}`,
        );
      } else if (step === 'wait') {
        waitingFor.push(`${member.identifier} class → ${shown(member.instanceClass)}`);
      } else if (step === 'send' && member.instanceClass !== undefined) {
        if (state.type === 'cluster') {
          memberClasses.push({ identifier: member.identifier, instanceClass: member.instanceClass });
        } else instance.instanceClass = member.instanceClass;
      }
    }
    // Readers first, the writer last: the cluster keeps a writer while the readers change class.
    memberClasses.sort((a, b) => Number(writers.has(a.identifier)) - Number(writers.has(b.identifier)));
  }

  const sends =
    Object.keys(instance).length > 0 || clusterParameterGroup !== undefined || memberClasses.length > 0;
  return {
    ...(Object.keys(instance).length > 0 ? { instance } : {}),
    ...(clusterParameterGroup !== undefined ? { clusterParameterGroup } : {}),
    memberClasses,
    reboot,
    waitingFor,
    conflicts,
    done: !sends && reboot.length === 0 && waitingFor.length === 0 && conflicts.length === 0,
  };
}

/**
 * The AWS CLI commands that put the rollback point's settings back by hand: in place for the
 * class and parameter group; for an engine version or applied maintenance, a restore of the rollback snapshot (then the
 * switch-over renames of docs/flows/update.md).
 */
export function manualCommands(
  change: RdsChange,
  captured: CapturedSettings,
  snapshotIdentifier?: string,
): string[] {
  const commands: string[] = [];
  const id = captured.identifier;
  if (change.engineVersion !== undefined || change.pendingMaintenance !== undefined) {
    const restored = `${id}-rollback`;
    const writer = captured.members.find((m) => m.writer) ?? captured.members[0];
    const snapshot = snapshotIdentifier ?? '<rollback snapshot>';
    if (captured.type === 'cluster') {
      commands.push(
        `aws rds restore-db-cluster-from-snapshot --db-cluster-identifier ${restored} --snapshot-identifier ${snapshot} --engine aurora-postgresql${captured.parameterGroup ? ` --db-cluster-parameter-group-name ${captured.parameterGroup}` : ''}`,
        `aws rds create-db-instance --db-instance-identifier ${restored}-writer --db-cluster-identifier ${restored} --engine aurora-postgresql --db-instance-class ${writer?.instanceClass ?? '<class>'}`,
      );
    } else {
      commands.push(
        `aws rds restore-db-instance-from-db-snapshot --db-instance-identifier ${restored} --db-snapshot-identifier ${snapshot}${writer?.instanceClass ? ` --db-instance-class ${writer.instanceClass}` : ''}${captured.parameterGroup ? ` --db-parameter-group-name ${captured.parameterGroup}` : ''}`,
      );
    }
    return commands;
  }
  if (captured.type === 'cluster') {
    if (change.parameterGroup !== undefined && captured.parameterGroup) {
      commands.push(
        `aws rds modify-db-cluster --db-cluster-identifier ${id} --db-cluster-parameter-group-name ${captured.parameterGroup} --apply-immediately`,
      );
    }
    if (change.instanceClass !== undefined) {
      const ordered = [...captured.members].sort(
        (a, b) => Number(a.writer === true) - Number(b.writer === true),
      );
      for (const member of ordered) {
        if (!member.instanceClass) continue;
        commands.push(
          `aws rds modify-db-instance --db-instance-identifier ${member.identifier} --db-instance-class ${member.instanceClass} --apply-immediately`,
        );
      }
    }
    return commands;
  }
  const instanceClass = change.instanceClass !== undefined ? captured.members[0]?.instanceClass : undefined;
  const parameterGroup = change.parameterGroup !== undefined ? captured.parameterGroup : undefined;
  if (instanceClass || parameterGroup) {
    commands.push(
      `aws rds modify-db-instance --db-instance-identifier ${id}${instanceClass ? ` --db-instance-class ${instanceClass}` : ''}${parameterGroup ? ` --db-parameter-group-name ${parameterGroup}` : ''} --apply-immediately`,
    );
  }
  return commands;
}
