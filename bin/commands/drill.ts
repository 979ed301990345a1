/**
 * `caretaker sandbox drill`: the main job on a fresh machine. Rehearses the deployed stack end to
 * end in a throwaway sandbox (sandbox/drill/run.ts) and prints what happened; the exit status is
 * 0 only if every flow ended as expected and nothing was lost. Progress goes to stderr, the report
 * (text, or JSON with --json) to stdout. Ctrl-C stops the drill and removes everything it made.
 */
import { parseArgs } from 'node:util';
import { STATE_MACHINE_FLOWS, type StateMachineFlow } from '#common/flows/names';
import { ConfigError } from '../../lib/config/load.ts';
import { CONFIG_OPTIONS, configPathOf } from './config-option.ts';

export const DRILL_USAGE_LINE =
  'Usage: caretaker sandbox drill [--flows A,B] [--json] [--inject FUNCTION:transient|permanent] [--template DIR | -c config=FILE] [--rows N] [--objects N]';
export const DRILL_USAGE = `${DRILL_USAGE_LINE}

Rehearses Caretaker end to end on this machine, with no AWS account: starts a sandbox on a free
port in a fresh data directory (IAM enforced), synthesizes and deploys the stack from the drill
config, seeds the database and bucket it names, runs every flow through the deployed state
machines (routine maintenance, cleanup dry run and real, updates that hold and one that must roll
back, a DR drill and a failover), checks the data after each, and removes everything it made.
Exits 0 only if every flow ended as expected, no data was lost, each run sent one alert and IAM
denied nothing.

Options:
  --flows A,B         Only these flows: ${STATE_MACHINE_FLOWS.filter((f) => f !== 'Backup').join(', ')}.
  --json              Print the report as JSON (progress still goes to stderr).
  --inject F:MODE     Make Caretaker function F (its folder under functions/, e.g. rds-restore) fail:
                      transient (once per flow run: the flow must retry and succeed) or permanent
                      (every call: the flow must fail cleanly, roll back and lose nothing).
  --template DIR      Deploy this already-synthesized cloud assembly (of the drill config) instead.
  -c config=FILE      The drill config to synthesize. (default: config/drill.json)
  --rows N            Rows seeded into the database. (default: 100000)
  --objects N         Objects seeded into the source bucket. (default: 1000)
  -h, --help          Show this help.

See docs/drill.md for what each flow run checks.`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface DrillArgs {
  readonly flows?: StateMachineFlow[];
  readonly json: boolean;
  readonly inject?: { function: string; mode: 'transient' | 'permanent' };
  readonly templateDir?: string;
  readonly configPath?: string;
  readonly rows?: number;
  readonly objects?: number;
}

const DRILLED_FLOWS: readonly StateMachineFlow[] = [
  'RoutineMaintenance',
  'Cleanup',
  'Update',
  'DisasterRecovery',
];

function count(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > 10_000_000) {
    throw new UsageError(`--${name} must be a whole number from ${min} to 10000000 (got "${value}")`);
  }
  return Number(value);
}

export function parseDrillArgs(args: string[]): DrillArgs | 'help' {
  let values: {
    flows?: string;
    json?: boolean;
    inject?: string;
    template?: string;
    c?: string[];
    rows?: string;
    objects?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        flows: { type: 'string' },
        json: { type: 'boolean' },
        inject: { type: 'string' },
        template: { type: 'string' },
        ...CONFIG_OPTIONS,
        rows: { type: 'string' },
        objects: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  let flows: StateMachineFlow[] | undefined;
  if (values.flows !== undefined) {
    flows = values.flows.split(',').map((name) => {
      const flow = DRILLED_FLOWS.find((f) => f.toLowerCase() === name.trim().toLowerCase());
      if (!flow) throw new UsageError(`--flows: "${name}" is not one of ${DRILLED_FLOWS.join(', ')}`);
      return flow;
    });
    if (flows.length === 0) throw new UsageError('--flows must name at least one flow');
  }
  let inject: DrillArgs['inject'];
  if (values.inject !== undefined) {
    const match = /^([a-z][a-z0-9-]*):(transient|permanent)$/.exec(values.inject);
    if (!match) {
      throw new UsageError(
        `--inject takes FUNCTION:transient or FUNCTION:permanent, e.g. rds-restore:permanent (got "${values.inject}")`,
      );
    }
    inject = { function: match[1]!, mode: match[2] as 'transient' | 'permanent' };
  }
  const configPath = configPathOf(values, (message) => new UsageError(message));
  if (configPath !== undefined && values.template !== undefined) {
    throw new UsageError('give either -c config=FILE (synthesize) or --template DIR, not both');
  }
  const rows = count('rows', values.rows, 1);
  const objects = count('objects', values.objects, 1);
  return {
    ...(flows ? { flows } : {}),
    json: values.json ?? false,
    ...(inject ? { inject } : {}),
    ...(values.template !== undefined ? { templateDir: values.template } : {}),
    ...(configPath !== undefined ? { configPath } : {}),
    ...(rows !== undefined ? { rows } : {}),
    ...(objects !== undefined ? { objects } : {}),
  };
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function drill(args: string[]): Promise<number> {
  let options: DrillArgs | 'help';
  try {
    options = parseDrillArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(
      `caretaker sandbox drill: ${error.message}\n${DRILL_USAGE_LINE}\nRun \`caretaker sandbox drill --help\` for the options.`,
    );
    return 2;
  }
  if (options === 'help') {
    console.log(DRILL_USAGE);
    return 0;
  }
  // Loaded only now: the drill brings in the sandbox and aws-cdk-lib.
  const { runDrill } = await import('../../sandbox/drill/run.ts');
  const { renderDrillReport } = await import('../../sandbox/drill/render.ts');

  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      console.error(`Received ${signal} again: still cleaning up (stopping the sandbox and its databases)…`);
      return;
    }
    signalled = signal;
    console.error(`Received ${signal}: stopping the drill and removing what it made…`);
    controller.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    const report = await runDrill({
      ...options,
      signal: controller.signal,
      progress: (line) => console.error(line),
    });
    if (options.json) console.log(JSON.stringify(report, null, 2));
    else for (const line of renderDrillReport(report)) console.log(line);
    return report.ok ? 0 : 1;
  } catch (error) {
    if (signalled) {
      console.error('Drill stopped; everything it made is removed.');
      return 130;
    }
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    console.error(`caretaker sandbox drill: ${(error as Error).message ?? String(error)}`);
    return 1;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}
