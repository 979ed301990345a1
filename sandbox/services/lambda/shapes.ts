/**
 * Lambda API response shapes (FunctionConfiguration, AliasConfiguration) and REST-JSON paging.
 */
import { AwsError } from '../../core/types.ts';
import { functionArn } from './names.ts';
import { type AliasRecord, type FunctionRecord, handlerSetting, type VersionConfig } from './registry.ts';

/** Lambda's LastModified format: `2024-01-31T12:00:00.000+0000`. */
export function lambdaDate(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

/** The FunctionConfiguration of one version, as GetFunction and ListFunctions return it. */
export function functionConfiguration(fn: FunctionRecord, config: VersionConfig, accountId: string) {
  const qualified = config.version === '$LATEST' ? undefined : config.version;
  const logGroup = `/aws/lambda/${fn.name}`;
  return {
    FunctionName: fn.name,
    FunctionArn: functionArn(fn.region, accountId, fn.name, qualified),
    Runtime: 'nodejs24.x',
    Role: config.role,
    Handler: handlerSetting(config),
    CodeSize: config.codeSize,
    Description: config.description,
    Timeout: Math.ceil(config.timeoutMs / 1000),
    MemorySize: config.memoryMb,
    LastModified: lambdaDate(config.lastModified),
    CodeSha256: config.codeSha256,
    Version: config.version,
    Environment: { Variables: { ...config.environment } },
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: config.revisionId,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: ['arm64'],
    EphemeralStorage: { Size: 512 },
    LoggingConfig: {
      LogFormat: 'JSON',
      ApplicationLogLevel: 'INFO',
      SystemLogLevel: 'WARN',
      LogGroup: logGroup,
    },
  };
}

export function aliasConfiguration(fn: FunctionRecord, alias: AliasRecord, accountId: string) {
  const weights = alias.additionalVersionWeights;
  return {
    AliasArn: functionArn(fn.region, accountId, fn.name, alias.name),
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    ...(Object.keys(weights).length > 0
      ? { RoutingConfig: { AdditionalVersionWeights: { ...weights } } }
      : {}),
    RevisionId: alias.revisionId,
  };
}

/** Lambda paging: `Marker` (opaque) and `MaxItems`; the response carries `NextMarker`. */
export function pageOf<T>(
  items: readonly T[],
  url: URL,
  defaultMax = 50,
): { items: T[]; NextMarker?: string } {
  const marker = url.searchParams.get('Marker');
  const maxText = url.searchParams.get('MaxItems');
  const max = maxText === null ? defaultMax : Number(maxText);
  if (!Number.isInteger(max) || max < 1 || max > 10_000) {
    throw new AwsError('InvalidParameterValueException', 'MaxItems must be between 1 and 10000');
  }
  let start = 0;
  if (marker !== null) {
    start = Number(Buffer.from(marker, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) {
      throw new AwsError('InvalidParameterValueException', 'The marker is not valid');
    }
  }
  const slice = items.slice(start, start + max);
  const next = start + max;
  return next < items.length
    ? { items: slice, NextMarker: Buffer.from(String(next), 'utf8').toString('base64url') }
    : { items: slice };
}
