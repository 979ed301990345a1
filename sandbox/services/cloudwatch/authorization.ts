/**
 * What each CloudWatch metrics operation the sandbox serves needs from IAM ("Actions, resources,
 * and condition keys for Amazon CloudWatch"): GetMetricData, ListMetrics and PutMetricData have no
 * resource-level permissions (`*`); PutMetricData supplies `cloudwatch:namespace`, so a policy can
 * limit which namespaces a caller publishes to.
 */
import { type AccessCheck, check } from '../../core/access/checks.ts';

/** The IAM checks of one CloudWatch operation. */
export function cloudWatchAccessChecks(
  operation: string,
  body: Readonly<Record<string, unknown>>,
): AccessCheck[] {
  switch (operation) {
    case 'GetMetricData':
    case 'ListMetrics':
      return [check(`cloudwatch:${operation}`, '*')];
    case 'PutMetricData':
      return [
        check('cloudwatch:PutMetricData', '*', {
          'cloudwatch:namespace': typeof body.Namespace === 'string' ? body.Namespace : '',
        }),
      ];
    default:
      throw new Error(`No IAM mapping for the CloudWatch operation ${operation}`);
  }
}
