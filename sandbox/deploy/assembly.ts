/**
 * Reading a CDK cloud assembly (`cdk.out`): the stack's template, its environment, and where each
 * file asset's content is, keyed by the S3 object key the template uses for it (what
 * `cdk deploy` would have uploaded to the bootstrap bucket).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CfnTemplate, isObject, TemplateError } from './template.ts';

export interface StackAssembly {
  /** The assembly directory (absolute). */
  readonly directory: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
  /** S3 object key → absolute path of the asset (a directory for bundled code, or a file). */
  readonly assets: ReadonlyMap<string, string>;
  /** The account and region the stack is pinned to; undefined when environment-agnostic. */
  readonly account?: string;
  readonly region?: string;
}

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly properties?: {
    readonly templateFile?: string;
    readonly stackName?: string;
    readonly file?: string;
  };
  readonly dependencies?: readonly string[];
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TemplateError(`Cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
}

/** The file assets of one asset manifest, by the object key they are published under. */
function assetsOf(directory: string, manifestFile: string): Map<string, string> {
  const manifest = readJson(join(directory, manifestFile), 'asset manifest') as {
    files?: Record<
      string,
      { source?: { path?: string }; destinations?: Record<string, { objectKey?: string }> }
    >;
  };
  const assets = new Map<string, string>();
  for (const [id, file] of Object.entries(manifest.files ?? {})) {
    const path = file.source?.path;
    if (path === undefined) continue;
    const keys = Object.values(file.destinations ?? {}).flatMap((d) => (d.objectKey ? [d.objectKey] : []));
    if (keys.length === 0) throw new TemplateError(`Asset ${id} in ${manifestFile} has no object key`);
    for (const key of keys) assets.set(key, resolve(directory, path));
  }
  return assets;
}

/** `aws://<account>/<region>` with CDK's `unknown-account` / `unknown-region` placeholders. */
function environmentOf(environment: string | undefined): { account?: string; region?: string } {
  const match = /^aws:\/\/([^/]+)\/([^/]+)$/.exec(environment ?? '');
  if (!match) return {};
  const [, account, region] = match as unknown as [string, string, string];
  return {
    ...(account !== 'unknown-account' ? { account } : {}),
    ...(region !== 'unknown-region' ? { region } : {}),
  };
}

/**
 * Reads the stack `stackName` (the only stack when omitted) from the cloud assembly in
 * `assemblyDir`. A missing or ambiguous stack is a TemplateError naming the stacks there are.
 */
export function readAssembly(assemblyDir: string, stackName?: string): StackAssembly {
  const directory = resolve(assemblyDir);
  const manifestPath = join(directory, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new TemplateError(
      `${directory} is not a cloud assembly (no manifest.json): run \`cdk synth\` first`,
    );
  }
  const manifest = readJson(manifestPath, 'assembly manifest') as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const artifacts = manifest.artifacts ?? {};
  const stacks = Object.entries(artifacts).filter(
    ([, artifact]) => artifact.type === 'aws:cloudformation:stack',
  );
  const named = (id: string, artifact: ManifestArtifact) => artifact.properties?.stackName ?? id;
  const candidates =
    stackName === undefined ? stacks : stacks.filter(([id, artifact]) => named(id, artifact) === stackName);
  if (candidates.length !== 1) {
    const available = stacks.map(([id, artifact]) => named(id, artifact)).join(', ') || 'none';
    throw new TemplateError(
      stackName === undefined
        ? `The assembly in ${directory} has ${stacks.length} stacks (${available}): name one`
        : `The assembly in ${directory} has no stack ${stackName} (stacks: ${available})`,
    );
  }
  const [id, artifact] = candidates[0] as [string, ManifestArtifact];
  const templateFile = artifact.properties?.templateFile;
  if (!templateFile) throw new TemplateError(`Stack ${id} in ${directory} names no template file`);
  const template = readJson(join(directory, templateFile), 'template') as CfnTemplate;
  if (!isObject(template) || !isObject(template.Resources)) {
    throw new TemplateError(`${templateFile} has no Resources section`);
  }
  const assets = new Map<string, string>();
  for (const dependency of artifact.dependencies ?? []) {
    const other = artifacts[dependency];
    if (other?.type === 'cdk:asset-manifest' && other.properties?.file) {
      for (const [key, path] of assetsOf(directory, other.properties.file)) assets.set(key, path);
    }
  }
  return {
    directory,
    stackName: named(id, artifact),
    template,
    assets,
    ...environmentOf(artifact.environment),
  };
}
