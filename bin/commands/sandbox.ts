/**
 * `caretaker sandbox up`: runs the local AWS endpoint (DESIGN §9) in the foreground until
 * SIGINT/SIGTERM/SIGHUP, then closes every service (and the PostgreSQL servers behind RDS) before
 * exiting. With `--with-stack`, Caretaker's synthesized stack is deployed into it first.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../lib/config/load.ts';
import { denialLine } from '../../sandbox/core/access/denials.ts';
import { DataDirLockedError } from '../../sandbox/core/data-dir-lock.ts';
import type { DeployResult } from '../../sandbox/deploy/index.ts';
import { type EnforcementMode, type Sandbox, startDefaultSandbox } from '../../sandbox/index.ts';
import { CONFIG_OPTIONS, configPathOf } from './config-option.ts';

const USAGE_LINE =
  'Usage: caretaker sandbox up [--port N] [--data-dir DIR] [--region R] [--iam enforce|report] [--with-stack [-c config=FILE | --template DIR] [--stack NAME] [--pause-schedules]]';
const USAGE = `${USAGE_LINE}
       caretaker sandbox drill [--flows A,B] [--json] [--inject F:transient|permanent] (see caretaker sandbox drill --help)

Runs the Caretaker sandbox: a local AWS endpoint on 127.0.0.1 for rehearsals and tests
(not a production target), HTTP and HTTPS on the same port. Prints "Sandbox ready at <url>",
the environment to export and the CA to trust for HTTPS once it accepts requests; every call IAM
refuses is printed on stderr as it happens. Stops cleanly on Ctrl-C (SIGINT), SIGTERM or SIGHUP.

Options:
  --port N            Port on 127.0.0.1; 0 picks a free one. (default: 4566)
  --data-dir DIR      Where keys, objects and databases are kept across restarts. (default: ./.sandbox)
  --region R          Region used when a request does not say. (default: us-east-1)
  --iam MODE          enforce: a call a deployed role may not make fails as in AWS; report: it is
                      recorded and printed, and goes through. (default: enforce)
  --with-stack        Deploy Caretaker's stack into the sandbox before it is ready: the functions run
                      the bundled code, the state machines and schedules are the template's.
  -c config=FILE      The config to synthesize the stack from, as for cdk. (default: config/example.json)
  --template DIR      Deploy an already-synthesized cloud assembly (cdk.out) instead.
  --stack NAME        The stack to deploy when the assembly has several.
  --pause-schedules   Create the stack's schedules disabled, so nothing runs on its own.
  -h, --help          Show this help.

See docs/sandbox.md for what the sandbox emulates, what --with-stack creates and what it does not.`;

const DEFAULT_PORT = 4566;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Grace period for stray handles after a clean stop before the process exits anyway. */
const EXIT_GRACE_MS = 3000;

/** A usage error: reported with the usage text, exit status 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface StackOptions {
  /** A config to synthesize, or an assembly to read. */
  readonly configPath?: string;
  readonly template?: string;
  readonly stackName?: string;
  readonly pauseSchedules: boolean;
}

interface UpOptions {
  readonly port: number;
  readonly dataDir: string;
  readonly region: string;
  readonly iam: EnforcementMode;
  /** Set with --with-stack. */
  readonly stack?: StackOptions;
}

