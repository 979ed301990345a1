/**
 * What each CloudWatch Logs operation the sandbox serves needs from IAM ("Actions, resources, and
 * condition keys for Amazon CloudWatch Logs"): the action on the log group (`log-group:<name>`), on
 * the log stream for PutLogEvents, on every queried log group for StartQuery; GetQueryResults and
 * StopQuery have no resource-level permissions.
 */
import { type AccessCheck, check, requestTagContext } from '../../core/access/checks.ts';

export interface LogsScope {
  readonly region: string;
  readonly accountId: string;
}

export function logGroupArn(scope: LogsScope, name: string): string {
  return `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:${name}`;
}

type Body = Readonly<Record<string, unknown>>;
const text = (body: Body, field: string) => (typeof body[field] === 'string' ? (body[field] as string) : '');

/** The log groups a StartQuery names (by name or by identifier: a name or an ARN). */
export function queriedGroups(body: Body): string[] {
  const names = [
    ...(typeof body.logGroupName === 'string' ? [body.logGroupName] : []),
    ...(Array.isArray(body.logGroupNames) ? (body.logGroupNames as string[]) : []),
    ...(Array.isArray(body.logGroupIdentifiers) ? (body.logGroupIdentifiers as string[]) : []),
  ];
  return names.map((name) => /:log-group:([^:]+)/.exec(name)?.[1] ?? name);
}

/** The IAM checks of one CloudWatch Logs operation. */
export function logsAccessChecks(operation: string, body: Body, scope: LogsScope): AccessCheck[] {
  const group = () => logGroupArn(scope, text(body, 'logGroupName'));
  switch (operation) {
    case 'CreateLogGroup': {
      const tags = Object.entries((body.tags ?? {}) as Record<string, string>);
      return [check('logs:CreateLogGroup', group(), tags.length > 0 ? requestTagContext(tags) : undefined)];
    }
    case 'CreateLogStream':
      return [check('logs:CreateLogStream', group())];
    case 'PutLogEvents':
      return [check('logs:PutLogEvents', `${group()}:log-stream:${text(body, 'logStreamName')}`)];
    case 'DescribeLogGroups':
      return [check('logs:DescribeLogGroups', logGroupArn(scope, '*'))];
    case 'StartQuery':
      return [
        {
          action: 'logs:StartQuery',
          resources: queriedGroups(body).map((name) => ({ arn: logGroupArn(scope, name) })),
        },
      ];
    case 'GetQueryResults':
    case 'StopQuery':
      return [check(`logs:${operation}`, '*')];
    default:
      throw new Error(`No IAM mapping for the CloudWatch Logs operation ${operation}`);
  }
}
