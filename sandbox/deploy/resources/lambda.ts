/**
 * AWS::Lambda::Function, registered with the sandbox's Lambda in process (it has no
 * CreateFunction): the bundled code from the assembly, the template's handler, environment,
 * timeout, memory and role. AWS::Lambda::Permission becomes a statement of the function's
 * resource policy in the IAM registry.
 */
import { type DeployContext, type ResolvedResource, type ResourceHandler, text } from '../context.ts';
import { type DeployedCode, deployCode, deployInlineCode } from '../lambda-code.ts';
import { isObject, TemplateError } from '../template.ts';

/** Lambda's defaults when the template gives none. */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;

function codeOf(
  context: DeployContext,
  resource: ResolvedResource,
  name: string,
  handler: string,
): DeployedCode {
  const code = resource.properties.Code;
  if (!isObject(code)) throw new TemplateError('Code is required');
  if (typeof code.ZipFile === 'string') {
    return deployInlineCode(context.dataDir, context.region, name, code.ZipFile, handler);
  }
  if (typeof code.S3Key === 'string') {
    const asset = context.assembly.assets.get(code.S3Key);
    if (!asset) {
      throw new TemplateError(
        `Code.S3Key ${code.S3Key} is not an asset of this cloud assembly (only code synthesized with the stack can be deployed)`,
      );
    }
    return deployCode(
      context.dataDir,
      context.region,
      name,
      code.S3Key.replace(/\.zip$/, ''),
      asset,
      handler,
    );
  }
  throw new TemplateError(
    'Code: only assets of the cloud assembly (S3Key) and inline code (ZipFile) are deployable',
  );
}

export const lambdaFunction: ResourceHandler = {
  applies: [
    'FunctionName',
    'Code',
    'Handler',
    'Runtime',
    'Environment',
    'Timeout',
    'MemorySize',
    'Role',
    'Description',
  ],
  async create(context, resource) {
    const p = resource.properties;
    const runtime = text(p.Runtime) ?? '';
    if (!runtime.startsWith('nodejs')) {
      throw new TemplateError(`Runtime ${runtime || '(none)'}: the sandbox runs Node.js functions only`);
    }
    const name = context.nameFor(resource, p.FunctionName, { maxLength: 64 });
    const handler = text(p.Handler) ?? 'index.handler';
    const code = codeOf(context, resource, name, handler);
    const variables = (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const environment = Object.fromEntries(
      Object.entries(variables).map(([key, value]) => [key, text(value) ?? '']),
    );
    const role = text(p.Role);
    context.lambda().register({
      name,
      modulePath: code.modulePath,
      handler: code.exportName,
      environment,
      timeoutMs: Number(p.Timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
      memoryMb: Number(p.MemorySize ?? DEFAULT_MEMORY_MB),
      description: text(p.Description) ?? '',
      region: context.region,
      ...(role === undefined ? {} : { role }),
    });
    return {
      ref: name,
      physicalName: name,
      attributes: { Arn: context.arn('lambda', `function:${name}`) },
      ...(role === undefined ? {} : { role }),
      notes: [`Code: ${code.modulePath}`],
    };
  },
};

/** The principal element a Permission's Principal stands for. */
function principalOf(principal: string): unknown {
  if (principal === '*') return '*';
  if (/\.amazonaws\.com(\.cn)?$/.test(principal)) return { Service: principal };
  return { AWS: /^\d{12}$/.test(principal) ? `arn:aws:iam::${principal}:root` : principal };
}

export const lambdaPermission: ResourceHandler = {
  applies: [
    'FunctionName',
    'Action',
    'Principal',
    'SourceArn',
    'SourceAccount',
    'PrincipalOrgID',
    'FunctionUrlAuthType',
  ],
  async create(context, resource) {
    const p = resource.properties;
    const functionName = String(p.FunctionName);
    const functionArn = functionName.startsWith('arn:')
      ? functionName
      : context.arn('lambda', `function:${functionName}`);
    const conditions: Record<string, Record<string, string>> = {};
    if (p.SourceArn !== undefined) conditions.ArnLike = { 'AWS:SourceArn': String(p.SourceArn) };
    const equals: Record<string, string> = {};
    if (p.SourceAccount !== undefined) equals['AWS:SourceAccount'] = String(p.SourceAccount);
    if (p.PrincipalOrgID !== undefined) equals['aws:PrincipalOrgID'] = String(p.PrincipalOrgID);
    if (p.FunctionUrlAuthType !== undefined)
      equals['lambda:FunctionUrlAuthType'] = String(p.FunctionUrlAuthType);
    if (Object.keys(equals).length > 0) conditions.StringEquals = equals;
    context.iam().addResourcePolicyStatements(functionArn, resource.logicalId, [
      {
        Sid: resource.logicalId,
        Effect: 'Allow',
        Principal: principalOf(String(p.Principal)),
        Action: String(p.Action),
        Resource: functionArn,
        ...(Object.keys(conditions).length > 0 ? { Condition: conditions } : {}),
      },
    ]);
    return { ref: resource.logicalId, attributes: {} };
  },
};
