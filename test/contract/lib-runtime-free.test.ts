/**
 * The CDK app shares names with the functions (tag keys, error names, seal purposes) by importing
 * them, but must not load the functions' runtime: functions/common/runtime/observability.ts creates the
 * metrics, logger and tracer singletons from the environment at import time, so a CDK app (or a
 * test) that loads it first fixes their settings for every handler it imports later.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function importedBy(entry: string): Promise<Map<string, string[]>> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const importers = new Map<string, string[]>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    for (const imported of input.imports)
      importers.set(imported.path, [...(importers.get(imported.path) ?? []), file]);
  }
  return importers;
}

describe('the CDK app', () => {
  it('imports no function runtime (observability singletons)', async () => {
    const importers = await importedBy('lib/app.ts');

    expect(importers.get('functions/common/runtime/observability.ts') ?? []).toEqual([]);
    expect(importers.get('functions/common/runtime/middleware.ts') ?? []).toEqual([]);
  });
});
