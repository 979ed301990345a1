/**
 * What `cdk synth` says when it is done, instead of thousands of lines of template: the stack,
 * its resources by type, the functions and state machines it makes, where the template is, and
 * cdk-nag's verdict. Pure, apart from {@link quietBundling}.
 */
import { TAG } from '../functions/common/contract.ts';

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface SynthSummaryInput {
  readonly stackName: string;
  readonly template: { readonly Resources?: Record<string, TemplateResource> };
  /** The template file, as the user would open it (relative to the working directory). */
  readonly templateFile: string;
  /** Unacknowledged cdk-nag findings (rule id and resource), from the validation report. */
  readonly nagFindings: readonly string[];
  readonly bundledAssets: number;
  readonly seconds: number;
}

/** A resource's name as the template gives it, else its logical id. */
function nameOf(logicalId: string, resource: TemplateResource, property: string): string {
  const name = resource.Properties?.[property];
  return typeof name === 'string' ? name : logicalId;
}

/** The summary lines (pure). */
export function synthSummary(input: SynthSummaryInput): string {
  const resources = Object.entries(input.template.Resources ?? {});
  const byType = new Map<string, number>();
  for (const [, resource] of resources) byType.set(resource.Type, (byType.get(resource.Type) ?? 0) + 1);
  const types = [...byType].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const machines = resources
    .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
    .map(([id, r]) => nameOf(id, r, 'StateMachineName'));
  const functions = resources
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => {
      const tags = (r.Properties?.Tags ?? []) as { Key: string; Value: string }[];
      return tags.find((tag) => tag.Key === TAG.function)?.Value ?? id;
    })
    .sort();
  const width = Math.max(...types.map(([type]) => type.length));
  return [
    `✔ ${input.stackName} synthesized in ${input.seconds.toFixed(1)} s: ${resources.length} resources`,
    ...types.map(([type, count]) => `    ${type.padEnd(width)}  ${count}`),
    `  ${functions.length} Lambda functions (${input.bundledAssets} bundled with esbuild): ${functions.join(', ')}`,
    `  ${machines.length} state machines: ${machines.join(', ')}`,
    `  Template: ${input.templateFile}`,
    input.nagFindings.length === 0
      ? '  cdk-nag AwsSolutions: no unacknowledged findings'
      : `  cdk-nag AwsSolutions: ${input.nagFindings.length} unacknowledged findings:\n${input.nagFindings.map((f) => `    ${f}`).join('\n')}`,
    '',
  ].join('\n');
}

/**
 * Mutes the "Bundling asset <path>..." line aws-cdk-lib writes to stderr for every function while
 * `run` runs, and counts them; everything else on stderr (esbuild's warnings and errors) passes.
 */
export function quietBundling<T>(run: () => T): { result: T; bundled: number } {
  const write = process.stderr.write.bind(process.stderr);
  let bundled = 0;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (/^Bundling asset \S+\.\.\.\n?$/.test(text)) {
      bundled += 1;
      return true;
    }
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return { result: run(), bundled };
  } finally {
    process.stderr.write = write;
  }
}
