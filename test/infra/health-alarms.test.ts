import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack, exampleConfig } from '../support/stack.ts';

type Built = ReturnType<typeof buildStack>;
let template: Built['template'];

beforeAll(() => {
  ({ template } = buildStack());
});

const dims = (check: string, kind: string) => [
  { Name: 'check', Value: check },
  { Name: 'function', Value: 'health-check' },
  { Name: 'kind', Value: kind },
  { Name: 'service', Value: 'caretaker' },
];

/** Alarms on `metricName` whose dimensions are exactly `expected`. */
function alarmsOn(metricName: string, expected: { Name: string; Value: string }[]) {
  const sorted = (list: { Name: string }[]) => [...list].sort((a, b) => a.Name.localeCompare(b.Name));
  return Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([, alarm]) => {
    const props = alarm.Properties;
    const metrics = props.Metrics
      ? props.Metrics.map((m: any) => m.MetricStat?.Metric).filter(Boolean)
      : [props];
    return metrics.some(
      (m: any) =>
        m.MetricName === metricName &&
        JSON.stringify(sorted(m.Dimensions ?? [])) === JSON.stringify(expected),
    );
  });
}

function routedRules(alarmId: string) {
  return Object.values(template.findResources('AWS::Events::Rule')).filter((rule) =>
    JSON.stringify(rule.Properties.EventPattern.resources).includes(alarmId),
  );
}

describe('health-check function', () => {
  it('gets the configured checks, backup sets and RDS targets in HEALTH_CHECKS', () => {
    const fns = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^Checks endpoints') },
    });
    const env = Object.values(fns)[0]!.Properties.Environment.Variables;
    const checks = JSON.parse(env.HEALTH_CHECKS);

    expect(checks.http[0]).toMatchObject({
      name: 'api',
      url: 'https://api.example.com/health',
      latencyThresholdMs: 200,
    });
    expect(checks.backupSets).toEqual([{ name: 'uploads', rpo: 'PT26H' }]);
    expect(checks.rdsTargets).toEqual([
      { name: 'orders', type: 'instance', identifier: 'orders-prod', rpo: 'PT26H' },
    ]);
    expect(env.BACKUP_BUCKET).toBeDefined();
  });

  it('may describe only the watched RDS instance and list only the backup prefix', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['s3:ListBucket', 's3:ListBucketVersions'],
            Condition: { StringLike: { 's3:prefix': ['backups/*'] } },
          }),
          Match.objectLike({
            Action: Match.arrayWith(['rds:DescribeDBInstances', 'rds:DescribePendingMaintenanceActions']),
            Resource: Match.arrayWith([
              {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':rds:',
                    { Ref: 'AWS::Region' },
                    ':',
                    { Ref: 'AWS::AccountId' },
                    ':db:orders-prod',
                  ],
                ],
              },
            ]),
          }),
        ]),
      },
    });
  });

  it('runs on the health schedule in the configured time zone', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      Target: Match.objectLike({
        Input: '{}',
        RetryPolicy: { MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 300 },
      }),
    });
  });
});

describe('health alarms', () => {
  it('raise a critical alert through notify when a check fails two runs in a row', () => {
    const [[alarmId, alarm]] = alarmsOn('CheckStatus', dims('api', 'http')).filter(
      ([, a]) => a.Properties.ComparisonOperator === 'LessThanOrEqualToThreshold',
    ) as [[string, any]];

    expect(alarm.Properties).toMatchObject({
      Threshold: 0,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Statistic: 'Minimum',
      Period: 300,
    });
    const rules = routedRules(alarmId);
    expect(rules).toHaveLength(2);
    const input = JSON.stringify(rules[0]!.Properties.Targets[0].InputTransformer.InputTemplate);
    expect(input).toContain('\\"severity\\":\\"critical\\"');
    expect(input).toContain('Health check api is failing');
    expect(input).toContain('GET https://api.example.com/health');
  });

  it('raise a warning only while a check is degraded but not failing', () => {
    const degraded = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
      (alarm.Properties.Metrics ?? []).some(
        (m: any) => m.Expression === 'IF(status > 0 AND status < 1, 1, 0)',
      ),
    );

    // One per scheduled check: http api, tls api-cert, rds orders-db, freshness of uploads and orders.
    expect(degraded).toHaveLength(5);
  });

  it('alarm when a TLS certificate check fails or is degraded (expiring soon)', () => {
    expect(alarmsOn('CheckStatus', dims('api-cert', 'tls'))).toHaveLength(2);
  });

  it('alarm once on backup staleness: the freshness check failing, worded as a stale backup', () => {
    const [[alarmId, alarm]] = alarmsOn('CheckStatus', dims('backup-set:uploads', 'freshness')).filter(
      ([, a]) => a.Properties.ComparisonOperator === 'LessThanOrEqualToThreshold',
    ) as [[string, any]];
    const input = JSON.stringify(
      routedRules(alarmId)[0]!.Properties.Targets[0].InputTransformer.InputTemplate,
    );

    expect(alarm.Properties).toMatchObject({ Threshold: 0, EvaluationPeriods: 2, Statistic: 'Minimum' });
    expect(input).toContain('No verified recovery point of uploads within its RPO');
    expect(input).toContain('\\"flow\\":\\"Backup\\"');
    expect(
      JSON.stringify(
        routedRules(alarmsOn('CheckStatus', dims('rds-target:orders', 'freshness'))[0]![0])[0]!.Properties
          .Targets[0].InputTransformer.InputTemplate,
      ),
    ).toContain('No verified recovery point of orders within its RPO');
  });

  it('do not alarm on the backup age as well, which would alert the same incident twice', () => {
    expect(alarmsOn('BackupAgeSeconds', dims('backup-set:uploads', 'freshness'))).toEqual([]);
    expect(alarmsOn('BackupAgeSeconds', dims('rds-target:orders', 'freshness'))).toEqual([]);
  });

  it("do not alarm on the health-check function's errors: flows call it too and report its failures", () => {
    const errors = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) =>
        a.Properties.MetricName === 'Errors' &&
        JSON.stringify(a.Properties.Dimensions).includes('HealthCheckFunction'),
    );

    expect(errors).toEqual([]);
  });

  it('warn when health checks stop reporting', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Healthy',
      Statistic: 'SampleCount',
      TreatMissingData: 'breaching',
      ComparisonOperator: 'LessThanThreshold',
    });
  });

  it('leave out the not-reporting alarm when the health schedule is disabled', () => {
    const config = exampleConfig();
    config.schedules!.health = { expression: 'rate(5 minutes)', enabled: false };
    const { template: disabled } = buildStack(config);

    expect(
      Object.keys(
        disabled.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Healthy' } }),
      ),
    ).toEqual([]);
  });

  it('use the health schedule rate as the alarm period', () => {
    const config = exampleConfig();
    config.schedules!.health = { expression: 'rate(15 minutes)' };
    const { template: slower } = buildStack(config);

    slower.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CheckStatus', Period: 900 });
  });
});
