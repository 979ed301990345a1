/**
 * awscli v2 (Debian's, at /usr/bin/aws) as a real client of the sandbox, for tests. It runs with
 * dummy credentials and an empty configuration of its own, so nothing on the machine leaks in,
 * and with `--endpoint-url` (v2.9 ignores AWS_ENDPOINT_URL).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';

/** Where CI installs awscli v2 (an older v1 may come first on PATH). */
export const AWS_CLI = '/usr/bin/aws';

const exec = promisify(execFile);

export interface AwsCli {
  /** The scratch home directory of this test file (for files to upload or download). */
  readonly home: string;
  /** Runs `aws <args>` against the sandbox and returns its standard output. */
  run(args: readonly string[], options?: { json?: boolean; timeoutMs?: number }): Promise<string>;
  /** Runs `aws <args> --output json` and parses the output (`{}` when it prints nothing). */
  json(...args: string[]): Promise<Record<string, any>>;
  /** The standard error of a call that must fail; throws when it succeeds. */
  failure(...args: string[]): Promise<string>;
}

/**
 * Registers beforeAll/afterAll hooks that check awscli is installed (failing with what to install
 * when it is not) and give it a scratch home; `endpoint` is read at each call.
 */
export function withAwsCli(endpoint: () => string): AwsCli {
  let home = '';
  beforeAll(() => {
    if (!existsSync(AWS_CLI)) {
      throw new Error(
        `awscli v2 is required at ${AWS_CLI} for this test (CI installs it; on Debian: apt-get install awscli)`,
      );
    }
    home = mkdtempSync(join(tmpdir(), 'caretaker-awscli-'));
  });
  afterAll(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const cli: AwsCli = {
    get home() {
      return home;
    },
    async run(args, options = {}) {
      const { stdout } = await exec(
        AWS_CLI,
        [
          '--endpoint-url',
          endpoint(),
          '--no-cli-pager',
          ...(options.json ? ['--output', 'json'] : []),
          ...args,
        ],
        {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: home,
            AWS_CONFIG_FILE: join(home, 'no-config'),
            AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
            AWS_ACCESS_KEY_ID: 'sandbox',
            AWS_SECRET_ACCESS_KEY: 'sandbox',
            AWS_REGION: 'us-east-1',
            AWS_DEFAULT_REGION: 'us-east-1',
            AWS_EC2_METADATA_DISABLED: 'true',
            AWS_PAGER: '',
          },
          timeout: options.timeoutMs ?? 120_000,
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      return stdout;
    },
    async json(...args) {
      const stdout = await cli.run(args, { json: true });
      return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, any>);
    },
    async failure(...args) {
      try {
        await cli.run(args, { json: true });
      } catch (error) {
        return String((error as { stderr?: string }).stderr);
      }
      throw new Error(`expected aws ${args.join(' ')} to fail`);
    },
  };
  return cli;
}
