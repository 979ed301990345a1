/**
 * What a flow's input is checked against and planned from: the part of the config that
 * `flow-input` receives from the stack (and that the CLI reads from the config file), so an input
 * naming a backup set or RDS target that is not configured is refused before anything runs.
 */
import * as z from 'zod';
import { backupSet, healthChecks } from '../config-sections.ts';
import { jsonEnv } from '../json-env.ts';
import { type RdsTarget, rdsTargetsFromEnv } from '../rds-targets.ts';

export type BackupSet = z.output<typeof backupSet>;
export type HealthChecks = z.output<typeof healthChecks>;

export interface FlowContext {
  readonly backupSets: readonly BackupSet[];
  readonly rdsTargets: readonly RdsTarget[];
  /** Lambda functions (unqualified ARNs) whose aliases Update may shift. */
  readonly lambdaFunctions: readonly string[];
  /**
   * The configured health checks (the config's `healthChecks`), which Update runs before and after
   * a change, all or the ones its input names.
   * @default - none
   */
  readonly healthChecks?: HealthChecks;
}

/** Environment variables of `flow-input`, each the config section of the same meaning as JSON. */
export const FLOW_CONTEXT_ENV = {
  backupSets: 'BACKUP_SETS',
  rdsTargets: 'RDS_TARGETS',
  lambdaFunctions: 'LAMBDA_FUNCTIONS',
  healthChecks: 'HEALTH_CHECKS',
} as const satisfies Record<keyof FlowContext, string>;

/** Reads the context from the environment (at cold start). */
export function flowContextFromEnv(): FlowContext {
  return {
    backupSets: jsonEnv(FLOW_CONTEXT_ENV.backupSets, z.array(backupSet), '[]'),
    rdsTargets: rdsTargetsFromEnv(FLOW_CONTEXT_ENV.rdsTargets),
    lambdaFunctions: jsonEnv(FLOW_CONTEXT_ENV.lambdaFunctions, z.array(z.string()), '[]'),
    healthChecks: jsonEnv(FLOW_CONTEXT_ENV.healthChecks, healthChecks, '{}'),
  };
}

/** The environment `flow-input` needs for a config's context (what the stack sets). */
export function flowContextEnvironment(context: FlowContext): Record<string, string> {
  return {
    [FLOW_CONTEXT_ENV.backupSets]: JSON.stringify(context.backupSets),
    [FLOW_CONTEXT_ENV.rdsTargets]: JSON.stringify(context.rdsTargets),
    [FLOW_CONTEXT_ENV.lambdaFunctions]: JSON.stringify(context.lambdaFunctions),
    [FLOW_CONTEXT_ENV.healthChecks]: JSON.stringify(context.healthChecks ?? {}),
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
