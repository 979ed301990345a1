/**
 * The part of a config that flow inputs are checked against and planned from (FlowContext): the
 * stack hands it to flow-input through its environment, checks scheduled inputs against it at
 * synth, and the CLI checks `caretaker run` inputs against it — one derivation for all three.
 */
import type { FlowContext } from '../../functions/common/flows/context.ts';
import { resolveWindow } from '../../functions/common/time/maintenance-window.ts';
import type { CaretakerConfig } from './schema.ts';

export function flowContextOf(config: CaretakerConfig): FlowContext {
  return {
    environmentName: config.environment.name,
    backupSets: config.backupSets,
    rdsTargets: config.rdsTargets,
    lambdaFunctions: config.updates.lambdaFunctions,
    healthChecks: config.healthChecks,
    disasterRecovery: config.disasterRecovery,
    maintenanceWindow: resolveWindow(config.maintenanceWindow, config.environment.timeZone),
    databaseMaintenance: config.databaseMaintenance.map((entry) => entry.rdsTarget),
  };
}
