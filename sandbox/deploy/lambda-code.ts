/**
 * Deploying a function's code package as Lambda does: the bundled asset from the cloud assembly
 * (what `cdk deploy` uploads) copied into the sandbox's data directory, one directory per function
 * and code version, standing in for /var/task.
 *
 * Two files around it make the directory behave as on Lambda:
 * - `<dataDir>/lambda/code/node_modules/@aws-sdk` links to the sandbox's own AWS SDK, since the
 *   Node.js runtime provides `@aws-sdk/*` and the bundles leave it out (externalModules);
 * - `<dataDir>/lambda/code/package.json` without a "type" stops Node from reading the module
 *   format of an `index.js` from a package.json further up (a data directory inside this
 *   repository would otherwise make it ESM), as /var/task has none above it.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TemplateError } from './template.ts';

const MODULE_EXTENSIONS = ['.mjs', '.js', '.cjs'];

/** The sandbox's own `node_modules/@aws-sdk` directory. */
function sandboxAwsSdk(): string {
  const manifest = createRequire(import.meta.url).resolve('@aws-sdk/client-s3/package.json');
  return dirname(dirname(manifest));
}

/** Makes `<root>` a Lambda-like code root: the runtime's AWS SDK and a module-format boundary. */
function prepareRoot(root: string): void {
  const link = join(root, 'node_modules', '@aws-sdk');
  const target = sandboxAwsSdk();
  mkdirSync(dirname(link), { recursive: true });
  let current: string | undefined;
  try {
    current = readlinkSync(link);
  } catch {
    current = undefined;
  }
  if (current !== target) {
    rmSync(link, { recursive: true, force: true });
    symlinkSync(target, link, 'dir');
  }
  const boundary = join(root, 'package.json');
  if (!existsSync(boundary)) {
    writeFileSync(
      boundary,
      `${JSON.stringify({ description: 'Module-format boundary for deployed function code, as /var/task has no package.json above it.' }, null, 2)}\n`,
    );
  }
}

export interface DeployedCode {
  /** The directory standing in for /var/task. */
  readonly directory: string;
  /** The handler module file, from the Handler setting. */
  readonly modulePath: string;
  /** The exported function's name. */
  readonly exportName: string;
}

/**
 * Copies `source` (a bundled asset directory) to `<dataDir>/lambda/code/<region>/<function>/<version>`
 * and finds the module of `handler` (`index.handler` → index.mjs, index.js or index.cjs).
 */
export function deployCode(
  dataDir: string,
  region: string,
  functionName: string,
  version: string,
  source: string,
  handler: string,
): DeployedCode {
  const root = join(dataDir, 'lambda', 'code');
  prepareRoot(root);
  const directory = join(root, region, functionName, version);
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  if (statSync(source).isDirectory()) cpSync(source, directory, { recursive: true });
  else
    throw new TemplateError(
      `the code asset ${source} is a file; the deployer reads bundled asset directories`,
    );
  return locateHandler(directory, handler);
}

/** Writes inline code (Code.ZipFile) as Lambda does, into index.js. */
export function deployInlineCode(
  dataDir: string,
  region: string,
  functionName: string,
  code: string,
  handler: string,
): DeployedCode {
  const root = join(dataDir, 'lambda', 'code');
  prepareRoot(root);
  const directory = join(root, region, functionName, 'inline');
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'index.js'), code);
  return locateHandler(directory, handler);
}

function locateHandler(directory: string, handler: string): DeployedCode {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) throw new TemplateError(`Handler "${handler}" is not <module>.<export>`);
  const module = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  for (const extension of MODULE_EXTENSIONS) {
    const modulePath = join(directory, `${module}${extension}`);
    if (existsSync(modulePath)) return { directory, modulePath, exportName };
  }
  throw new TemplateError(
    `Handler "${handler}": the code has no ${module}${MODULE_EXTENSIONS.join(`, ${module}`)} (Runtime.ImportModuleError on Lambda)`,
  );
}
