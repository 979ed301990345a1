/**
 * `npx caretaker <command>`: the operator's CLI.
 * Each command lives in bin/commands/<name>.ts and exports `run(args): Promise<number>`.
 */
import { readFileSync } from 'node:fs';

interface Command {
  /** One line for `caretaker help`. */
  readonly summary: string;
  readonly load: () => Promise<{ run(args: string[]): Promise<number> }>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  diagram: {
    summary: "print a flow's Mermaid diagram, generated from its ASL file",
    load: () => import('./commands/diagram.ts'),
  },
  'plan-retention': {
    summary: 'dry-run a retention policy over recovery points from files: keep/delete and why',
    load: () => import('./commands/plan-retention.ts'),
  },
  run: {
    summary: "start a flow after checking its input with the flow's schema; --follow shows it to the end",
    load: () => import('./commands/run.ts'),
  },
  status: {
    summary:
      'the last run of each flow, health, newest verified backups and snapshots against the RPO, snapshot quota',
    load: () => import('./commands/status.ts'),
  },
  sandbox: {
    summary: 'run the local AWS endpoint for rehearsals and tests: `caretaker sandbox up`',
    load: () => import('./commands/sandbox.ts'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length), 4);
  const lines = Object.entries(COMMANDS).map(
    ([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`,
  );
  return [
    'Usage: caretaker <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `caretaker <command> --help` for its options; `caretaker --version` for the version.',
  ].join('\n');
}

/** The package's version, from its package.json. */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-V') {
    console.log(`caretaker ${version()}`);
    return 0;
  }
  if (!name) {
    // No command is a usage error: the usage goes to stderr, as every usage error's does.
    console.error(usage());
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`caretaker: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.run(args);
}

process.exitCode = await main(process.argv.slice(2));
