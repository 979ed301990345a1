import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { CaretakerFunction } from '../functions/caretaker-function.ts';

/**
 * An alarm on a function's errors: any error in a 5-minute period. Flows retry transient errors
 * themselves, so an error that reaches this metric is one that a person should look at.
 */
export function functionErrorsAlarm(
  scope: Construct,
  id: string,
  fn: CaretakerFunction,
  name: string,
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: `The Caretaker ${name} function failed (see its log group ${fn.logGroup.logGroupName}).`,
    metric: fn.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
