/**
 * `caretaker run <flow>`: starts a flow's execution after checking its input with the flow's own
 * schema (the one its first state uses), and with `--follow` shows it until it ends — each state as
 * it is entered, a timer, retries and caught failures called out — exiting with its outcome.
 * The same against AWS and the sandbox: the SDK reads the standard AWS settings.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  paginateGetExecutionHistory,
  paginateListStateMachines,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { flowInputSchema } from '#common/flows/inputs';
import { flowFile, STATE_MACHINE_FLOWS, type StateMachineFlow, stateMachineName } from '#common/flows/names';
import { toFieldProblems } from '#common/runtime/validation';
import { flowContextOf } from '../../lib/config/flow-context.ts';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../../lib/config/load.ts';
import type { AslMachine } from '../../lib/flows/asl.ts';
import { ProgressNarrator } from '../../lib/flows/progress.ts';
import { CONFIG_OPTIONS, configPathOf } from './config-option.ts';

const USAGE = `Usage: caretaker run <flow> [--input <file>|-] [--config <file> | -c config=<file>] [--follow] [--json] [--name <execution name>]

Starts the flow's state machine (Caretaker-<environment>-<flow>) after checking the input with the
flow's schema — the same check its first state makes — so a bad input fails here, before anything
starts. Flows: ${STATE_MACHINE_FLOWS.join(', ')}.

  --input <file>    the execution input as JSON (- reads standard input; default {})
  --config <file>   the Caretaker config the stack was deployed with (default ${DEFAULT_CONFIG_PATH});
                    -c config=<file> as for cdk works too
  --follow          show the execution until it ends: states as they are entered, retries,
                    failures caught and handled; the exit code is its outcome
  --json            print one JSON document (the execution and the states it went through)
  --name <name>     the execution's name (a re-run with the same name and input is the same run)

Uses the standard AWS settings (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL for the sandbox, …).
Exit codes: 0 started (or, with --follow, succeeded), 1 the execution failed, timed out or was
aborted (or AWS refused the call), 2 bad arguments or input (nothing was started).`;

class UsageError extends Error {}

interface Options {
  readonly flow: StateMachineFlow;
  readonly input: string;
  readonly config: string;
  readonly follow: boolean;
  readonly json: boolean;
  readonly name?: string;
}

function parseOptions(args: string[]): Options | 'help' {
  let parsed: { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        input: { type: 'string' },
        ...CONFIG_OPTIONS,
        follow: { type: 'boolean' },
        json: { type: 'boolean' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [flow, ...extra] = positionals;
  if (!flow) throw new UsageError('missing the flow to run');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (!(STATE_MACHINE_FLOWS as readonly string[]).includes(flow)) {
    throw new UsageError(`unknown flow "${flow}" (flows: ${STATE_MACHINE_FLOWS.join(', ')})`);
  }
  return {
    flow: flow as StateMachineFlow,
    input: (values.input as string | undefined) ?? '',
    config:
      configPathOf(
        { config: values.config as string | undefined, c: values.c as string[] | undefined },
        (message) => new UsageError(message),
      ) ?? DEFAULT_CONFIG_PATH,
    follow: values.follow === true,
    json: values.json === true,
    ...(typeof values.name === 'string' ? { name: values.name } : {}),
  };
}

function readInput(source: string): unknown {
  if (source === '') return {};
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (error) {
    throw new UsageError(`--input ${source}: cannot read it (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--input ${source}: not valid JSON (${(error as Error).message})`);
  }
}

async function findStateMachine(sfn: SFNClient, name: string): Promise<string | undefined> {
  for await (const page of paginateListStateMachines({ client: sfn }, {})) {
    const found = page.stateMachines?.find((machine) => machine.name === name);
    if (found) return found.stateMachineArn;
  }
  return undefined;
}

/** `mm:ss` since `start`. */
function clock(start: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - start) / 1000));
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

