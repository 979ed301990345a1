/**
 * AWS::StepFunctions::StateMachine through the sandbox's Step Functions API: the definition from
 * DefinitionString (or Definition, or the DefinitionS3Location asset) with DefinitionSubstitutions
 * filled in, as CloudFormation does. A `${Placeholder}` left without a substitution fails the
 * deployment rather than reaching the interpreter.
 */
import { readFileSync } from 'node:fs';
import {
  CreateStateMachineCommand,
  DescribeStateMachineCommand,
  type LoggingConfiguration,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { type DeployContext, type ResolvedResource, type ResourceHandler, text } from '../context.ts';
import { isObject, TemplateError } from '../template.ts';

function definitionOf(context: DeployContext, resource: ResolvedResource): string {
  const p = resource.properties;
  if (typeof p.DefinitionString === 'string') return p.DefinitionString;
  if (isObject(p.Definition)) return JSON.stringify(p.Definition);
  const location = p.DefinitionS3Location as { Key?: string } | undefined;
  if (location?.Key) {
    const asset = context.assembly.assets.get(location.Key);
    if (!asset)
      throw new TemplateError(`DefinitionS3Location ${location.Key} is not an asset of this cloud assembly`);
    return readFileSync(asset, 'utf8');
  }
  throw new TemplateError('DefinitionString, Definition or DefinitionS3Location is required');
}

/** Fills `${Name}` with DefinitionSubstitutions; a placeholder with no substitution is an error. */
export function substitute(definition: string, substitutions: Readonly<Record<string, unknown>>): string {
  const filled = definition.replace(/\$\{([^}]+)\}/g, (whole, name: string) =>
    name in substitutions ? (text(substitutions[name]) ?? '') : whole,
  );
  const left = [...new Set([...filled.matchAll(/\$\{([^}]+)\}/g)].map((match) => match[1]))];
  if (left.length > 0) {
    throw new TemplateError(
      `the definition has placeholders without a DefinitionSubstitutions entry: ${left.map((n) => `\${${n}}`).join(', ')}`,
    );
  }
  return filled;
}

/** CloudFormation's LoggingConfiguration (PascalCase) as the API takes it (camelCase). */
function loggingOf(value: unknown): LoggingConfiguration | undefined {
  if (!isObject(value)) return undefined;
  const destinations =
    (value.Destinations as { CloudWatchLogsLogGroup?: { LogGroupArn?: string } }[] | undefined) ?? [];
  return {
    level: text(value.Level) as LoggingConfiguration['level'],
    includeExecutionData: value.IncludeExecutionData === true || value.IncludeExecutionData === 'true',
    destinations: destinations.map((d) => ({
      cloudWatchLogsLogGroup: { logGroupArn: d.CloudWatchLogsLogGroup?.LogGroupArn },
    })),
  };
}

export const stateMachine: ResourceHandler = {
  applies: [
    'StateMachineName',
    'DefinitionString',
    'Definition',
    'DefinitionS3Location',
    'DefinitionSubstitutions',
    'RoleArn',
    'StateMachineType',
    'LoggingConfiguration',
    'TracingConfiguration',
  ],
  async create(context, resource) {
    const p = resource.properties;
    const name = context.nameFor(resource, p.StateMachineName, { maxLength: 80 });
    const definition = substitute(
      definitionOf(context, resource),
      (p.DefinitionSubstitutions as Record<string, unknown> | undefined) ?? {},
    );
    const roleArn = text(p.RoleArn) ?? '';
    const loggingConfiguration = loggingOf(p.LoggingConfiguration);
    const tracing = p.TracingConfiguration as { Enabled?: unknown } | undefined;
    const tracingConfiguration =
      tracing === undefined ? undefined : { enabled: tracing.Enabled === true || tracing.Enabled === 'true' };
    const arn = context.arn('states', `stateMachine:${name}`);
    try {
      await context.clients.sfn.send(
        new CreateStateMachineCommand({
          name,
          definition,
          roleArn,
          type: (text(p.StateMachineType) ?? 'STANDARD') as 'STANDARD',
          loggingConfiguration,
          tracingConfiguration,
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'StateMachineAlreadyExists') throw error;
      await context.clients.sfn.send(
        new UpdateStateMachineCommand({
          stateMachineArn: arn,
          definition,
          roleArn,
          loggingConfiguration,
          tracingConfiguration,
        }),
      );
    }
    const { revisionId = '' } = await context.clients.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: arn }),
    );
    return {
      ref: arn,
      physicalName: name,
      attributes: { Arn: arn, Name: name, StateMachineRevisionId: revisionId },
      role: roleArn,
    };
  },
};
