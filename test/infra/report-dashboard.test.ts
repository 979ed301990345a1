import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack } from '../support/stack.ts';

type Built = ReturnType<typeof buildStack>;
let template: Built['template'];
let stack: Built['stack'];

beforeAll(() => {
  ({ template, stack } = buildStack());
});

/** The dashboard body with CloudFormation intrinsics flattened to text. */
function dashboardBody(): any {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body = stack.resolve(dashboard!.Properties.DashboardBody);
  const text = (body['Fn::Join'][1] as unknown[])
    .map((part) => (typeof part === 'string' ? part : 'TOKEN'))
    .join('');
  return JSON.parse(text);
}

describe('report function', () => {
  it('may write and tag objects under reports/ only, and publish to the topic', () => {
    const bucket = Object.keys(
      template.findResources('AWS::S3::Bucket', {
        Properties: { VersioningConfiguration: { Status: 'Enabled' }, ObjectLockEnabled: true },
      }),
    )[0]!;
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['s3:PutObject', 's3:PutObjectTagging'],
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/reports/*']] },
          }),
        ]),
      },
    });
  });

  it('gets the bucket, topic and environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('maintenance report'),
      Environment: {
        Variables: Match.objectLike({
          BACKUP_BUCKET: Match.anyValue(),
          ALERT_TOPIC_ARN: Match.anyValue(),
          CARETAKER_ENVIRONMENT: 'example',
        }),
      },
    });
  });
});

describe('dashboard', () => {
  const widgets = () => dashboardBody().widgets as { type: string; properties: any }[];
  const titled = (title: string) => widgets().find((w) => w.properties.title?.startsWith(title));

  it('shows the health status of every scheduled check', () => {
    const metrics = titled('Health status per check')!.properties.metrics as unknown[][];
    const checks = metrics.map((m) => m[m.indexOf('check') + 1]);

    expect(checks).toEqual(['api', 'api-cert', 'orders-db']);
  });

  it('shows the newest backup age per set and target against the RPO', () => {
    const widget = titled('Newest verified backup age')!;

    expect(JSON.stringify(widget.properties.metrics)).toContain('backup-set:uploads');
    expect(JSON.stringify(widget.properties.metrics)).toContain('rds-target:orders');
    expect(widget.properties.annotations.horizontal).toEqual([
      expect.objectContaining({ value: 26, label: 'RPO 26 h' }),
    ]);
  });

  it('shows managed snapshots against the quota', () => {
    const widget = titled('Manual DB snapshots')!;

    expect(JSON.stringify(widget.properties.metrics)).toContain('ManualSnapshotCount');
    expect(widget.properties.annotations.horizontal[0].value).toBe(100);
  });

  it('shows the last DR drill RTO and RPO over the last 100 days', () => {
    const widget = titled('Last DR drill')!;

    expect(widget.type).toBe('metric');
    expect(JSON.stringify(widget.properties.metrics)).toMatch(/DrillRtoSeconds.*DrillRpoSeconds/);
    expect(widget.properties.start).toBe('-P100D');
  });

  it('has a flow outcomes panel', () => {
    expect(titled('Flow outcomes')).toBeDefined();
  });
});
