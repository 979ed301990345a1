/**
 * Resource types the sandbox does not emulate. Nothing is created for them, but they get names
 * and ARNs as CloudFormation would give them, since modelled resources refer to them (a function's
 * log group, a rule's ARN in a permission, an alarm's in a rule), and they are listed in the
 * deployment's result with the reason.
 */
import type { DeployContext, ResolvedResource } from '../context.ts';
import type { NameRule } from '../names.ts';

interface NotModelledType {
  readonly reason: string;
  /** The property that names the resource, when it has one. */
  readonly nameProperty?: string;
  readonly rule?: NameRule;
  /** Fn::GetAtt values from the physical name. */
  readonly attributes?: (context: DeployContext, name: string) => Record<string, string>;
}

/** The types the deployer knows and deliberately does not create. */
export const NOT_MODELLED: Readonly<Record<string, NotModelledType>> = {
  'AWS::Logs::LogGroup': {
    reason:
      'function logs go to <data-dir>/lambda/logs/<region>/<function>.log, not to the sandbox CloudWatch Logs (which serves log groups written to it and Insights queries)',
    nameProperty: 'LogGroupName',
    rule: { maxLength: 512 },
    attributes: (context, name) => ({ Arn: context.arn('logs', `log-group:${name}:*`) }),
  },
  'AWS::CloudWatch::Alarm': {
    reason: 'the sandbox CloudWatch serves metric data only: the alarm never evaluates',
    nameProperty: 'AlarmName',
    rule: { maxLength: 255 },
    attributes: (context, name) => ({ Arn: context.arn('cloudwatch', `alarm:${name}`) }),
  },
  'AWS::CloudWatch::CompositeAlarm': {
    reason: 'the sandbox CloudWatch serves metric data only: the alarm never evaluates',
    nameProperty: 'AlarmName',
    rule: { maxLength: 255 },
    attributes: (context, name) => ({ Arn: context.arn('cloudwatch', `alarm:${name}`) }),
  },
  'AWS::CloudWatch::Dashboard': {
    reason: 'the sandbox CloudWatch serves metric data only: no dashboards',
    nameProperty: 'DashboardName',
    rule: { maxLength: 255 },
  },
  'AWS::CloudWatch::AnomalyDetector': {
    reason: 'the sandbox CloudWatch serves metric data only: no anomaly models (their alarms never evaluate)',
  },
  'AWS::Events::Rule': {
    reason: 'no EventBridge rules in the sandbox: nothing delivers the events this rule matches',
    nameProperty: 'Name',
    rule: { maxLength: 64 },
    attributes: (context, name) => ({ Arn: context.arn('events', `rule/${name}`) }),
  },
  'AWS::CDK::Metadata': { reason: 'CDK usage metadata for CloudFormation: nothing to create' },
};

/** Names a not-modelled resource (its name property is the only one resolved). */
export function identifyNotModelled(
  context: DeployContext,
  resource: ResolvedResource,
): { ref: string; attributes: Record<string, string>; physicalName?: string } {
  const spec = NOT_MODELLED[resource.type];
  if (!spec?.rule) return { ref: resource.logicalId, attributes: {} };
  const name = context.nameFor(resource, resource.properties[spec.nameProperty ?? ''], spec.rule);
  return { ref: name, physicalName: name, attributes: spec.attributes?.(context, name) ?? {} };
}
