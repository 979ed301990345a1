/**
 * What Step Functions needs from IAM ("Actions, resources, and condition keys for AWS Step
 * Functions"), for the API the sandbox serves and for what a state machine does itself with its
 * role ("IAM policies for integrated services"):
 *
 * - API: the action on the state machine, execution or Map Run ARN; CreateStateMachine, and
 *   UpdateStateMachine with a new role, also need iam:PassRole on the role (iam:PassedToService
 *   states.amazonaws.com).
 * - Its own calls: lambda:InvokeFunction for Lambda tasks; for a nested execution
 *   states:StartExecution on the child, and with `.sync`/`.sync:2` states:DescribeExecution and
 *   states:StopExecution on the child execution plus events:PutTargets, events:PutRule and
 *   events:DescribeRule on the managed rule StepFunctionsGetEventsForStepFunctionsExecutionRule;
 *   for a Distributed Map, states:StartExecution on its own state machine (the children).
 */
import { type AccessCheck, check } from '../../core/access/checks.ts';

type Body = Readonly<Record<string, unknown>>;

function text(body: Body, field: string): string {
  const value = body[field];
  return typeof value === 'string' ? value : '*';
}

/** iam:PassRole, as a service that assumes the role on the caller's behalf requires. */
export function passRole(roleArn: string, service: string): AccessCheck {
  return check('iam:PassRole', { arn: roleArn, policyOf: null }, { 'iam:PassedToService': service });
}

/** The IAM checks of one Step Functions API operation. */
export function statesAccessChecks(
  operation: string,
  body: Body,
  scope: { readonly region: string; readonly accountId: string },
): AccessCheck[] {
  switch (operation) {
    case 'CreateStateMachine': {
      const arn = `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:${text(body, 'name')}`;
      return [
        check('states:CreateStateMachine', arn),
        passRole(text(body, 'roleArn'), 'states.amazonaws.com'),
      ];
    }
    case 'UpdateStateMachine': {
      const checks = [check('states:UpdateStateMachine', text(body, 'stateMachineArn'))];
      if (typeof body.roleArn === 'string') checks.push(passRole(body.roleArn, 'states.amazonaws.com'));
      return checks;
    }
    case 'ListStateMachines':
      return [check('states:ListStateMachines', '*')];
    case 'DescribeStateMachine':
    case 'DeleteStateMachine':
    case 'StartExecution':
      return [check(`states:${operation}`, text(body, 'stateMachineArn'))];
    case 'DescribeExecution':
    case 'DescribeStateMachineForExecution':
    case 'StopExecution':
    case 'GetExecutionHistory':
    case 'ListMapRuns':
      return [check(`states:${operation}`, text(body, 'executionArn'))];
    case 'ListExecutions':
      return [
        check(
          'states:ListExecutions',
          typeof body.mapRunArn === 'string' ? body.mapRunArn : text(body, 'stateMachineArn'),
        ),
      ];
    case 'DescribeMapRun':
      return [check('states:DescribeMapRun', text(body, 'mapRunArn'))];
    default:
      throw new Error(`No IAM mapping for the Step Functions operation ${operation}`);
  }
}

/** The rule Step Functions manages to learn that a `.sync` child execution ended. */
export function syncRuleArn(region: string, accountId: string): string {
  return `arn:aws:events:${region}:${accountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
}

/** What a `.sync`/`.sync:2` nested execution needs besides starting the child. */
export function syncRuleChecks(region: string, accountId: string): AccessCheck[] {
  const rule = { arn: syncRuleArn(region, accountId), policyOf: null };
  return ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((action) => check(action, rule));
}

/** Whether a definition runs nested executions that wait (`.sync`, `.sync:2`), anywhere in it. */
export function usesSyncExecution(definition: string): boolean {
  return /arn:aws[\w-]*:states:::states:startExecution\.sync/.test(definition);
}
