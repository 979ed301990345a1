/**
 * Lambda function identifiers: a name, a full ARN or a partial ARN, each optionally qualified by
 * a version or alias (`name:live`, `arn:…:function:name:3`).
 */
import { AwsError } from '../../core/types.ts';

/** The pattern AWS documents for the FunctionName parameter of Invoke. */
const FUNCTION_NAME =
  /^(?:arn:(aws[a-zA-Z-]*)?:lambda:)?(?:([a-z]{2}(?:-gov)?-[a-z]+-\d):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9_.-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;

export interface FunctionReference {
  readonly name: string;
  readonly qualifier?: string;
  readonly region?: string;
  readonly accountId?: string;
}

/** Parses a FunctionName parameter; an explicit `qualifier` must agree with one in the name. */
export function parseFunctionReference(value: string, qualifier?: string): FunctionReference {
  const match = FUNCTION_NAME.exec(value);
  if (!match || value.length > 170) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value '${value}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${FUNCTION_NAME.source}`,
    );
  }
  const [, , region, accountId, name, inName] = match;
  if (inName !== undefined && qualifier !== undefined && inName !== qualifier) {
    throw new AwsError(
      'InvalidParameterValueException',
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  }
  const resolvedQualifier = inName ?? qualifier;
  return {
    name: name ?? value,
    ...(resolvedQualifier !== undefined ? { qualifier: resolvedQualifier } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(accountId !== undefined ? { accountId } : {}),
  };
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`. */
export function functionArn(region: string, accountId: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}

/** Alias names: letters, digits, `-` and `_`, not all digits (that would read as a version). */
export function isValidAliasName(name: string): boolean {
  return /^[a-zA-Z0-9_-]{1,128}$/.test(name) && !/^\d+$/.test(name);
}
