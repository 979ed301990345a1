/**
 * What a flow's input is checked against and planned from: the part of the config that
 * `flow-input` receives from the stack (and that the CLI reads from the config file), so an input
 * naming a backup set or RDS target that is not configured is refused before anything runs.
 */
import * as z from 'zod';
import { backupSet, disasterRecovery, healthChecks } from '../config/config-sections.ts';
import { ENV } from '../contract.ts';
import { type RdsTarget, rdsTargetsFromEnv } from '../rds/rds-targets.ts';
import { timeZoneSchema } from '../retention/retention-policy.ts';
import { optionalEnv } from '../runtime/env.ts';
import { jsonEnv } from '../runtime/json-env.ts';
import { type MaintenanceWindow, maintenanceWindowSchema } from '../time/maintenance-window.ts';

export type BackupSet = z.output<typeof backupSet>;
export type HealthChecks = z.output<typeof healthChecks>;
export type DisasterRecoveryConfig = z.output<typeof disasterRecovery>;

export interface FlowContext {
  /** `environment.name`: what a failover must be confirmed with. */
  readonly environmentName: string;
  readonly backupSets: readonly BackupSet[];
  readonly rdsTargets: readonly RdsTarget[];
  /** Lambda functions (unqualified ARNs) whose aliases Update may shift. */
  readonly lambdaFunctions: readonly string[];
  /** The configured health checks (DisasterRecovery points the query checks at restored copies). */
  readonly healthChecks: HealthChecks;
  /** The `disasterRecovery` section: where and how DisasterRecovery restores. */
  readonly disasterRecovery: DisasterRecoveryConfig;
  /** The maintenance window, its time zone resolved; absent or null: none. */
  readonly maintenanceWindow?: MaintenanceWindow | null;
  /** RDS targets (names) whose databases routine maintenance maintains (`databaseMaintenance`). */
  readonly databaseMaintenance?: readonly string[];
}

/** Environment variables of `flow-input`, each the config section of the same meaning as JSON. */
export const FLOW_CONTEXT_ENV = {
  // Every Caretaker function already has it; the stack sets the same value again.
  environmentName: ENV.environmentName,
  backupSets: ENV.backupSets,
  rdsTargets: ENV.rdsTargets,
  lambdaFunctions: ENV.lambdaFunctions,
  healthChecks: ENV.healthChecks,
  disasterRecovery: ENV.disasterRecovery,
  maintenanceWindow: ENV.maintenanceWindow,
  databaseMaintenance: ENV.databaseMaintenanceTargets,
} as const satisfies Record<keyof FlowContext, string>;

/** Reads the context from the environment (at cold start). */
export function flowContextFromEnv(): FlowContext {
  return {
    // Without a name no failover can be confirmed (confirm must be non-empty): safe by default.
    environmentName: optionalEnv(FLOW_CONTEXT_ENV.environmentName, ''),
    backupSets: jsonEnv(FLOW_CONTEXT_ENV.backupSets, z.array(backupSet), '[]'),
    rdsTargets: rdsTargetsFromEnv(FLOW_CONTEXT_ENV.rdsTargets),
    lambdaFunctions: jsonEnv(FLOW_CONTEXT_ENV.lambdaFunctions, z.array(z.string()), '[]'),
    healthChecks: jsonEnv(FLOW_CONTEXT_ENV.healthChecks, healthChecks, '{}'),
    disasterRecovery: jsonEnv(FLOW_CONTEXT_ENV.disasterRecovery, disasterRecovery, '{}'),
    maintenanceWindow: jsonEnv(
      FLOW_CONTEXT_ENV.maintenanceWindow,
      maintenanceWindowSchema.extend({ timeZone: timeZoneSchema }).nullable(),
      'null',
    ),
    databaseMaintenance: jsonEnv(FLOW_CONTEXT_ENV.databaseMaintenance, z.array(z.string()), '[]'),
  };
}

/** The environment `flow-input` needs for a config's context (what the stack sets). */
export function flowContextEnvironment(
  context: FlowContext,
): Record<(typeof FLOW_CONTEXT_ENV)[keyof FlowContext], string> {
  return {
    [FLOW_CONTEXT_ENV.environmentName]: context.environmentName,
    [FLOW_CONTEXT_ENV.backupSets]: JSON.stringify(context.backupSets),
    [FLOW_CONTEXT_ENV.rdsTargets]: JSON.stringify(context.rdsTargets),
    [FLOW_CONTEXT_ENV.lambdaFunctions]: JSON.stringify(context.lambdaFunctions),
    [FLOW_CONTEXT_ENV.healthChecks]: JSON.stringify(context.healthChecks),
    [FLOW_CONTEXT_ENV.disasterRecovery]: JSON.stringify(context.disasterRecovery),
    [FLOW_CONTEXT_ENV.maintenanceWindow]: JSON.stringify(context.maintenanceWindow ?? null),
    [FLOW_CONTEXT_ENV.databaseMaintenance]: JSON.stringify(context.databaseMaintenance ?? []),
  };
}

/** A zod schema for a configured name among `names`, listing them when the name is unknown. */
export function oneOf(names: readonly string[], what: string): z.ZodType<string> {
  return z.string().refine((name) => names.includes(name), {
    message: names.length
      ? `expected a configured ${what} (${names.join(', ')})`
      : `no ${what} is configured`,
  });
}