function parseUpOptions(args: string[]): UpOptions | 'help' {
  let values: {
    port?: string;
    'data-dir'?: string;
    region?: string;
    iam?: string;
    help?: boolean;
    'with-stack'?: boolean;
    c?: string[];
    template?: string;
    stack?: string;
    'pause-schedules'?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        region: { type: 'string' },
        iam: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        'with-stack': { type: 'boolean' },
        ...CONFIG_OPTIONS,
        template: { type: 'string' },
        stack: { type: 'string' },
        'pause-schedules': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--port must be an integer from 0 to 65535 (got "${values.port}")`);
  }
  const region = values.region ?? 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new UsageError(`--region must be an AWS region such as us-east-1 (got "${region}")`);
  }
  if (values['data-dir'] === '') throw new UsageError('--data-dir must not be empty');
  const iam = values.iam ?? 'enforce';
  if (iam !== 'enforce' && iam !== 'report') {
    throw new UsageError(`--iam must be enforce or report (got "${iam}")`);
  }
  const stack = parseStackOptions(values);
  return {
    port,
    dataDir: resolve(values['data-dir'] ?? '.sandbox'),
    region,
    iam,
    ...(stack ? { stack } : {}),
  };
}

/** The --with-stack options; they mean nothing without it. */
function parseStackOptions(values: {
  'with-stack'?: boolean;
  config?: string;
  c?: string[];
  template?: string;
  stack?: string;
  'pause-schedules'?: boolean;
}): StackOptions | undefined {
  const contexts = values.c ?? [];
  if (!values['with-stack']) {
    if (
      contexts.length > 0 ||
      values.config !== undefined ||
      values.template !== undefined ||
      values.stack !== undefined ||
      values['pause-schedules']
    ) {
      throw new UsageError('-c/--config, --template, --stack and --pause-schedules go with --with-stack');
    }
    return undefined;
  }
  const configPath = configPathOf(values, (message) => new UsageError(message));
  if (configPath !== undefined && values.template !== undefined) {
    throw new UsageError(
      'give either -c config=FILE (synthesize) or --template DIR (already synthesized), not both',
    );
  }
  return {
    ...(configPath !== undefined ? { configPath } : {}),
    ...(values.template !== undefined ? { template: resolve(values.template) } : {}),
    ...(values.stack !== undefined ? { stackName: values.stack } : {}),
    pauseSchedules: values['pause-schedules'] ?? false,
  };
}

/** `export K=V`, quoting V for POSIX shells when it needs it. */
function exportLine(name: string, value: string): string {
  const quoted = /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
  return `export ${name}=${quoted}`;
}

/**
 * Listens for stop signals from the start, so a signal during startup still stops the sandbox
 * cleanly. `first` resolves with the first signal; later ones only report that stopping goes on,
 * since exiting early would orphan child processes (the PostgreSQL servers behind RDS).
 */
function latchStopSignals(): { first: Promise<NodeJS.Signals>; dispose(): void } {
  let received = 0;
  let resolveFirst: (signal: NodeJS.Signals) => void = () => {};
  const first = new Promise<NodeJS.Signals>((resolvePromise) => {
    resolveFirst = resolvePromise;
  });
  const listener = (signal: NodeJS.Signals) => {
    received += 1;
    if (received === 1) resolveFirst(signal);
    else console.error(`Received ${signal} again: still stopping, waiting for every service to close…`);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, listener);
  return {
    first,
    dispose: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, listener);
    },
  };
}

interface Assembly {
  readonly assemblyDir: string;
  cleanup(): void;
}

/**
 * The cloud assembly to deploy: the one given, or the stack synthesized from the config (before
 * the sandbox starts, so a bad config starts nothing). Undefined, after saying why, when there is
 * none. The deploy module brings in aws-cdk-lib, so it is loaded only with --with-stack.
 */
async function assemblyFor(stack: StackOptions): Promise<Assembly | undefined> {
  if (stack.template !== undefined) return { assemblyDir: stack.template, cleanup: () => {} };
  const { synthesize } = await import('../../sandbox/deploy/index.ts');
  console.error(
    `Synthesizing the stack from ${stack.configPath ?? 'config/example.json'} (bundling every function)…`,
  );
  try {
    return synthesize(stack.configPath === undefined ? {} : { configPath: stack.configPath });
  } catch (error) {
    console.error(
      error instanceof ConfigError ? error.message : `caretaker sandbox: synthesis failed: ${String(error)}`,
    );
    return undefined;
  }
}

/** Deploys the assembly into `sandbox`; undefined, after saying why, when it cannot. */
async function deploy(
  sandbox: Sandbox,
  stack: StackOptions,
  assembly: Assembly,
): Promise<DeployResult | undefined> {
  const { deployStack } = await import('../../sandbox/deploy/index.ts');
  try {
    return await deployStack(sandbox, {
      assemblyDir: assembly.assemblyDir,
      ...(stack.stackName !== undefined ? { stackName: stack.stackName } : {}),
      pauseSchedules: stack.pauseSchedules,
    });
  } catch (error) {
    console.error(`caretaker sandbox: the stack could not be deployed: ${(error as Error).message}`);
    return undefined;
  } finally {
    // The functions' code was copied into the data directory: the assembly is not needed any more.
    assembly.cleanup();
  }
}

/** The outputs and the commands to drive the deployment (stdout), and what differs from AWS (stderr). */
async function printDeployment(sandbox: Sandbox, result: DeployResult): Promise<void> {
  const { differenceLines, outputLines } = await import('../../sandbox/deploy/index.ts');
  console.log(`# Outputs of ${result.stackName}:`);
  for (const line of outputLines(result)) console.log(`#   ${line}`);
  for (const line of differenceLines(result)) console.error(line);
  const machine = Object.entries(result.outputs).find(([name]) => name.endsWith('StateMachineArn'));
  if (machine) {
    console.error(
      `Start a flow, e.g.: aws --endpoint-url ${sandbox.url} stepfunctions start-execution --state-machine-arn ${machine[1]} --input '<the flow's input>'`,
    );
  }
}

async function up(options: UpOptions): Promise<number> {
  const signals = latchStopSignals();
  const assembly = options.stack ? await assemblyFor(options.stack) : undefined;
  if (options.stack && !assembly) {
    signals.dispose();
    return 1;
  }
  let sandbox: Sandbox;
  try {
    sandbox = await startDefaultSandbox({
      port: options.port,
      dataDir: options.dataDir,
      region: options.region,
      settings: {
        iam: { enforcement: options.iam },
        // With the stack deployed, its functions are the ones that run, not those built from sources.
        ...(options.stack ? { lambda: { registerCaretakerFunctions: false } } : {}),
      },
    });
  } catch (error) {
    signals.dispose();
    assembly?.cleanup();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      console.error(
        `caretaker sandbox: port ${options.port} on 127.0.0.1 is in use; pass --port 0 for a free one`,
      );
    } else if (error instanceof DataDirLockedError) {
      console.error(`caretaker sandbox: ${error.message}`);
    } else {
      console.error('caretaker sandbox: could not start:', error);
    }
    return 1;
  }
  // Every refusal, as it happens (a deployment's own are refusals too: a state machine whose role
  // may not manage the managed rule).
  sandbox.context.access.denials.subscribe((denial) => console.error(`[iam] ${denialLine(denial)}`));
  let deployment: DeployResult | undefined;
  if (options.stack && assembly) {
    deployment = await deploy(sandbox, options.stack, assembly);
    if (!deployment) {
      await sandbox.stop();
      signals.dispose();
      return 1;
    }
  }
  console.log(`Sandbox ready at ${sandbox.url}`);
  for (const [name, value] of Object.entries(sandbox.env())) console.log(exportLine(name, value));
  console.log(
    `# HTTPS on the same port: ${sandbox.httpsUrl}, certificate signed by the sandbox CA ${sandbox.caPath}`,
  );
  console.log(
    `#   awscli: --endpoint-url ${sandbox.httpsUrl} --ca-bundle ${sandbox.caPath}; Node: NODE_EXTRA_CA_CERTS=${sandbox.caPath}`,
  );
  if (deployment) await printDeployment(sandbox, deployment);
  console.error(
    [
      `Data directory: ${options.dataDir}`,
      `awscli v2.9 ignores AWS_ENDPOINT_URL: pass --endpoint-url ${sandbox.url}`,
      options.iam === 'enforce'
        ? "IAM: enforced for the deployed roles' calls; the sandbox's own credentials above are not evaluated. Denials: GET /_sandbox/iam/denials"
        : 'IAM: report only — denials are recorded and printed, and the calls go through. Denials: GET /_sandbox/iam/denials',
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );

  const signal = await signals.first;
  console.error(`Received ${signal}: stopping the sandbox…`);
  let status = 0;
  try {
    await sandbox.stop();
    console.error('Sandbox stopped.');
  } catch (error) {
    console.error('caretaker sandbox: stopping failed:', error);
    status = 1;
  }
  // The signal listeners stay: a late signal must not kill the process with a signal status.
  // Everything is closed, so the process should exit on its own; if a stray handle keeps it
  // alive, exit anyway rather than hang.
  setTimeout(() => {
    console.error('caretaker sandbox: handles still open after stopping; exiting.');
    process.exit(status);
  }, EXIT_GRACE_MS).unref();
  return status;
}

/** Runs `caretaker sandbox <subcommand>`. */
export async function run(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === '--help' || subcommand === '-h' || subcommand === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (subcommand === 'drill') {
    const { drill } = await import('./drill.ts');
    return drill(rest);
  }
  if (subcommand !== 'up') {
    console.error(
      `caretaker sandbox: ${subcommand ? `unknown subcommand "${subcommand}"` : 'missing subcommand'}\n\n${USAGE}`,
    );
    return 2;
  }
  let options: UpOptions | 'help';
  try {
    options = parseUpOptions(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(
      `caretaker sandbox: ${error.message}\n${USAGE_LINE}\nRun \`caretaker sandbox --help\` for the options.`,
    );
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  return up(options);
}
