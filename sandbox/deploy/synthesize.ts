/**
 * Synthesizes Caretaker's stack in this process with the app `cdk synth` runs (lib/app.ts), Lambda
 * code bundled by the local esbuild, into a temporary cloud assembly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caretakerApp } from '../../lib/app.ts';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../lib/config/load.ts';

export interface SynthesizeOptions {
  /** The Caretaker config file (as `-c config=`). @default config/example.json */
  readonly configPath?: string;
  /** Where to write the assembly. @default a new temporary directory */
  readonly outdir?: string;
}

export interface SynthesizedAssembly {
  /** The cloud assembly directory, for `deployStack(sandbox, { assemblyDir })`. */
  readonly assemblyDir: string;
  readonly stackName: string;
  /** Removes the assembly when it was written to a temporary directory. */
  cleanup(): void;
}

/**
 * Synthesizes the stack for `configPath`; throws ConfigError (listing every problem) for a bad
 * config. Bundling every function takes seconds: synthesize once and deploy as often as needed.
 */
export function synthesize(options: SynthesizeOptions = {}): SynthesizedAssembly {
  const config = loadConfig(options.configPath ?? DEFAULT_CONFIG_PATH);
  const temporary = options.outdir === undefined;
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), 'caretaker-assembly-'));
  try {
    const { app, stack } = caretakerApp({ config, outdir });
    app.synth();
    return {
      assemblyDir: outdir,
      stackName: stack.stackName,
      cleanup: () => {
        if (temporary) rmSync(outdir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (temporary) rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}
