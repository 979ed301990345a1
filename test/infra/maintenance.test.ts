/**
 * The stack with the maintenance beyond backups configured (DESIGN §11): a window, a log check with
 * anomaly alarms on an HTTP check, a maintained database and escalation levels. Properties of what
 * is deployed (IAM scoped to what each function reads, subscriptions filtered per level, alarms
 * routed through notify), and cdk-nag with no unacknowledged finding for this config too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack, exampleConfig } from '../support/stack.ts';

const SECRET = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:orders-maintenance';

function config() {
  const c = exampleConfig() as any;
  c.maintenanceWindow = { start: '01:30', durationMinutes: 240 };
  c.healthChecks.http[0].anomalyDetection = { bandWidth: 3 };
  c.healthChecks.logs = [{ name: 'api-logs', logGroups: ['/aws/lambda/orders-api'] }];
  c.healthChecks.queries = [
    {
      name: 'orders-rows',
      rdsTarget: 'orders',
      database: 'orders',
      user: 'reader',
      passwordSecretArn: SECRET,
      query: 'SELECT 1',
    },
  ];
  c.databaseMaintenance = [{ rdsTarget: 'orders', queryCheck: 'orders-rows', vacuum: true }];
  c.alerts.escalation = {
    levels: [
      { respondWithinMinutes: 15, subscriptions: [{ protocol: 'sms', endpoint: '+4915112345678' }] },
      { respondWithinMinutes: 30, subscriptions: [{ protocol: 'email', endpoint: 'lead@example.com' }] },
    ],
  };
  return c;
}

let built: ReturnType<typeof buildStack>;
const statementsOf = (prefix: string): any[] => {
  const roleId = Object.keys(built.template.findResources('AWS::IAM::Role')).find((id) =>
    id.startsWith(prefix),
  )!;
  return Object.values(built.template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => built.stack.resolve(policy.Properties.PolicyDocument.Statement));
};
const flat = (value: unknown) => JSON.stringify(value);

beforeAll(() => {
  built = buildStack(config(), { nag: true });
}, 180_000);

describe('maintenance beyond backups in the stack', () => {
  it('passes cdk-nag with no unacknowledged finding', () => {
    const report = join(built.assemblyDirectory, 'validation-report.json');
    const violations = existsSync(report)
      ? JSON.parse(readFileSync(report, 'utf8')).pluginReports.flatMap((p: any) => p.violations)
      : [];

    expect(violations).toEqual([]);
  });

  it('gives flow-input the window with its time zone resolved, and the databases to maintain', () => {
    built.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MAINTENANCE_WINDOW: Match.stringLikeRegexp('"start":"01:30".*"timeZone":"Europe/Berlin"'),
          DATABASE_MAINTENANCE_TARGETS: '["orders"]',
        }),
      },
    });
  });

  it('lets health-check start Insights queries on the configured log groups only', () => {
    const statements = statementsOf('HealthCheckFunctionRole');
    const start = statements.find((s) => s.Action === 'logs:StartQuery');

    expect(flat(start.Resource)).toContain('log-group:/aws/lambda/orders-api');
    expect(flat(start.Resource)).not.toMatch(/log-group:\*/);
  });

  it('lets the task statistics read the history of the five Caretaker state machines only', () => {
    const statements = statementsOf('MaintenanceTaskStatisticsRole');
    const list = statements.find((s) => s.Action === 'states:ListExecutions');

    expect(list.Resource).toHaveLength(5);
    expect(flat(list.Resource)).toContain('stateMachine:Caretaker-example-RoutineMaintenance');
    expect(flat(statements)).toContain('execution:Caretaker-example-Update:*');
  });

  it('gives db-maintenance the query check’s connection and its secret, nothing else', () => {
    built.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DATABASE_MAINTENANCE: Match.stringLikeRegexp(
            `"database":"orders","user":"reader","passwordSecretArn":"${SECRET}"`,
          ),
        }),
      },
    });
    const secret = statementsOf('MaintenanceDatabaseMaintenanceRole').find(
      (s) => s.Action === 'secretsmanager:GetSecretValue',
    );
    expect(secret.Resource).toEqual([SECRET, `${SECRET}-??????`]);
  });

  it('lets security-maintenance read the rotation of the stack key and the DR copy key', () => {
    const statements = flat(statementsOf('MaintenanceSecurityMaintenanceRole'));

    expect(statements).toContain('kms:GetKeyRotationStatus');
    expect(statements).toContain('arn:aws:kms:eu-west-1:111122223333:key/1234abcd');
    expect(statements).toContain('rds:DescribePendingMaintenanceActions');
  });

  it('puts anomaly-detection alarms on the check’s p95 latency and error rate, above the band only', () => {
    const alarms = Object.values(
      built.template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { ComparisonOperator: 'GreaterThanUpperThreshold' },
      }),
    );

    expect(alarms).toHaveLength(2);
    for (const alarm of alarms) {
      expect(flat(alarm.Properties.Metrics)).toContain('ANOMALY_DETECTION_BAND(m0, 3)');
    }
    expect(
      alarms
        .map((a) => a.Properties.Metrics.find((m: any) => m.MetricStat).MetricStat.Metric.MetricName)
        .sort(),
    ).toEqual(['ErrorRate', 'LatencyP95']);
  });

  it('subscribes level 1 to every critical alert and level 2 to its pages', () => {
    built.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sms',
      Endpoint: '+4915112345678',
      FilterPolicy: { severity: ['critical'] },
    });
    built.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'lead@example.com',
      FilterPolicy: { escalation: ['level-2'] },
    });
  });

  it('runs escalation every 5 minutes with the levels, and alarms when it fails', () => {
    const fn = built.stack.escalation!.function;
    built.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: Match.objectLike({ Arn: built.stack.resolve(fn.fn.functionArn) }),
    });
    built.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ESCALATION_LEVELS: '[{"respondWithinMinutes":15},{"respondWithinMinutes":30}]',
        }),
      },
    });
    built.template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'Caretaker: The escalation function failed',
    });
  });
});
