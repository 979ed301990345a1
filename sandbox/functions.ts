/**
 * The Caretaker functions the sandbox can run, each with its handler module and environment.
 *
 * The sandbox's Lambda service registers these at start with default resource ARNs;
 * `caretaker sandbox drill` (and tests) re-register them with the ARNs of the resources they
 * created, through the service's in-process `register()`. Names follow `caretaker-<folder>`.
 */
import { fileURLToPath } from 'node:url';
import type { FunctionRegistration } from './services/lambda/registry.ts';

/** The resources Caretaker functions are told about through their environment. */
export interface CaretakerResources {
  readonly region: string;
  readonly accountId: string;
  /** Exposed as CARETAKER_ENVIRONMENT. @default 'sandbox' */
  readonly environmentName?: string;
  /** The alert topic. @default arn:aws:sns:<region>:<account>:caretaker-alerts */
  readonly alertTopicArn?: string;
}

function handlerModule(folder: string): string {
  return fileURLToPath(new URL(`../functions/${folder}/handler.ts`, import.meta.url));
}

/** Registrations for every Caretaker function, configured as the stack configures them. */
export function caretakerFunctions(resources: CaretakerResources): FunctionRegistration[] {
  const common = {
    CARETAKER_ENVIRONMENT: resources.environmentName ?? 'sandbox',
    POWERTOOLS_SERVICE_NAME: 'caretaker',
    POWERTOOLS_METRICS_NAMESPACE: 'Caretaker',
  };
  const alertTopicArn =
    resources.alertTopicArn ?? `arn:aws:sns:${resources.region}:${resources.accountId}:caretaker-alerts`;
  return [
    {
      name: 'caretaker-notify',
      modulePath: handlerModule('notify'),
      environment: { ...common, ALERT_TOPIC_ARN: alertTopicArn },
      timeoutMs: 60_000,
      memoryMb: 256,
      description: 'Publishes Caretaker alerts to the alert topic',
      region: resources.region,
    },
  ];
}
