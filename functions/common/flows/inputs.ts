/**
 * Every flow's input schema, by flow: the one definition that the flow's first state (through
 * `flow-input`), the CLI (`caretaker run`) and the docs use. Each schema is strict (an unknown
 * field is an error, so a misspelt `dryrun` cannot silently mean something else) and its output
 * is the run's plan: the input with defaults applied and the configured resources it names.
 */
import type * as z from 'zod';
import { backupFlowInput } from './backup-input.ts';
import { cleanupFlowInput } from './cleanup-input.ts';
import type { FlowContext } from './context.ts';
import { disasterRecoveryFlowInput } from './disaster-recovery-input.ts';
import type { StateMachineFlow } from './names.ts';
import { routineMaintenanceFlowInput } from './routine-maintenance-input.ts';
import { updateFlowInput } from './update-input.ts';

/** The schema of each flow's input, given the config it runs with. */
export const FLOW_INPUTS: { readonly [F in StateMachineFlow]: (context: FlowContext) => z.ZodType } = {
  Backup: backupFlowInput,
  Cleanup: cleanupFlowInput,
  Update: updateFlowInput,
  DisasterRecovery: disasterRecoveryFlowInput,
  RoutineMaintenance: routineMaintenanceFlowInput,
};

/** The input schema of `flow`. */
export function flowInputSchema(flow: StateMachineFlow, context: FlowContext): z.ZodType {
  return FLOW_INPUTS[flow](context);
}
