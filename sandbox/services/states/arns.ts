/**
 * Step Functions names and ARNs.
 */
import { AwsError } from '../../core/types.ts';

/** Names may not hold whitespace, brackets, wildcards, most punctuation or control characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the rule forbids.
const FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

/** Throws InvalidName unless `name` is a valid state machine or execution name. */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 80 || FORBIDDEN.test(name)) {
    throw new AwsError('InvalidName', `Invalid Name: '${String(name)}'`);
  }
  return name;
}

export function stateMachineArn(region: string, accountId: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
}

export function executionArn(region: string, accountId: string, machineName: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:execution:${machineName}:${name}`;
}

/** Throws InvalidArn unless `arn` is a Step Functions ARN of the given resource type. */
export function checkArn(arn: unknown, resource: 'stateMachine' | 'execution' | 'mapRun'): string {
  const pattern = new RegExp(`^arn:aws[\\w-]*:states:[\\w-]+:\\d{12}:${resource}:.+$`);
  if (typeof arn !== 'string' || !pattern.test(arn)) {
    throw new AwsError(
      'InvalidArn',
      `Invalid Arn: 'Resource type not valid in this context: ${String(arn)}'`,
    );
  }
  return arn;
}
