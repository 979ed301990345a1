/**
 * The flows that are state machines (a subset of the alert `flow` names, which also name
 * scheduled jobs such as HealthCheck). The state machine of flow F is `Caretaker-<environment>-F`.
 */
import type { FlowName } from '../alerts/alert-schema.ts';

export const STATE_MACHINE_FLOWS = [
  'RoutineMaintenance',
  'Backup',
  'Cleanup',
  'Update',
  'DisasterRecovery',
] as const satisfies readonly FlowName[];

export type StateMachineFlow = (typeof STATE_MACHINE_FLOWS)[number];

/** The state machine name of `flow` in environment `environmentName`. */
export function stateMachineName(environmentName: string, flow: StateMachineFlow): string {
  return `Caretaker-${environmentName}-${flow}`;
}

/** The ASL file of `flow`, under statemachines/: `RoutineMaintenance` → `routine-maintenance.asl.json`. */
export function flowFile(flow: StateMachineFlow): string {
  return `${flow.replace(/(?<=[a-z])(?=[A-Z])/g, '-').toLowerCase()}.asl.json`;
}

/** The runbook of `flow`, under docs/flows/: `RoutineMaintenance` → `routine-maintenance.md`. */
export function flowRunbook(flow: StateMachineFlow): string {
  return flowFile(flow).replace(/\.asl\.json$/, '.md');
}
