/**
 * `caretaker status`: the state of a deployed Caretaker environment at a glance — the last
 * execution of each flow, health, the newest verified backup and snapshot of every set and target
 * against its RPO, and the manual snapshot quota — as text or one JSON document.
 * The same against AWS and the sandbox: the SDK reads the standard AWS settings.
 */
import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../../lib/config/load.ts';
import { CONFIG_OPTIONS, configPathOf } from './config-option.ts';

const USAGE = `Usage: caretaker status [--config <file> | -c config=<file>] [--json]

Shows the deployed environment the config describes: the last execution of each flow and its
newest report (and any open incident), the health its newest report recorded, the newest verified
backup of every backup set and snapshot of every RDS target with its age against the RPO, and the
manual snapshot quota of each region Caretaker snapshots into. Reads only; changes nothing.

  --config <file>   the Caretaker config the stack was deployed with (default ${DEFAULT_CONFIG_PATH});
                    -c config=<file> as for cdk works too
  --json            print one JSON document instead of text

Uses the standard AWS settings (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL for the sandbox, …) and
needs states:ListStateMachines/ListExecutions/DescribeStateMachine, lambda:GetFunctionConfiguration
(to find the backup bucket and key), s3:ListBucket/GetObject on the backup bucket, kms:Decrypt with
the stack key (backup seals) and rds:DescribeDBSnapshots/DescribeDBClusterSnapshots.
Exit codes: 0 everything within its objectives, 1 something needs attention (listed at the end,
and in "attention" with --json), 2 bad arguments or config.`;

interface Options {
  readonly config: string;
  readonly json: boolean;
}

function parseOptions(args: string[]): Options | 'help' {
  const { values } = parseArgs({
    args,
    allowPositionals: false,
    strict: true,
    options: {
      ...CONFIG_OPTIONS,
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const config = configPathOf(values, (message) => new TypeError(message)) ?? DEFAULT_CONFIG_PATH;
  return { config, json: values.json === true };
}

export async function run(args: string[]): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(args);
  } catch (error) {
    console.error(`caretaker status: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(options.config);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`caretaker status: ${error.message}`);
      return 2;
    }
    throw error;
  }

  // The reading code is the functions' own; its Powertools logs are for Lambda, not this terminal
  // (set before those modules load, as the logger reads it once).
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const [{ collectStatus }, { renderStatus }, aws, { backupCrypto }] = await Promise.all([
    import('../../lib/status/collect.ts'),
    import('../../lib/status/render.ts'),
    import('#common/runtime/clients'),
    import('#common/backup/crypto'),
  ]);
  const clients = {
    sfn: aws.sfn(),
    lambda: aws.lambda(),
    s3: aws.s3(),
    rds: (region?: string) => (region ? aws.rdsIn(region) : aws.rds()),
    sealCrypto: (keyArns: readonly string[]) =>
      backupCrypto({ keyArn: keyArns[0]!, trustedKeyArns: [...keyArns] }),
  };
  let report: Awaited<ReturnType<typeof collectStatus>>;
  try {
    report = await collectStatus(clients, config, { region: await clients.sfn.config.region() });
  } catch (error) {
    const { name, message } = error as Error;
    console.error(`caretaker status: ${name}: ${message}`);
    return 1;
  }
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
  return report.attention.length === 0 ? 0 : 1;
}
