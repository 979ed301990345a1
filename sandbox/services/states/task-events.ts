/**
 * What the history events and results of service-integration Tasks share: how AWS names the
 * resource in TaskScheduled/TaskStarted/…, the limits TaskScheduled records, and the HTTP metadata
 * the optimized integrations return with an API's response.
 */
import type { AslState } from './definition.ts';

/** `arn:aws:states:::<service>:<action>[.<pattern>]` → `<service>:<action>[.<pattern>]`. */
export const SERVICE_ARN = /^arn:aws[\w-]*:states:::(.+)$/;

/** The integration pattern suffix; `.sync:2` holds a colon that is not a service separator. */
const PATTERN_SUFFIX = /(\.sync(?::\d+)?|\.waitForTaskToken)$/;

/**
 * The `resourceType`/`resource` pair of Task events, as AWS records them:
 * `arn:aws:states:::aws-sdk:sns:publish` → `aws-sdk:sns` / `publish`, and
 * `arn:aws:states:::states:startExecution.sync:2` → `states` / `startExecution.sync:2`.
 */
export function describeResource(resource: string): { resourceType: string; resource: string } {
  const service = SERVICE_ARN.exec(resource)?.[1];
  if (!service) return { resourceType: 'lambda', resource };
  const pattern = PATTERN_SUFFIX.exec(service)?.[0] ?? '';
  const parts = service.slice(0, service.length - pattern.length).split(':');
  return { resourceType: parts.slice(0, -1).join(':'), resource: `${parts.at(-1) ?? ''}${pattern}` };
}

/** `timeoutInSeconds`, when the state sets TimeoutSeconds (LambdaFunctionScheduled has only this). */
export function scheduledTimeout(state: AslState): Record<string, number> {
  return typeof state.TimeoutSeconds === 'number' ? { timeoutInSeconds: state.TimeoutSeconds } : {};
}

/** TaskScheduled's `timeoutInSeconds` and `heartbeatInSeconds`, when the state sets them. */
export function scheduledLimits(state: AslState): Record<string, number> {
  return {
    ...scheduledTimeout(state),
    ...(typeof state.HeartbeatSeconds === 'number' ? { heartbeatInSeconds: state.HeartbeatSeconds } : {}),
  };
}

/** `SdkHttpMetadata` as the optimized integrations return it: every header, once as a list. */
export function sdkHttpMetadata(headers: Readonly<Record<string, string>>, statusCode: number) {
  return {
    AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    HttpHeaders: { ...headers },
    HttpStatusCode: statusCode,
  };
}
