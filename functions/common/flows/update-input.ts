/**
 * The Update flow's input: one RDS change on a configured target, or one Lambda alias canary on a
 * configured function, and the health checks that judge it. The change itself is checked with the
 * update function's own schemas, so the flow and the function can never disagree on what a valid
 * change is.
 *
 * The plan says everything the state machine branches on, so the ASL reads data and derives
 * nothing: which kind of update, how it is rolled back (`rollbackMethod`: `in-place` for an
 * instance class or a parameter group; `restore` of the rollback snapshot as soon as an engine
 * version is part of the change, since RDS does not downgrade; `alias` for a canary), the health
 * checks to run, how many post-update checks make the stabilisation window, and the poll
 * schedules.
 */
import * as z from 'zod';
import {
  aliasName,
  DEFAULT_STEPS,
  functionName,
  type RdsChange,
  type RollbackMethod,
  rdsChangeSchema,
  stepsSchema,
  version,
} from '../../update/input.ts';
import { describeWindow, localTime, windowAt } from '../time/maintenance-window.ts';
import { type FlowContext, type HealthChecks, oneOf } from './context.ts';
import { type PollSchedule, pollSchedules } from './polling.ts';

/** Minutes of post-update health checks when the input gives none. */
export const DEFAULT_STABILIZATION_MINUTES = 10;
/** Minutes a canary step bakes before its health check, when the input gives none. */
export const DEFAULT_BAKE_MINUTES = 5;
/** Seconds between two post-update health checks of the stabilisation window. */
export const STABILIZATION_INTERVAL_SECONDS = 60;

/** `checkout` for `arn:aws:lambda:…:function:checkout`. */
const functionNameOf = (arn: string) => arn.slice(arn.lastIndexOf(':') + 1);

/** A configured function, by its unqualified ARN or its name; read as the configured ARN. */
function configuredFunction(configured: readonly string[]) {
  const find = (given: string) =>
    configured.find((arn) => arn === given || functionNameOf(arn) === given) ?? given;
  return functionName
    .refine((given) => configured.some((arn) => arn === given || functionNameOf(arn) === given), {
      message: configured.length
        ? `expected a function of updates.lambdaFunctions (${configured.map(functionNameOf).join(', ')})`
        : 'no function is configured in updates.lambdaFunctions',
    })
    .transform(find);
}

/** The configured checks of the given names (every check when none are named). */
function selectedChecks(configured: HealthChecks, names: readonly string[] | undefined) {
  const pick = <T extends { name: string }>(checks: readonly T[]) =>
    names ? checks.filter((check) => names.includes(check.name)) : [...checks];
  return {
    http: pick(configured.http),
    tls: pick(configured.tls),
    rds: pick(configured.rds),
    queries: pick(configured.queries),
    // The recovery points' age says nothing about whether this change broke the service.
    backupFreshness: false,
  };
}

const countOf = (checks: ReturnType<typeof selectedChecks>) =>
  checks.http.length + checks.tls.length + checks.rds.length + checks.queries.length;

/**
 * How a change is rolled back: in place, unless an engine version (which RDS cannot downgrade) is
 * part of it or it applies pending maintenance (a patch cannot be taken off): then by restore.
 */
export function rollbackMethodOf(change: RdsChange): RollbackMethod {
  return change.engineVersion !== undefined || change.pendingMaintenance !== undefined
    ? 'restore'
    : 'in-place';
}

const NO_CHECKS = { http: [], tls: [], rds: [], queries: [], backupFreshness: true };

