/**
 * The RDS targets of the config, as functions receive them (environment variable `RDS_TARGETS`,
 * the config's `rdsTargets` as JSON). Validated with the config's own schema, so a function reads
 * exactly what synth accepted.
 */
import * as z from 'zod';
import { rdsTarget } from '../config/config-sections.ts';
import { ENV, type EnvVariable } from '../contract.ts';
import { jsonEnv } from '../runtime/json-env.ts';

/** One RDS target: name, instance or cluster, identifier, retention policy, optional DR copy. */
export const rdsTargetSchema = rdsTarget;
export type RdsTarget = z.output<typeof rdsTargetSchema>;

/** Reads `RDS_TARGETS` (a JSON array of targets; `[]` when unset). */
export function rdsTargetsFromEnv(name: EnvVariable = ENV.rdsTargets): RdsTarget[] {
  return jsonEnv(name, z.array(rdsTargetSchema), '[]');
}

/**
 * A zod schema for an event's `target` field: one of the configured target names, so an unknown
 * target fails validation (before any side effect) with the known names listed.
 */
export function targetNameSchema(targets: readonly RdsTarget[]): z.ZodType<string> {
  const names = targets.map((target) => target.name);
  return z.string().refine((name) => names.includes(name), {
    message: names.length
      ? `expected a configured RDS target (${names.join(', ')})`
      : `no RDS targets are configured (${ENV.rdsTargets} is empty)`,
  });
}

/** The configured target of that name (the event schema has already checked it exists). */
export function targetNamed(targets: readonly RdsTarget[], name: string): RdsTarget {
  const target = targets.find((candidate) => candidate.name === name);
  if (!target) throw new Error(`RDS target ${name} is not configured`);
  return target;
}
