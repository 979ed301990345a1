/**
 * health-check: runs the configured checks (or the event's override) concurrently, returns
 * `healthy / degraded / unhealthy` with every check's evidence, publishes one metric per check,
 * and as a flow step with `failOn` throws UnhealthyError so the flow can Catch it.
 */
import type { Context } from 'aws-lambda';
import { ENV, type EnvVariable } from '#common/contract';
import { cloudWatchLogs, rds, rdsIn, s3 } from '#common/runtime/clients';
import { MissingEnvironmentError, optionalEnv, requireEnv } from '#common/runtime/env';
import { UnhealthyError } from '#common/runtime/errors';
import { caretakerHandler } from '#common/runtime/middleware';
import { logger } from '#common/runtime/observability';
import { parseOrThrow } from '#common/runtime/validation';
import { checkSetSchema, eventSchema, type HealthCheckEvent, resolvePlan } from './check-set.ts';
import { describeProblems, type HealthResult, isAtLeast } from './evaluate.ts';
import { metricPoints, publishMetrics } from './metrics.ts';
import { buildChecks, type ProbeDeps } from './plan.ts';
import type { DatabaseTls } from './probes/query.ts';
import { evaluateChecks } from './runner.ts';
import { cachedPasswords, readSecretString } from './secrets.ts';

/** Time kept back from the Lambda deadline to publish metrics and return the result. */
const DEADLINE_MARGIN_MS = 3000;

function jsonEnv(name: EnvVariable): unknown {
  const raw = requireEnv(name);
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new MissingEnvironmentError(
      `Environment variable ${name} is not valid JSON: ${(error as Error).message}`,
    );
  }
}

const DATABASE_TLS_MODES: Readonly<Record<string, DatabaseTls>> = {
  // Node verifies the chain and the host name; the RDS CA bundle comes from NODE_EXTRA_CA_CERTS.
  'verify-full': { rejectUnauthorized: true },
  require: { rejectUnauthorized: false },
  disable: false,
};

function databaseTls(): DatabaseTls {
  const mode = optionalEnv(ENV.databaseTls, 'verify-full');
  const tls = DATABASE_TLS_MODES[mode];
  if (tls === undefined) {
    throw new MissingEnvironmentError(
      `Environment variable ${ENV.databaseTls} must be verify-full, require or disable, got "${mode}"`,
    );
  }
  return tls;
}

const CHECK_SET = parseOrThrow(
  checkSetSchema,
  jsonEnv(ENV.healthChecks),
  `${ENV.healthChecks} environment variable`,
);
const DEPS: ProbeDeps = {
  rds: (region) => (region ? rdsIn(region) : rds()),
  s3,
  logs: cloudWatchLogs,
  // The stack gives the bucket only when freshness is configured; an on-demand run that asks for
  // freshness without it fails that check, naming the variable (plan.ts), not the whole function.
  ...(CHECK_SET.backupSets.length > 0 && CHECK_SET.backupFreshness
    ? { backupBucket: requireEnv(ENV.backupBucket) }
    : {}),
  password: cachedPasswords(readSecretString),
  databaseTls: databaseTls(),
};
const EVENT_SCHEMA = eventSchema(CHECK_SET.rdsTargets.map((target) => target.name));

/** Runs the checks, publishes the metrics, and returns the result (or throws per `failOn`). */
export async function checkHealth(event: HealthCheckEvent, context: Context): Promise<HealthResult> {
  // Runs against anything but the configured checks are labelled, so they never move the scheduled checks' alarms.
  const label = event.label ?? (event.checks ? 'on-demand' : undefined);
  const plan = resolvePlan(CHECK_SET, event.checks, event.logsWindowMinutes);
  const result = await evaluateChecks(buildChecks(plan, DEPS), {
    deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
    ...(label ? { label } : {}),
  });
  publishMetrics(metricPoints(result, label));

  const problems = describeProblems(result);
  const summary = {
    status: result.status,
    checks: result.checks.length,
    problems,
    durationMs: result.durationMs,
  };
  if (result.status === 'healthy') logger.info('Health checked', summary);
  else logger.warn('Health checked', summary);

  if (event.failOn && isAtLeast(result.status, event.failOn)) {
    throw new UnhealthyError(`Health is ${result.status}: ${problems.join('; ')}`, { result });
  }
  return result;
}

export const handler = caretakerHandler('health-check', EVENT_SCHEMA, checkHealth);
