/**
 * Per-path tests of a flow: the real ASL file from statemachines/, executed on the sandbox's Step
 * Functions, with every Task function scripted by the test (scripted-handler.ts) so each path —
 * happy, every Retry, every Catch, every rollback — can be driven on purpose. Waits are scaled
 * down. Every execution's history feeds the file's coverage record (coverage.ts).
 *
 * Usage, once per test file:
 *   const flow = flowHarness('update.asl.json', { FlowInputFunctionArn: 'flow-input', ... });
 *   flow.script.on('flow-input', (event) => plan);
 *   const run = await flow.run(input);   // { status, error, cause, output, states, history }
 *   afterAll: expect(flow.untriedCatches()).toEqual([])
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CreateStateMachineCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll } from 'vitest';
import type { AslMachine } from '../../../lib/flows/asl.ts';
import type { ServiceFactory } from '../../../sandbox/index.ts';
import { type LambdaService, lambdaService } from '../../../sandbox/services/lambda/index.ts';
import { statesService } from '../../../sandbox/services/states/index.ts';
import { historyOf, ROLE_ARN, run } from '../../fixtures/statemachines/harness.ts';
import { withSandbox } from '../../support/sandbox.ts';
import { exercised, record, untriedCatches, untriedRetries } from './coverage.ts';
import { ScriptServer } from './script-server.ts';

const HANDLER = fileURLToPath(new URL('./scripted-handler.ts', import.meta.url));

export interface FlowRun {
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  /** The execution's output, parsed (undefined unless it succeeded). */
  readonly output: Record<string, unknown> | undefined;
  /** The states entered, in order (Map iterations and Parallel branches interleaved). */
  readonly states: string[];
  readonly history: HistoryEvent[];
  readonly executionArn: string;
}

export interface FlowHarness {
  readonly script: ScriptServer;
  readonly machine: AslMachine;
  /** Starts an execution with `input` and waits for its end. */
  run(input: unknown, name?: string): Promise<FlowRun>;
  /** Catch rules no execution of this file has exercised yet. */
  untriedCatches(): string[];
  /** Retry rules no execution of this file has exercised yet. */
  untriedRetries(): string[];
}

/**
 * Sets up a sandbox (Lambda + Step Functions) for this file, registers a scripted function for
 * every placeholder in `functions` (placeholder → function name) and creates the state machine
 * from statemachines/<file> with those names and the `values` substituted.
 */
export function flowHarness(
  file: string,
  functions: Readonly<Record<string, string>>,
  values: Readonly<Record<string, string>> = {},
  options: { timeScale?: number; services?: readonly ServiceFactory[] } = {},
): FlowHarness {
  // More services (S3 for a Distributed Map's item reader and result writer) when the flow needs them.
  const sandbox = withSandbox([...(options.services ?? []), lambdaService, statesService], {
    settings: {
      states: { timeScale: options.timeScale ?? 0.001 },
      lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } },
    },
  });
  const script = new ScriptServer();
  const text = readFileSync(
    fileURLToPath(new URL(`../../../statemachines/${file}`, import.meta.url)),
    'utf8',
  );
  const machine = JSON.parse(text) as AslMachine;
  const seen = exercised();
  let sfn: SFNClient;
  let machineArn = '';

  beforeAll(async () => {
    await script.start();
    const lambda = sandbox.sandbox.context.service<LambdaService>('lambda')!;
    for (const name of new Set(Object.values(functions))) {
      lambda.register({ name, modulePath: HANDLER, environment: { SCRIPT_URL: script.url } });
    }
    const substitutions = { ...functions, ...values };
    const definition = text.replace(/\$\{(\w+)\}/g, (whole, name: string) => {
      const value = substitutions[name];
      if (value === undefined) throw new Error(`${file}: no substitution for ${whole}`);
      return value;
    });
    sfn = new SFNClient({});
    const created = await sfn.send(
      new CreateStateMachineCommand({
        name: file.replace(/\.asl\.json$/, ''),
        definition,
        roleArn: ROLE_ARN,
      }),
    );
    machineArn = created.stateMachineArn!;
  });
  afterAll(async () => {
    await script.stop();
  });

  return {
    script,
    machine,
    async run(input, name) {
      const execution = await run(sfn, machineArn, input, name);
      const history = await historyOf(sfn, execution.executionArn!);
      record(machine, history, seen);
      // A Distributed Map's iterations are child executions of the same document: their Retry and
      // Catch rules count too.
      for (const child of await mapRunChildren(sfn, execution.executionArn!)) {
        record(machine, await historyOf(sfn, child), seen);
      }
      return {
        status: execution.status!,
        ...(execution.error ? { error: execution.error } : {}),
        ...(execution.cause ? { cause: execution.cause } : {}),
        output: execution.output ? (JSON.parse(execution.output) as Record<string, unknown>) : undefined,
        states: history.flatMap((event) =>
          event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : [],
        ),
        history,
        executionArn: execution.executionArn!,
      };
    },
    untriedCatches: () => untriedCatches(machine, seen),
    untriedRetries: () => untriedRetries(machine, seen),
  };
}

/** The child executions of every Map Run of an execution. */
async function mapRunChildren(sfn: SFNClient, executionArn: string): Promise<string[]> {
  const runs = (await sfn.send(new ListMapRunsCommand({ executionArn }))).mapRuns ?? [];
  const children: string[] = [];
  for (const { mapRunArn } of runs) {
    const listed = await sfn.send(new ListExecutionsCommand({ mapRunArn, maxResults: 1000 }));
    children.push(...(listed.executions ?? []).map((execution) => execution.executionArn!));
  }
  return children;
}
