import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { alertSchema } from '../../functions/common/alerts/alert-schema.ts';
import { buildStack } from '../support/stack.ts';

type Template = ReturnType<typeof buildStack>['template'];
let template: Template;

beforeAll(() => {
  ({ template } = buildStack());
});

function onlyId(type: string, props: Record<string, unknown>): string {
  const ids = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

const notifyId = () =>
  onlyId('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('Publishes Caretaker alerts') });

/** The rules whose event pattern names `alarmId`, keyed by the state they react to. */
function rulesFor(alarmId: string) {
  const rules = template.findResources('AWS::Events::Rule');
  return Object.values(rules).filter((rule) =>
    JSON.stringify(rule.Properties.EventPattern.resources).includes(alarmId),
  );
}

describe('alarm routing', () => {
  it('announces the dead-letter alarm through notify when it goes off and when it clears', () => {
    const alarm = onlyId('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible' });
    const rules = rulesFor(alarm);

    expect(rules.map((rule) => rule.Properties.EventPattern.detail)).toEqual([
      { state: { value: ['ALARM'] } },
      { state: { value: ['OK'] }, previousState: { value: ['ALARM'] } },
    ]);
    for (const rule of rules) {
      expect(rule.Properties.EventPattern.source).toEqual(['aws.cloudwatch']);
      const [target] = rule.Properties.Targets;
      expect(target.Arn).toEqual({ 'Fn::GetAtt': [notifyId(), 'Arn'] });
      const inputTemplate = JSON.stringify(target.InputTransformer.InputTemplate);
      expect(inputTemplate).toContain('\\"severity\\":\\"critical\\"');
      expect(inputTemplate).toContain('\\"flow\\":\\"RoutineMaintenance\\"');
      // The alarm's reason is inserted as a whole JSON value, so EventBridge escapes it.
      expect(inputTemplate).toContain('\\"reason\\":<detail-state-reason>');
      expect(target.DeadLetterConfig).toBeDefined();
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 });
    }
  });

  it('builds an input that notify accepts once EventBridge fills in an alarm event', () => {
    const alarm = onlyId('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible' });
    const event = {
      time: '2026-11-21T02:05:00Z',
      detail: {
        alarmName: 'dlq-alarm',
        state: { value: 'ALARM', reason: 'Threshold "0" crossed: 1 datapoint [3.0]' },
      },
    };
    for (const rule of rulesFor(alarm)) {
      const { InputPathsMap, InputTemplate } = rule.Properties.Targets[0].InputTransformer;
      // Resolve the template's Fn::Join with a stand-in for the queue name, then do what
      // EventBridge does: put each path's JSON value where its placeholder stands.
      const parts = InputTemplate['Fn::Join'][1] as unknown[];
      let text = parts.map((part) => (typeof part === 'string' ? part : 'queue-name')).join('');
      for (const [name, path] of Object.entries(InputPathsMap as Record<string, string>)) {
        const value = path
          .slice(2)
          .split('.')
          .reduce<any>((node, key) => node?.[key], event);
        text = text.replaceAll(`<${name}>`, JSON.stringify(value));
      }

      const parsed = alertSchema.safeParse(JSON.parse(text));

      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      expect(parsed.data?.evidence?.reason).toBe('Threshold "0" crossed: 1 datapoint [3.0]');
    }
  });

  it('does not give the routed alarm an SNS action of its own (no attribute-less duplicate)', () => {
    const alarm = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesVisible' }),
    });

    expect(Object.values(alarm)[0]?.Properties.AlarmActions).toBeUndefined();
  });

  it('sends the alarm on notify errors straight to the topic, since notify cannot report itself', () => {
    const topic = onlyId('AWS::SNS::Topic', {});
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: notifyId() } }],
      AlarmActions: [{ Ref: topic }],
      OKActions: [{ Ref: topic }],
    });
  });

  it('lets EventBridge invoke notify and write to the encrypted dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [notifyId(), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowEventBridgeDeadLettersToUseTheKey',
            Principal: { Service: 'events.amazonaws.com' },
          }),
        ]),
      },
    });
  });
});
