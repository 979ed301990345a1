/**
 * What each Lambda operation the sandbox serves needs from IAM ("Actions, resources, and condition
 * keys for AWS Lambda"): the action on the function's ARN — qualified with the version or alias
 * when the request names one (Invoke, GetFunction, GetFunctionConfiguration), which is why a grant
 * covers `function:name` and `function:name:*` — with the function's resource policy (its
 * AWS::Lambda::Permission statements, stored under the unqualified ARN) applying to both.
 * ListFunctions supports no resource-level permissions.
 */
import { type AccessCheck, check } from '../../core/access/checks.ts';
import { functionArn, parseFunctionReference } from './names.ts';

/** A function reference (name, partial or full ARN, `name:qualifier`) as its ARN parts. */
export interface FunctionTarget {
  readonly region: string;
  readonly accountId: string;
  readonly name: string;
  readonly qualifier?: string;
}

function on(action: string, target: FunctionTarget, qualified: boolean): AccessCheck {
  const unqualified = functionArn(target.region, target.accountId, target.name);
  const arn = qualified
    ? functionArn(target.region, target.accountId, target.name, target.qualifier)
    : unqualified;
  return check(action, { arn, policyOf: unqualified });
}

/** The function a FunctionName (and Qualifier) names, in the request's region and account by default. */
export function functionTarget(
  functionName: string,
  qualifier: string | undefined,
  defaults: { readonly region: string; readonly accountId: string },
): FunctionTarget {
  const reference = parseFunctionReference(functionName, qualifier);
  return {
    region: reference.region ?? defaults.region,
    accountId: reference.accountId ?? defaults.accountId,
    name: reference.name,
    ...(reference.qualifier === undefined ? {} : { qualifier: reference.qualifier }),
  };
}

/** lambda:InvokeFunction, as Invoke and the services that invoke (Step Functions, Scheduler) need it. */
export function invokeCheck(target: FunctionTarget): AccessCheck {
  return on('lambda:InvokeFunction', target, true);
}

/** The IAM checks of one Lambda operation; `target` is the function the path names. */
export function lambdaAccessChecks(operation: string, target: FunctionTarget | undefined): AccessCheck[] {
  if (operation === 'ListFunctions') return [check('lambda:ListFunctions', '*')];
  if (target === undefined) throw new Error(`Lambda ${operation} names no function`);
  switch (operation) {
    case 'Invoke':
      return [invokeCheck(target)];
    case 'GetFunction':
    case 'GetFunctionConfiguration':
      return [on(`lambda:${operation}`, target, true)];
    case 'PublishVersion':
    case 'ListVersionsByFunction':
    case 'CreateAlias':
    case 'ListAliases':
    case 'GetAlias':
    case 'UpdateAlias':
    case 'DeleteAlias':
      return [on(`lambda:${operation}`, target, false)];
    default:
      throw new Error(`No IAM mapping for the Lambda operation ${operation}`);
  }
}
