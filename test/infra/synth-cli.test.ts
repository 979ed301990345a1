/**
 * `cdk synth` as a user runs it: offline with the example config, and refusing a bad config.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const outDirs: string[] = [];
afterAll(() => {
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

function freshOutDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'caretaker-synth-'));
  outDirs.push(dir);
  return dir;
}

const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_ENDPOINT_URL: '' };
const cdk = ['node_modules/aws-cdk/bin/cdk', 'synth', '--quiet'];

/**
 * Runs a command in a new network namespace with only a (down) loopback interface, so any
 * outbound connection attempt fails. Needs root or unprivileged user namespaces.
 */
function runWithoutNetwork(args: string[]) {
  const asRoot = process.getuid?.() === 0;
  return spawnSync('unshare', [...(asRoot ? ['--net'] : ['--net', '--map-root-user']), ...args], {
    encoding: 'utf8',
    env,
    timeout: 120_000,
  });
}

describe('cdk synth', () => {
  it('synthesizes the example config with no network at all, ending with a summary instead of the template', () => {
    const outDir = freshOutDir();

    // As the README runs it: no --quiet (cdk.json sets it).
    const result = runWithoutNetwork(['node', 'node_modules/aws-cdk/bin/cdk', 'synth', '-o', outDir]);
    const template = JSON.parse(readFileSync(join(outDir, 'Caretaker-example.template.json'), 'utf8'));
    const functions = Object.values(template.Resources).filter(
      (r: any) => r.Type === 'AWS::Lambda::Function',
    );

    expect(result.error, 'unshare must be available (util-linux)').toBeUndefined();
    expect(result.status, result.stderr).toBe(0);
    // The CDK CLI writes its own notices to stdout when CI=true and to stderr otherwise; the
    // summary is the app's (stderr). The template itself is printed nowhere.
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).not.toMatch(/AWSTemplateFormatVersion|Resources:/);
    expect(output).toMatch(
      new RegExp(
        `^✔ Caretaker-example synthesized in [\\d.]+ s: ${Object.keys(template.Resources).length} resources$`,
        'm',
      ),
    );
    expect(output).toMatch(new RegExp(`^ {4}AWS::Lambda::Function +${functions.length}$`, 'm'));
    expect(output).toMatch(/^ {2}5 state machines: .*Caretaker-example-RoutineMaintenance/m);
    expect(output).toMatch(/^ {2}Template: \S+$/m);
    // The path is relative to the working directory (the repository, as the test runs cdk).
    const shown = /^ {2}Template: (\S+)$/m.exec(output)?.[1] ?? '';
    expect(resolve(shown)).toBe(join(outDir, 'Caretaker-example.template.json'));
    expect(output).toContain('cdk-nag AwsSolutions: no unacknowledged findings');
    expect(output).not.toMatch(/Bundling asset|index\.mjs/);
  }, 120_000);

  it('refuses a config with three mistakes, names all three and synthesizes nothing', () => {
    const outDir = freshOutDir();

    const result = spawnSync(
      'node',
      [...cdk, '-c', 'config=test/fixtures/config/three-mistakes.json', '-o', outDir],
      {
        encoding: 'utf8',
        env,
        timeout: 120_000,
      },
    );

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('environment.timeZone: expected an IANA time zone name');
    expect(result.stderr).toContain('backupSets[1].prefix: expected string, received number');
    expect(result.stderr).toContain(
      'schedules.cleanup.expression: exactly one of day-of-month and day-of-week',
    );
    expect(readdirSync(outDir).filter((file) => file.endsWith('.template.json'))).toEqual([]);
  }, 120_000);
});
