/**
 * What EventBridge Scheduler needs from IAM ("Actions, resources, and condition keys for Amazon
 * EventBridge Scheduler"): the action on the schedule's ARN (`schedule/<group>/<name>`);
 * CreateSchedule and UpdateSchedule also need iam:PassRole on the target's role. When a schedule
 * fires, its role must be allowed to start the target: states:StartExecution on a state machine,
 * lambda:InvokeFunction on a function.
 */
import { type AccessCheck, check } from '../../core/access/checks.ts';
import { functionTarget, invokeCheck } from '../lambda/authorization.ts';
import { passRole } from '../states/authorization.ts';

export interface ScheduleTarget {
  readonly region: string;
  readonly accountId: string;
  readonly group: string;
  readonly name: string;
  /** The target's RoleArn, for the operations that set it. */
  readonly roleArn?: string;
}

export function scheduleArn(target: ScheduleTarget): string {
  return `arn:aws:scheduler:${target.region}:${target.accountId}:schedule/${target.group}/${target.name}`;
}

/** The IAM checks of one Scheduler operation. */
export function schedulerAccessChecks(operation: string, target: ScheduleTarget | undefined): AccessCheck[] {
  if (operation === 'ListSchedules') return [check('scheduler:ListSchedules', '*')];
  if (target === undefined) throw new Error(`Scheduler ${operation} names no schedule`);
  const arn = { arn: scheduleArn(target), policyOf: null };
  switch (operation) {
    case 'CreateSchedule':
    case 'UpdateSchedule':
      return [
        check(`scheduler:${operation}`, arn),
        ...(target.roleArn === undefined ? [] : [passRole(target.roleArn, 'scheduler.amazonaws.com')]),
      ];
    case 'GetSchedule':
    case 'DeleteSchedule':
      return [check(`scheduler:${operation}`, arn)];
    default:
      throw new Error(`No IAM mapping for the Scheduler operation ${operation}`);
  }
}

/** What the schedule's role needs to deliver to its target: start the execution, or invoke the function. */
export function deliveryChecks(
  target:
    | { readonly kind: 'state-machine'; readonly arn: string }
    | { readonly kind: 'function'; readonly arn: string },
  defaults: { readonly region: string; readonly accountId: string },
): AccessCheck[] {
  return target.kind === 'state-machine'
    ? [check('states:StartExecution', target.arn)]
    : [invokeCheck(functionTarget(target.arn, undefined, defaults))];
}