function localMachine(flow: StateMachineFlow): AslMachine | undefined {
  try {
    return JSON.parse(
      readFileSync(new URL(`../../statemachines/${flowFile(flow)}`, import.meta.url), 'utf8'),
    ) as AslMachine;
  } catch {
    return undefined;
  }
}

const POLL_MS = 1000;

async function follow(
  sfn: SFNClient,
  executionArn: string,
  narrator: ProgressNarrator,
  print: (line: string) => void,
): Promise<DescribeExecutionCommandOutput> {
  const byId = new Map<number, HistoryEvent>();
  let seen = 0;
  let start: number | undefined;
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    start ??= described.startDate?.getTime() ?? Date.now();
    let index = 0;
    for await (const page of paginateGetExecutionHistory({ client: sfn }, { executionArn })) {
      for (const event of page.events ?? []) {
        index += 1;
        if (index <= seen) continue;
        seen = index;
        byId.set(event.id!, event);
        const at = clock(start, event.timestamp?.getTime());
        for (const line of narrator.lines(event, byId)) print(`[${at}] ${line}`);
      }
    }
    if (described.status !== 'RUNNING') return described;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function run(args: string[]): Promise<number> {
  let options: Options;
  let input: unknown;
  let environmentName: string;
  try {
    const parsed = parseOptions(args);
    if (parsed === 'help') {
      console.log(USAGE);
      return 0;
    }
    options = parsed;
    input = readInput(options.input);
    const config = loadConfig(options.config);
    environmentName = config.environment.name;
    const checked = flowInputSchema(options.flow, flowContextOf(config)).safeParse(input, {
      reportInput: true,
    });
    if (!checked.success) {
      console.error(`caretaker run: invalid ${options.flow} input, nothing was started:`);
      for (const problem of toFieldProblems(checked.error.issues))
        console.error(`  ${problem.path}: ${problem.message}`);
      return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`caretaker run: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(`caretaker run: ${error.message}`);
      return 2;
    }
    throw error;
  }

  const sfn = new SFNClient({});
  const name = stateMachineName(environmentName, options.flow);
  try {
    const stateMachineArn = await findStateMachine(sfn, name);
    if (!stateMachineArn) {
      console.error(
        `caretaker run: no state machine named ${name} here: is the stack deployed (with this config)?`,
      );
      return 1;
    }
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        input: JSON.stringify(input),
        ...(options.name ? { name: options.name } : {}),
      }),
    );
    const executionArn = started.executionArn!;
    if (!options.follow) {
      if (options.json) console.log(JSON.stringify({ executionArn, startDate: started.startDate }));
      else console.log(`Started ${executionArn}`);
      return 0;
    }
    if (!options.json) console.log(`Started ${executionArn}`);
    const narrator = new ProgressNarrator(localMachine(options.flow));
    const ended = await follow(
      sfn,
      executionArn,
      narrator,
      options.json ? () => {} : (line) => console.log(line),
    );
    const seconds =
      ((ended.stopDate?.getTime() ?? Date.now()) - (ended.startDate?.getTime() ?? Date.now())) / 1000;
    if (options.json) {
      console.log(
        JSON.stringify({
          executionArn,
          status: ended.status,
          startDate: ended.startDate,
          stopDate: ended.stopDate,
          seconds,
          states: narrator.states,
          ...(ended.output ? { output: JSON.parse(ended.output) } : {}),
          ...(ended.error ? { error: ended.error } : {}),
          ...(ended.cause ? { cause: ended.cause } : {}),
        }),
      );
    } else {
      const outcome = `${options.flow} ${ended.status} after ${seconds.toFixed(1)} s (${narrator.states.length} states)`;
      console.log(
        ended.status === 'SUCCEEDED'
          ? `✔ ${outcome}`
          : `✘ ${outcome}: ${ended.error ?? ''} ${ended.cause ?? ''}`.trim(),
      );
    }
    return ended.status === 'SUCCEEDED' ? 0 : 1;
  } catch (error) {
    const { name: errorName, message } = error as Error;
    console.error(`caretaker run: ${errorName}: ${message}`);
    return 1;
  }
}
