import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/common/runtime/service.ts';
import { METRIC } from '../../functions/health-check/metric-names.ts';
import type { CaretakerConfig } from '../config/schema.ts';
import type { AlarmNotifications } from './alarm-notifications.ts';
import { healthPeriod } from './health-alarms.ts';

export interface AnomalyAlarmsProps {
  readonly config: CaretakerConfig;
  /** Routes each alarm to notify (raised and cleared). */
  readonly notifications: AlarmNotifications;
}

const FIGURES = [
  { metric: METRIC.latencyP95, statistic: 'Maximum', what: 'p95 latency' },
  { metric: METRIC.errorRate, statistic: 'Maximum', what: 'error rate' },
] as const;

/**
 * CloudWatch anomaly-detection alarms (DESIGN §11) on the p95 latency and error rate of the HTTP
 * checks that ask for them (`anomalyDetection`): each goes off when the scheduled checks' value
 * stays above the band CloudWatch learned for it, and is routed through notify, so it alerts once
 * when it starts and once when it clears. Warnings: the thresholds' own alarms say when a check is
 * degraded or failing; these say "unusual for this time of day" before a threshold is crossed.
 */
export class AnomalyAlarms extends Construct {
  /** Every alarm, for tests. */
  public readonly alarms: {
    readonly check: string;
    readonly metric: string;
    readonly alarm: cloudwatch.Alarm;
  }[] = [];

  constructor(scope: Construct, id: string, props: AnomalyAlarmsProps) {
    super(scope, id);
    const { config, notifications } = props;
    const period = healthPeriod(config.schedules.health.expression);
    config.healthChecks.http.forEach((check, index) => {
      const settings = check.anomalyDetection;
      if (!settings) return;
      for (const figure of FIGURES) {
        const alarm = new cloudwatch.AnomalyDetectionAlarm(this, `${figure.metric}${index}`, {
          alarmDescription: `The ${figure.what} of health check ${check.name} is above its normal band: ${check.method} ${check.url}`,
          metric: new cloudwatch.Metric({
            namespace: METRICS_NAMESPACE,
            metricName: figure.metric,
            // Exactly the dimensions health-check emits for a scheduled (unlabelled) run.
            dimensionsMap: {
              service: SERVICE_NAME,
              function: 'health-check',
              check: check.name,
              kind: 'http',
            },
            statistic: figure.statistic,
            period,
          }),
          stdDevs: settings.bandWidth,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
          evaluationPeriods: settings.evaluationPeriods,
          datapointsToAlarm: settings.evaluationPeriods,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        notifications.route(alarm, {
          severity: 'warning',
          flow: 'HealthCheck',
          summary: `Unusual ${figure.what} on ${check.name}`,
          where: `${check.method} ${check.url}`,
          action: `The ${figure.what} left the band CloudWatch learned for this time of day. Look at load, dependencies and recent deployments before it crosses its threshold.`,
        });
        this.alarms.push({ check: check.name, metric: figure.metric, alarm });
      }
    });
  }
}
