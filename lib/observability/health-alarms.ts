import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/common/runtime/service.ts';
import { nominalMillis, parseIsoDuration } from '../../functions/common/time/duration.ts';
import { freshnessCheckName, METRIC } from '../../functions/health-check/metric-names.ts';
import type { CaretakerConfig } from '../config/schema.ts';
import type { AlarmAlert, AlarmNotifications } from './alarm-notifications.ts';

/** The metric namespace and the dimensions every health-check metric carries. */
export const HEALTH_NAMESPACE = METRICS_NAMESPACE;
const FUNCTION_DIMENSIONS = { service: SERVICE_NAME, function: 'health-check' } as const;

export interface HealthAlarmsProps {
  readonly config: CaretakerConfig;
  /** Routes each alarm to notify (raised and cleared). */
  readonly notifications: AlarmNotifications;
}

/** A check the health function runs on schedule, as its metrics name it. */
export interface WatchedCheck {
  readonly name: string;
  readonly kind: 'http' | 'tls' | 'rds' | 'query' | 'freshness' | 'logs';
  /** What the check looks at, for the alert's "where". */
  readonly where: string;
  /** For freshness: the recovery-point objective in seconds. */
  readonly rpoSeconds?: number;
  /** For freshness: what is protected (a backup set or RDS target name) and the flow that makes its recovery points. */
  readonly protects?: { readonly name: string; readonly flow: AlarmAlert['flow'] };
}

/** The scheduled checks from config, with the names and kinds health-check publishes them under. */
export function watchedChecks(config: CaretakerConfig): WatchedCheck[] {
  const { healthChecks } = config;
  const rpoSeconds = (rpo: string) => nominalMillis(parseIsoDuration(rpo)!) / 1000;
  return [
    ...healthChecks.http.map((c) => ({ name: c.name, kind: 'http' as const, where: `${c.method} ${c.url}` })),
    ...healthChecks.tls.map((c) => ({
      name: c.name,
      kind: 'tls' as const,
      where: `TLS certificate of ${c.host}:${c.port}`,
    })),
    ...healthChecks.rds.map((c) => ({
      name: c.name,
      kind: 'rds' as const,
      where: `RDS ${c.type} ${c.identifier}`,
    })),
    ...healthChecks.queries.map((c) => ({
      name: c.name,
      kind: 'query' as const,
      where: `database ${c.database} of RDS target ${c.rdsTarget}`,
    })),
    ...healthChecks.logs.map((c) => ({
      name: c.name,
      kind: 'logs' as const,
      where: `log groups ${c.logGroups.join(', ')}`,
    })),
    ...(healthChecks.backupFreshness
      ? [
          ...config.backupSets.map((set) => ({
            name: freshnessCheckName.backupSet(set.name),
            kind: 'freshness' as const,
            where: `backup set ${set.name} (s3://${set.sourceBucket}/${set.prefix})`,
            rpoSeconds: rpoSeconds(set.rpo),
            protects: { name: set.name, flow: 'Backup' as const },
          })),
          ...config.rdsTargets.map((target) => ({
            name: freshnessCheckName.rdsTarget(target.name),
            kind: 'freshness' as const,
            where: `snapshots of RDS ${target.type} ${target.identifier}`,
            rpoSeconds: rpoSeconds(target.rpo),
            protects: { name: target.name, flow: 'RoutineMaintenance' as const },
          })),
        ]
      : []),
  ];
}

/** The alarm period: the health schedule's rate when it is one, else five minutes. */
export function healthPeriod(expression: string): Duration {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (!rate) return Duration.minutes(5);
  const value = Number(rate[1]);
  const unit = rate[2];
  return unit === 'minute'
    ? Duration.minutes(value)
    : unit === 'hour'
      ? Duration.hours(value)
      : Duration.days(value);
}

const ACTIONS: Readonly<Record<WatchedCheck['kind'], { failing: string; degraded: string }>> = {
  http: {
    failing:
      'Check the endpoint and its recent deployments; the alert evidence has the status codes and errors.',
    degraded: 'Latency or error rate is over its threshold: look at load, dependencies and recent changes.',
  },
  tls: {
    failing: 'The certificate has expired or cannot be read: renew or fix it now.',
    degraded: 'Renew the certificate before it expires (ACM or your CA).',
  },
  rds: {
    failing: 'The database is not available: check its status and events in the RDS console.',
    degraded: 'Maintenance is pending or the database is busy: schedule the maintenance window.',
  },
  query: {
    failing: 'The database query failed: check connectivity, credentials and the database.',
    degraded: 'The query returned fewer rows than expected: check the data.',
  },
  logs: {
    failing:
      'Half or more of the logged events are errors, or the logs cannot be queried: read the most frequent errors in the alert evidence and restore service.',
    degraded:
      'The error rate is over its threshold: read the most frequent errors in the alert evidence and look at recent changes.',
  },
  freshness: {
    failing:
      'No verified recovery point is younger than the RPO: check the last maintenance run and start a backup.',
    degraded: 'The newest recovery point is ageing: check the last maintenance run.',
  },
};

