/**
 * One Powertools Logger, Metrics and Tracer for every Caretaker function.
 *
 * The service name is shared so logs, metrics and traces from all functions group together;
 * each function adds its own name as a persistent log key and a metric dimension.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { ENV } from '../contract.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from './service.ts';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({
  serviceName: SERVICE_NAME,
  namespace: process.env[ENV.powertoolsMetricsNamespace] ?? METRICS_NAMESPACE,
});
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/** Correlation keys appended to every log line of the current invocation. */
export interface CorrelationKeys {
  readonly executionId?: string;
  readonly backupId?: string;
  readonly snapshotId?: string;
  readonly flow?: string;
}

/** Appends correlation keys (execution id, backup id, snapshot id) to every later log line. */
export function correlate(keys: CorrelationKeys): void {
  const defined = Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined));
  logger.appendKeys(defined);
}
