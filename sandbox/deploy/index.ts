/**
 * Deploying Caretaker's synthesized stack into the sandbox (DESIGN §9): the functions run the
 * bundled code from the cloud assembly with the template's environment, the state machines run
 * the template's definitions, the roles and policies are kept for IAM. See docs/sandbox.md,
 * "Deploying the stack".
 *
 * ```ts
 * const { assemblyDir, cleanup } = synthesize({ configPath: 'config/example.json' });
 * const result = await deployStack(sandbox, { assemblyDir });
 * result.outputs.CleanupStateMachineArn; // arn:aws:states:us-east-1:000000000000:stateMachine:…
 * ```
 */
export { readAssembly, type StackAssembly } from './assembly.ts';
export {
  type DeployedResource,
  type DeployOptions,
  type DeployResult,
  deployStack,
  type NotModelledResource,
} from './deploy.ts';
export { differenceLines, outputLines } from './report.ts';
export { type SynthesizedAssembly, type SynthesizeOptions, synthesize } from './synthesize.ts';
export { TemplateError } from './template.ts';