/**
 * Alarms on the health metrics: for every scheduled check one alarm when it fails (critical) and
 * one when it is degraded but not failing (warning), and one that goes off when health checks stop
 * reporting. All are routed through notify, so each condition alerts once when it starts and once
 * when it clears.
 *
 * "Not reporting" is also the alarm on the health-check function failing on its schedule (a run that
 * fails publishes no results). There is no alarm on the function's Errors metric: flows call it too
 * (with `failOn`, an unhealthy result is an error there, on purpose) and report that themselves.
 *
 * A freshness check fails exactly when no verified recovery point is younger than the RPO (or none
 * can be found), so its failing alarm IS the staleness alarm, worded as such; there is no second
 * alarm on `BackupAgeSeconds`, which would go off for the same incident (and miss a set without any
 * verified backup, whose age is not published).
 */
export class HealthAlarms extends Construct {
  /** Every alarm, by purpose, for dashboards and tests. */
  public readonly alarms: {
    readonly check: string;
    readonly purpose: string;
    readonly alarm: cloudwatch.Alarm;
  }[] = [];

  constructor(scope: Construct, id: string, props: HealthAlarmsProps) {
    super(scope, id);
    const { config, notifications } = props;
    const period = healthPeriod(config.schedules.health.expression);
    const flow = 'HealthCheck' as const;

    watchedChecks(config).forEach((check, index) => {
      const status = this.metric(METRIC.checkStatus, check, period, 'Minimum');
      const failing = new cloudwatch.Alarm(this, `Failing${index}`, {
        alarmDescription: `Health check ${check.name} (${check.kind}) is failing: ${check.where}`,
        metric: status,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.add(
        check,
        check.protects ? 'stale' : 'failing',
        failing,
        notifications,
        check.protects
          ? {
              severity: 'critical',
              flow: check.protects.flow,
              summary: `No verified recovery point of ${check.protects.name} within its RPO`,
              where: check.where,
              action: ACTIONS.freshness.failing,
            }
          : {
              severity: 'critical',
              flow,
              summary: `Health check ${check.name} is failing`,
              where: check.where,
              action: ACTIONS[check.kind].failing,
            },
      );

      // Degraded only (between fail and pass), so a failing check does not also raise this one.
      const degraded = new cloudwatch.Alarm(this, `Degraded${index}`, {
        alarmDescription: `Health check ${check.name} (${check.kind}) is degraded: ${check.where}`,
        metric: new cloudwatch.MathExpression({
          expression: 'IF(status > 0 AND status < 1, 1, 0)',
          usingMetrics: { status },
          period,
          label: `${check.name} degraded`,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.add(check, 'degraded', degraded, notifications, {
        severity: 'warning',
        flow,
        summary: `Health check ${check.name} is degraded`,
        where: check.where,
        action: ACTIONS[check.kind].degraded,
      });
    });

    if (config.schedules.health.enabled) {
      const silent = new cloudwatch.Alarm(this, 'NotReporting', {
        alarmDescription: 'Scheduled health checks have stopped reporting results.',
        metric: new cloudwatch.Metric({
          namespace: HEALTH_NAMESPACE,
          metricName: METRIC.healthy,
          dimensionsMap: FUNCTION_DIMENSIONS,
          statistic: 'SampleCount',
          period: Duration.minutes(Math.max(15, period.toMinutes() * 3)),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      this.add({ name: 'all', kind: 'http', where: '' }, 'not-reporting', silent, notifications, {
        severity: 'warning',
        flow,
        summary: 'Health checks have stopped reporting',
        where: 'the health-check function and its schedule',
        action:
          "Read the health-check function's log group (errors, timeouts) and check that the health schedule is enabled; until health runs again, health alarms cannot see new problems.",
      });
    }
  }

  /** The metric health-check publishes for `check`, with exactly the dimensions it emits. */
  private metric(name: string, check: WatchedCheck, period: Duration, statistic: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: HEALTH_NAMESPACE,
      metricName: name,
      dimensionsMap: { ...FUNCTION_DIMENSIONS, check: check.name, kind: check.kind },
      statistic,
      period,
    });
  }

  private add(
    check: WatchedCheck,
    purpose: string,
    alarm: cloudwatch.Alarm,
    notifications: AlarmNotifications,
    alert: AlarmAlert,
  ): void {
    notifications.route(alarm, alert);
    this.alarms.push({ check: check.name, purpose, alarm });
  }
}
