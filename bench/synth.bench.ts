/**
 * bench:synth — how long `cdk synth` takes with the example config, how big each function's
 * bundle is, and how long each takes to initialise: its bundle imported in a fresh process on
 * the Lambda runtime's Node major (the template's Runtime; the `node` devDependency installs that
 * Node in node_modules/.bin), with its environment from the template (bench/synth/init-time.ts).
 * Prints figures (no pass/fail), ending with one JSON line.
 * Targets to report against: synth ≤ 20 s on this machine; each bundle ≤ 300 KB minified; each
 * function's init ≤ 250 ms.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initTime, type TemplateFunction } from './synth/init-time.ts';

const BUNDLE_TARGET_KB = 300;
const INIT_TARGET_MS = 250;
const root = resolve(import.meta.dirname, '..');
const outDir = mkdtempSync(join(tmpdir(), 'caretaker-bench-synth-'));
try {
  const started = performance.now();
  const result = spawnSync('node', ['node_modules/aws-cdk/bin/cdk', 'synth', '--quiet', '-o', outDir], {
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  const synthSeconds = (performance.now() - started) / 1000;
  if (result.status !== 0) {
    console.error(result.stderr);
    process.exit(1);
  }

  // Map each Lambda asset directory to its function's logical id through the template.
  const templateFile = readdirSync(outDir).find((file) => file.endsWith('.template.json'))!;
  const template = JSON.parse(readFileSync(join(outDir, templateFile), 'utf8')) as {
    Resources: Record<
      string,
      {
        Type: string;
        Metadata?: Record<string, string>;
        Properties?: {
          Handler?: string;
          Runtime?: string;
          MemorySize?: number;
          Environment?: { Variables?: Record<string, unknown> };
        };
      }
    >;
  };
  const functions: TemplateFunction[] = Object.entries(template.Resources)
    .filter(
      ([, resource]) => resource.Type === 'AWS::Lambda::Function' && resource.Metadata?.['aws:asset:path'],
    )
    .map(([logicalId, resource]) => ({
      logicalId,
      assetDir: join(outDir, resource.Metadata!['aws:asset:path']!),
      handler: resource.Properties?.Handler ?? 'index.handler',
      ...(resource.Properties?.MemorySize ? { memorySize: resource.Properties.MemorySize } : {}),
      environment: resource.Properties?.Environment?.Variables ?? {},
    }));
  const runtimes = new Set(
    Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => resource.Properties?.Runtime ?? ''),
  );
  const major = /^nodejs(\d+)\.x$/.exec([...runtimes][0] ?? '')?.[1];
  const node = join(root, 'node_modules', '.bin', 'node');
  const nodeVersion = existsSync(node) ? execFileSync(node, ['--version']).toString().trim() : 'missing';
  if (runtimes.size !== 1 || !major || !nodeVersion.startsWith(`v${major}.`)) {
    console.warn(
      `Functions run on ${[...runtimes].join(', ')}, but node_modules/.bin/node is ${nodeVersion}: init times are for that Node`,
    );
  }

  const measured = [];
  for (const fn of functions) {
    const code = readdirSync(fn.assetDir).find((file) => /^index\.m?js$/.test(file))!;
    const kilobytes = statSync(join(fn.assetDir, code)).size / 1024;
    const init = await initTime(node, fn, template.Resources, join(root, 'node_modules'));
    measured.push({ function: fn.logicalId, kilobytes, ...init });
  }
  measured.sort((a, b) => b.kilobytes - a.kilobytes);

  console.log(
    `cdk synth (example config, local esbuild bundling): ${synthSeconds.toFixed(2)} s (target ≤ 20 s); load average ${loadavg()[0]?.toFixed(1)}`,
  );
  console.log(
    `Bundles (minified, without source map; target ≤ ${BUNDLE_TARGET_KB} KB) and init (import of the bundle in a fresh process on Node ${nodeVersion}, median of 3; target ≤ ${INIT_TARGET_MS} ms):`,
  );
  for (const m of measured) {
    const over = [
      m.kilobytes > BUNDLE_TARGET_KB ? 'bundle over' : '',
      m.initMs !== undefined && m.initMs > INIT_TARGET_MS ? 'init over' : '',
    ].filter(Boolean);
    const init =
      m.initMs === undefined
        ? `init failed: ${m.error}`
        : `${m.initMs.toFixed(0).padStart(5)} ms (AWS SDK ${m.sdkMs!.toFixed(0).padStart(4)} ms, own ${(m.initMs - m.sdkMs!).toFixed(0).padStart(4)} ms)`;
    console.log(
      `  ${m.function.padEnd(40)} ${m.kilobytes.toFixed(1).padStart(8)} KB  ${init}${over.length ? `  (${over.join(', ')})` : ''}`,
    );
  }
  const maxBundleKB = Math.max(...measured.map((m) => m.kilobytes));
  const inits = measured.filter((m) => m.initMs !== undefined).map((m) => m.initMs!);
  console.log(
    JSON.stringify({
      synthSeconds: Number(synthSeconds.toFixed(2)),
      maxBundleKB: Number(maxBundleKB.toFixed(1)),
      maxInitMs: inits.length ? Math.round(Math.max(...inits)) : null,
      initFailures: measured.filter((m) => m.initMs === undefined).map((m) => m.function),
      node: nodeVersion,
      bundles: Object.fromEntries(measured.map((m) => [m.function, Number(m.kilobytes.toFixed(1))])),
      initMs: Object.fromEntries(
        measured.map((m) => [m.function, m.initMs === undefined ? null : Math.round(m.initMs)]),
      ),
    }),
  );
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