/** `now` is when the input is checked (the run's start), for the maintenance window. */
export const updateFlowInput = (context: FlowContext, now: () => Date = () => new Date()) => {
  const health = context.healthChecks ?? NO_CHECKS;
  const checkNames = [...health.http, ...health.tls, ...health.rds, ...health.queries].map((c) => c.name);
  const targets = context.rdsTargets;
  return z
    .object({
      /** An RDS change: a configured target and what to change on it. */
      rds: z
        .object({
          target: oneOf(
            targets.map((target) => target.name),
            'RDS target',
          ),
          change: rdsChangeSchema,
        })
        .strict()
        .optional(),
      /** A Lambda alias canary: a configured function, its alias, the version to move to, and how. */
      lambda: z
        .object({
          functionName: configuredFunction(context.lambdaFunctions),
          alias: aliasName,
          targetVersion: version,
          /** Percent of invocations on the target version at each step, ending at 100. */
          steps: stepsSchema.default([...DEFAULT_STEPS]),
          /** Minutes each step runs before its health check. */
          bakeMinutes: z.number().int().min(0).max(1440).default(DEFAULT_BAKE_MINUTES),
        })
        .strict()
        .optional(),
      /** RDS: minutes of health checks (one a minute) after the change is applied. */
      stabilizationMinutes: z.number().int().min(0).max(1440).optional(),
      /** Names of configured health checks to judge the update by; default: all of them. */
      healthChecks: z.array(oneOf(checkNames, 'health check')).min(1).optional(),
      /** Update although the maintenance window is closed. */
      force: z.boolean().default(false),
    })
    .strict()
    .superRefine((input, ctx) => {
      const window = context.maintenanceWindow;
      if (window && !input.force) {
        const instant = now().getTime();
        const state = windowAt(window, instant);
        if (!state.open) {
          ctx.addIssue({
            code: 'custom',
            path: ['force'],
            message: `the maintenance window (${describeWindow(window)}) is closed at ${localTime(window.timeZone, instant)}; it next opens at ${localTime(window.timeZone, state.next.opensAt)} ${window.timeZone} (${new Date(state.next.opensAt).toISOString()}). Start then, or give "force": true to update now`,
          });
        }
      }
      if ((input.rds === undefined) === (input.lambda === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: input.rds ? ['lambda'] : ['rds'],
          message: 'expected exactly one of rds (an RDS change) and lambda (an alias canary)',
        });
      }
      if (input.lambda && input.stabilizationMinutes !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['stabilizationMinutes'],
          message: 'applies to RDS changes; a canary checks health after each step (lambda.bakeMinutes)',
        });
      }
      const unknownNames = (input.healthChecks ?? []).some((name) => !checkNames.includes(name));
      if (!unknownNames && countOf(selectedChecks(health, input.healthChecks)) === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['healthChecks'],
          message:
            'no health check is configured (healthChecks.http, tls, rds or queries): an update could not be judged, so it does not start',
        });
      }
    })
    .transform((input) => {
      const checks = selectedChecks(health, input.healthChecks);
      const polls = pollSchedules();
      const poll: Record<string, PollSchedule> = {
        snapshot: polls.snapshot,
        modify: polls.modify,
        restore: polls.restore,
        rename: polls.rename,
      };
      const common = {
        health: {
          names: [...checks.http, ...checks.tls, ...checks.rds, ...checks.queries].map((c) => c.name),
          checks,
        },
        polls: poll,
      };
      if (input.rds) {
        const target = targets.find((candidate) => candidate.name === input.rds!.target)!;
        const minutes = input.stabilizationMinutes ?? DEFAULT_STABILIZATION_MINUTES;
        return {
          kind: 'rds' as const,
          request: {
            target: target.name,
            identifier: target.identifier,
            type: target.type,
            change: input.rds.change,
            stabilizationMinutes: minutes,
            healthChecks: common.health.names,
          },
          rds: {
            target: target.name,
            type: target.type,
            identifier: target.identifier,
            change: input.rds.change,
          },
          rollbackMethod: rollbackMethodOf(input.rds.change),
          lambda: null,
          // A check right after the change, then one a minute until the window has passed.
          stabilization: {
            rounds: Math.floor((minutes * 60) / STABILIZATION_INTERVAL_SECONDS) + 1,
            round: 0,
            intervalSeconds: STABILIZATION_INTERVAL_SECONDS,
          },
          ...common,
        };
      }
      const lambda = input.lambda!;
      return {
        kind: 'lambda' as const,
        request: {
          target: lambda.functionName,
          alias: lambda.alias,
          targetVersion: lambda.targetVersion,
          steps: lambda.steps,
          bakeMinutes: lambda.bakeMinutes,
          healthChecks: common.health.names,
        },
        rds: null,
        lambda: {
          functionName: lambda.functionName,
          alias: lambda.alias,
          targetVersion: lambda.targetVersion,
          steps: lambda.steps,
          bakeSeconds: lambda.bakeMinutes * 60,
          step: 0,
        },
        rollbackMethod: 'alias' as const,
        stabilization: null,
        ...common,
      };
    });
};
