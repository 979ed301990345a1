/**
 * What `caretaker status` needs to know about a deployed Caretaker environment that its config
 * does not say: which flows are deployed (by their state machine names) and where the backup
 * bucket and the stack key are (names CloudFormation generated). Both are read from the
 * deployment itself, through the standard AWS settings, so the same code works against AWS and
 * the sandbox: the Cleanup flow's definition names its functions, and their configuration holds
 * the bucket and key the stack gave them.
 */
import { GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeStateMachineCommand, paginateListStateMachines, type SFNClient } from '@aws-sdk/client-sfn';
import { ENV, OPERATOR_ENV } from '../../functions/common/contract.ts';
import {
  STATE_MACHINE_FLOWS,
  type StateMachineFlow,
  stateMachineName,
} from '../../functions/common/flows/names.ts';
import { flowMachine } from '../flows/runbook-diagram.ts';

/** Where the flows, the bucket and the key of one environment are. */
export interface Deployment {
  /** State machine ARN per deployed flow. */
  readonly stateMachines: Partial<Record<StateMachineFlow, string>>;
  /** The backup bucket, when it could be found; else why not. */
  readonly bucket: string | undefined;
  /** The stack key and the keys older backups were sealed under (empty without backup sets). */
  readonly keyArns: readonly string[];
  /** Why the bucket or key could not be found, one line each. */
  readonly problems: readonly string[];
}

/**
 * The value each `${Placeholder}` of `local` (an ASL file) took in `deployed` (the same machine's
 * deployed definition): the string found at the same place. Pure.
 */
export function placeholderValues(local: unknown, deployed: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  const walk = (template: unknown, actual: unknown): void => {
    if (typeof template === 'string') {
      const placeholder = /^\$\{(\w+)\}$/.exec(template)?.[1];
      if (placeholder && typeof actual === 'string') values[placeholder] = actual;
      return;
    }
    if (Array.isArray(template)) {
      if (Array.isArray(actual)) {
        template.forEach((item, i) => {
          walk(item, actual[i]);
        });
      }
      return;
    }
    if (template && typeof template === 'object' && actual && typeof actual === 'object') {
      for (const [key, value] of Object.entries(template))
        walk(value, (actual as Record<string, unknown>)[key]);
    }
  };
  walk(local, deployed);
  return values;
}

async function listFlowMachines(
  sfn: SFNClient,
  environmentName: string,
): Promise<Partial<Record<StateMachineFlow, string>>> {
  const byName = new Map(STATE_MACHINE_FLOWS.map((flow) => [stateMachineName(environmentName, flow), flow]));
  const found: Partial<Record<StateMachineFlow, string>> = {};
  for await (const page of paginateListStateMachines({ client: sfn }, {})) {
    for (const machine of page.stateMachines ?? []) {
      const flow = byName.get(machine.name ?? '');
      if (flow && machine.stateMachineArn) found[flow] = machine.stateMachineArn;
    }
  }
  return found;
}

async function functionEnvironment(
  lambda: LambdaClient,
  functionArn: string,
): Promise<Record<string, string>> {
  const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionArn }));
  return configuration.Environment?.Variables ?? {};
}

/** Finds the deployed flows of `environmentName`, and the bucket and key through the Cleanup flow. */
export async function findDeployment(
  clients: { readonly sfn: SFNClient; readonly lambda: LambdaClient },
  environmentName: string,
): Promise<Deployment> {
  const stateMachines = await listFlowMachines(clients.sfn, environmentName);
  const problems: string[] = [];
  const cleanupArn = stateMachines.Cleanup;
  if (!cleanupArn) {
    return {
      stateMachines,
      bucket: undefined,
      keyArns: [],
      problems: [
        `no state machine named ${stateMachineName(environmentName, 'Cleanup')}: is the stack deployed (with this config)?`,
      ],
    };
  }
  const described = await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: cleanupArn }));
  const functions = placeholderValues(flowMachine('Cleanup'), JSON.parse(described.definition ?? '{}'));
  let bucket: string | undefined;
  const keyArns: string[] = [];
  const reportArn = functions.ReportFunctionArn;
  if (reportArn) {
    bucket = (await functionEnvironment(clients.lambda, reportArn))[ENV.backupBucket];
    if (!bucket) problems.push(`the report function ${reportArn} has no ${ENV.backupBucket}`);
  } else problems.push('the deployed Cleanup flow has no report step');
  const cleanupFunctionArn = functions.CleanupFunctionArn;
  if (cleanupFunctionArn) {
    const environment = await functionEnvironment(clients.lambda, cleanupFunctionArn);
    const keyArn = environment[ENV.backupKeyArn];
    if (keyArn) {
      keyArns.push(
        keyArn,
        ...(environment[OPERATOR_ENV.backupTrustedKeyArns] ?? '')
          .split(',')
          .map((arn) => arn.trim())
          .filter(Boolean),
      );
    }
  }
  return { stateMachines, bucket, keyArns, problems };
}
