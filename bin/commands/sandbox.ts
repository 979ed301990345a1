/**
 * `caretaker sandbox up`: runs the local AWS endpoint (DESIGN §9) in the foreground until
 * SIGINT/SIGTERM/SIGHUP, then closes every service (and the PostgreSQL servers behind RDS) before
 * exiting.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DataDirLockedError } from '../../sandbox/core/data-dir-lock.ts';
import { type Sandbox, startDefaultSandbox } from '../../sandbox/index.ts';

const USAGE_LINE = 'Usage: caretaker sandbox up [--port N] [--data-dir DIR] [--region R]';
const USAGE = `${USAGE_LINE}

Runs the Caretaker sandbox: a local AWS endpoint on 127.0.0.1 for rehearsals and tests
(not a production target). Prints "Sandbox ready at <url>" and the environment to export
once it accepts requests; stops cleanly on Ctrl-C (SIGINT), SIGTERM or SIGHUP.

Options:
  --port N        Port on 127.0.0.1; 0 picks a free one. (default: 4566)
  --data-dir DIR  Where keys, objects and databases are kept across restarts. (default: ./.sandbox)
  --region R      Region used when a request does not say. (default: us-east-1)
  -h, --help      Show this help.

See docs/sandbox.md for what the sandbox emulates and what it does not.`;

const DEFAULT_PORT = 4566;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Grace period for stray handles after a clean stop before the process exits anyway. */
const EXIT_GRACE_MS = 3000;

/** A usage error: reported with the usage text, exit status 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface UpOptions {
  readonly port: number;
  readonly dataDir: string;
  readonly region: string;
}

function parseUpOptions(args: string[]): UpOptions | 'help' {
  let values: { port?: string; 'data-dir'?: string; region?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
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
  return { port, dataDir: resolve(values['data-dir'] ?? '.sandbox'), region };
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

async function up(options: UpOptions): Promise<number> {
  const signals = latchStopSignals();
  let sandbox: Sandbox;
  try {
    sandbox = await startDefaultSandbox(options);
  } catch (error) {
    signals.dispose();
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
  console.log(`Sandbox ready at ${sandbox.url}`);
  for (const [name, value] of Object.entries(sandbox.env())) console.log(exportLine(name, value));
  console.error(
    [
      `Data directory: ${options.dataDir}`,
      `awscli v2.9 ignores AWS_ENDPOINT_URL: pass --endpoint-url ${sandbox.url}`,
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
