/**
 * The example app (examples/team-app) synthesizes from the built package, offline: the package is
 * built (npm run build:package) and packed (npm pack), the tarball is unpacked into the app's
 * node_modules/caretaker as `npm install` would, and the app is type-checked against the package's
 * declarations and synthesized by the CDK CLI, bundling the functions from the sources the package
 * ships. The app sits under this repository's node_modules/.cache, so its other dependencies
 * (aws-cdk-lib, zod, …) resolve to the ones installed here instead of coming from a registry.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve('.');
const BIN = join(ROOT, 'node_modules/.bin');
const EXAMPLE = join(ROOT, 'examples/team-app');
const STACK = 'OrdersPlatform';

let work: string;
let app: string;
let template: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

const run = (command: string, args: string[], cwd: string) =>
  spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });

beforeAll(() => {
  mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true });
  work = mkdtempSync(join(ROOT, 'node_modules/.cache/caretaker-example-'));
  execFileSync(join(BIN, 'tsx'), ['bin/build-package.ts'], { cwd: ROOT, stdio: 'pipe' });
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }),
  ) as { filename: string }[];
  app = join(work, 'team-app');
  cpSync(EXAMPLE, app, {
    recursive: true,
    filter: (path) => !/node_modules|cdk\.out/.test(path.slice(EXAMPLE.length)),
  });
  mkdirSync(join(app, 'node_modules'));
  execFileSync('tar', ['-xzf', join(work, packed[0]!.filename), '-C', join(app, 'node_modules')]);
  renameSync(join(app, 'node_modules/package'), join(app, 'node_modules/caretaker'));
  const synth = run(
    join(BIN, 'cdk'),
    ['synth', '--quiet', '--app', `${join(BIN, 'tsx')} app.ts`, '--output', 'cdk.out', STACK],
    app,
  );
  if (synth.status !== 0) throw new Error(`cdk synth of the example app failed:\n${synth.stderr}`);
  template = JSON.parse(readFileSync(join(app, `cdk.out/${STACK}.template.json`), 'utf8'));
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const resourcesOf = (type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

describe('the example app, from the packed package', () => {
  it("puts Caretaker's flows and functions into the team's stack beside the team's own bucket", () => {
    const machines = resourcesOf('AWS::StepFunctions::StateMachine').map(([id]) => id);
    const buckets = resourcesOf('AWS::S3::Bucket').map(([, bucket]) => bucket.Properties?.BucketName);

    expect(machines).toHaveLength(5);
    expect(machines.every((id) => id.startsWith('Caretaker'))).toBe(true);
    expect(buckets).toContain('orders-platform-documents');
    expect(resourcesOf('AWS::Lambda::Function').length).toBeGreaterThanOrEqual(15);
  });

  it('bundles every function from the TypeScript sources the package ships', () => {
    const assets = JSON.parse(readFileSync(join(app, `cdk.out/${STACK}.assets.json`), 'utf8')) as {
      files: Record<string, { source: { path: string } }>;
    };
    const bundles = Object.values(assets.files)
      .map((file) => join(app, 'cdk.out', file.source.path))
      .filter((path) => existsSync(join(path, 'index.mjs')));

    expect(bundles.length).toBe(
      resourcesOf('AWS::Lambda::Function').filter(([id]) => id.startsWith('Caretaker')).length,
    );
    for (const bundle of bundles) expect(readFileSync(join(bundle, 'index.mjs'), 'utf8')).toMatch(/handler/);
  });

  it("type-checks against the package's declarations", () => {
    const check = run(join(BIN, 'tsc'), ['-p', 'tsconfig.json'], app);

    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('refuses a bad config at construction, naming the field, before synthesizing anything', () => {
    const config = JSON.parse(readFileSync(join(app, 'caretaker.json'), 'utf8'));
    config.backupSets[0].prefix = 7;
    writeFileSync(join(app, 'bad.json'), JSON.stringify(config));
    const source = readFileSync(join(app, 'app.ts'), 'utf8').replaceAll("'caretaker.json'", "'bad.json'");
    writeFileSync(join(app, 'bad-app.ts'), source);
    const outdir = join(work, 'bad.out');

    const result = spawnSync(join(BIN, 'tsx'), ['bad-app.ts'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, CDK_OUTDIR: outdir },
    });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Invalid Caretaker config bad.json (1 problem)');
    expect(result.stderr).toContain('backupSets[0].prefix');
    expect(existsSync(outdir) && readdirSync(outdir).length > 0).toBe(false);
  });

  it('runs the compiled CLI and exports the config contract without the CDK', () => {
    const version = run('node', ['node_modules/caretaker/bin/caretaker.js', '--version'], app);
    const config = run(
      'node',
      [
        '--input-type=module',
        '-e',
        "const c = await import('caretaker/config'); console.log(typeof c.parseConfig, c.configJsonSchema().title)",
      ],
      app,
    );

    expect(version.stdout.trim()).toBe(
      `caretaker ${JSON.parse(readFileSync('package.json', 'utf8')).version}`,
    );
    expect(config.stdout.trim()).toBe('function Caretaker configuration');
  });
});
