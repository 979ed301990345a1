import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CAPACITY_METRIC } from '../../functions/capacity/metric-names.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/common/runtime/service.ts';
import { METRIC } from '../../functions/health-check/metric-names.ts';
import { STATISTICS_METRIC } from '../../functions/task-statistics/metric-names.ts';
import type { WatchedCheck } from './health-alarms.ts';

/** A flow shown on the dashboard. */
export interface DashboardFlow {
  readonly name: string;
  readonly stateMachine: sfn.IStateMachine;
}

export interface CaretakerDashboardProps {
  readonly environmentName: string;
  /** The scheduled health checks (from config), as health-check publishes them. */
  readonly checks: readonly WatchedCheck[];
  /** The deployed flows. */
  readonly flows: readonly DashboardFlow[];
  /** Manual snapshot quota per region, drawn as a line over the snapshot count. */
  readonly snapshotQuota: number;
  /**
   * The kinds of manual snapshots the RDS targets make (rds-snapshot counts each kind against its
   * own quota and publishes it with a `snapshotType` dimension).
   * @default ['instance']
   */
  readonly snapshotTypes?: readonly ('instance' | 'cluster')[];
  /** RDS targets (names) whose storage forecast to show. @default [] */
  readonly capacityTargets?: readonly string[];
  /** Warning and critical days-until-full thresholds, drawn on the forecast. */
  readonly capacityThresholds?: { readonly warnDays: number; readonly criticalDays: number };
}

const fnMetric = (
  fn: string,
  name: string,
  extra: Record<string, string>,
  statistic: string,
  period: Duration,
) =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME, function: fn, ...extra },
    statistic,
    period,
  });

/**
 * The Caretaker dashboard: health per check, newest backup age per set against its RPO, managed
 * snapshots against the quota, flow outcomes, and the last DR drill's RTO and RPO.
 */
export class CaretakerDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: CaretakerDashboardProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `Caretaker-${props.environmentName}`,
      defaultInterval: Duration.days(1),
    });

    const statusChecks = props.checks.filter((check) => check.kind !== 'freshness');
    const freshness = props.checks.filter((check) => check.kind === 'freshness');

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# Caretaker ${props.environmentName}\nHealth status per check is 1 when passing, 0.5 when degraded, 0 when failing. Alarms notify the alert topic when a condition starts and when it clears.`,
        width: 24,
        height: 2,
      }),
    );

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Health status per check (1 pass, 0.5 degraded, 0 fail)',
        left: statusChecks.map((check) =>
          fnMetric(
            'health-check',
            METRIC.checkStatus,
            { check: check.name, kind: check.kind },
            'Minimum',
            period,
          ).with({
            label: `${check.name} (${check.kind})`,
          }),
        ),
        leftYAxis: { min: 0, max: 1, showUnits: false },
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Newest verified backup age (hours) against the RPO',
        left: freshness.map(
          (check, index) =>
            new cloudwatch.MathExpression({
              expression: `age${index} / 3600`,
              usingMetrics: {
                [`age${index}`]: fnMetric(
                  'health-check',
                  METRIC.backupAgeSeconds,
                  { check: check.name, kind: 'freshness' },
                  'Maximum',
                  period,
                ),
              },
              label: check.name,
              period,
            }),
        ),
        leftAnnotations: [...new Set(freshness.map((check) => check.rpoSeconds ?? 0))].map((rpo) => ({
          value: rpo / 3600,
          label: `RPO ${rpo / 3600} h`,
          color: cloudwatch.Color.RED,
        })),
        leftYAxis: { min: 0, showUnits: false },
        width: 12,
        height: 6,
      }),
    );

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Manual DB snapshots in this region against the quota',
        // One line per kind: rds-snapshot publishes the count with both `region` and `snapshotType`.
        left: (props.snapshotTypes ?? ['instance']).map((type) =>
          fnMetric(
            'rds-snapshot',
            'ManualSnapshotCount',
            { region: Aws.REGION, snapshotType: type },
            'Maximum',
            Duration.hours(1),
          ).with({
            label: `manual ${type === 'cluster' ? 'cluster ' : ''}snapshots`,
          }),
        ),
        leftAnnotations: [
          { value: props.snapshotQuota, label: `quota ${props.snapshotQuota}`, color: cloudwatch.Color.RED },
        ],
        leftYAxis: { min: 0, showUnits: false },
        width: 8,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Flow outcomes',
        left: props.flows.flatMap((flow) => [
          flow.stateMachine.metricSucceeded({ period: Duration.hours(1), label: `${flow.name} succeeded` }),
          flow.stateMachine.metricFailed({ period: Duration.hours(1), label: `${flow.name} failed` }),
          flow.stateMachine.metricTimedOut({ period: Duration.hours(1), label: `${flow.name} timed out` }),
          flow.stateMachine.metricAborted({ period: Duration.hours(1), label: `${flow.name} aborted` }),
        ]),
        stacked: false,
        width: 8,
        height: 6,
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Last DR drill (within 100 days)',
        metrics: [
          fnMetric('report', 'DrillRtoSeconds', {}, 'Maximum', Duration.days(1)).with({ label: 'RTO (s)' }),
          fnMetric('report', 'DrillRpoSeconds', {}, 'Maximum', Duration.days(1)).with({ label: 'RPO (s)' }),
        ],
        start: '-P100D',
        width: 8,
        height: 6,
      }),
    );

    this.addMaintenanceWidgets(props);
  }

  /** What routine maintenance measures beyond backups (DESIGN §11): storage, log errors, task statistics. */
  private addMaintenanceWidgets(props: CaretakerDashboardProps): void {
    const daily = Duration.days(1);
    const thresholds = props.capacityThresholds;
    const logChecks = props.checks.filter((check) => check.kind === 'logs');
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Days until storage is full (routine maintenance forecast)',
        left: (props.capacityTargets ?? []).map((target) =>
          fnMetric('capacity', CAPACITY_METRIC.daysUntilFull, { target }, 'Minimum', daily).with({
            label: target,
          }),
        ),
        leftAnnotations: thresholds
          ? [
              {
                value: thresholds.warnDays,
                label: `warning ${thresholds.warnDays} days`,
                color: cloudwatch.Color.ORANGE,
              },
              {
                value: thresholds.criticalDays,
                label: `critical ${thresholds.criticalDays} days`,
                color: cloudwatch.Color.RED,
              },
            ]
          : [],
        leftYAxis: { min: 0, showUnits: false },
        start: '-P30D',
        width: 8,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Log error rate (%) per log analysis check',
        left: logChecks.map((check) =>
          fnMetric(
            'health-check',
            METRIC.logErrorRate,
            { check: check.name, kind: 'logs' },
            'Maximum',
            Duration.minutes(5),
          ).with({
            label: check.name,
          }),
        ),
        leftYAxis: { min: 0, showUnits: false },
        width: 8,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Task failures and retries per flow (last 30 days, from task statistics)',
        left: props.flows.flatMap((flow) => [
          fnMetric(
            'task-statistics',
            STATISTICS_METRIC.flowTaskFailures,
            { flow: flow.name },
            'Maximum',
            daily,
          ).with({
            label: `${flow.name} failed runs`,
          }),
          fnMetric(
            'task-statistics',
            STATISTICS_METRIC.flowTaskRetries,
            { flow: flow.name },
            'Maximum',
            daily,
          ).with({
            label: `${flow.name} retries`,
          }),
        ]),
        leftYAxis: { min: 0, showUnits: false },
        start: '-P30D',
        width: 8,
        height: 6,
      }),
    );
  }
}
