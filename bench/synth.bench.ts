/**
 * bench:synth — how long `cdk synth` takes with the example config, and how big each function's
 * bundle is. Prints figures (no pass/fail), ending with one JSON line.
 * Targets to report against: synth ≤ 20 s on this machine; each bundle ≤ 300 KB minified.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
    Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
  };
  const bundles = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const assetDir = join(outDir, resource.Metadata?.['aws:asset:path'] ?? '');
      const code = readdirSync(assetDir).find((file) => /^index\.m?js$/.test(file))!;
      return { function: logicalId, kilobytes: statSync(join(assetDir, code)).size / 1024 };
    })
    .sort((a, b) => b.kilobytes - a.kilobytes);

  console.log(
    `cdk synth (example config, local esbuild bundling): ${synthSeconds.toFixed(2)} s (target ≤ 20 s)`,
  );
  console.log('Bundle sizes (minified, without source map; target ≤ 300 KB each):');
  for (const bundle of bundles)
    console.log(`  ${bundle.function.padEnd(40)} ${bundle.kilobytes.toFixed(1).padStart(8)} KB`);
  const maxBundleKB = Math.max(...bundles.map((bundle) => bundle.kilobytes));
  console.log(
    JSON.stringify({
      synthSeconds: Number(synthSeconds.toFixed(2)),
      maxBundleKB: Number(maxBundleKB.toFixed(1)),
      bundles: Object.fromEntries(bundles.map((b) => [b.function, Number(b.kilobytes.toFixed(1))])),
    }),
  );
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
