/**
 * Deploys a synthesized stack into a running sandbox, as CloudFormation creates a stack: every
 * resource after the ones it refers to, each with its intrinsics resolved against the physical
 * ids made so far, through the sandbox's service APIs (or in process where a service has none).
 */
import { randomUUID } from 'node:crypto';
import { DeleteScheduleCommand, ResourceNotFoundException } from '@aws-sdk/client-scheduler';
import type { Sandbox } from '../core/server.ts';
import type { IamRegistry } from '../iam-registry/index.ts';
import { readAssembly } from './assembly.ts';
import { type Created, DeployContext, type ResolvedResource, text } from './context.ts';
import { conditionHolds, type ResolveScope, resolveValue } from './intrinsics.ts';
import { creationOrder } from './plan.ts';
import { checkStoredPolicies, lintStoredPolicies } from './policy-checks.ts';
import { type DeploymentRecord, type RecordedResource, readRecord, writeRecord } from './record.ts';
import { HANDLERS, identifyNotModelled, NOT_MODELLED } from './resources/index.ts';
import { isObject, TemplateError } from './template.ts';

export interface DeployOptions {
  /** A cloud assembly directory (`cdk.out`, or `synthesize()`'s `assemblyDir`). */
  readonly assemblyDir: string;
  /** The stack to deploy; the assembly's only stack when omitted. */
  readonly stackName?: string;
  /** Create every schedule DISABLED, so nothing fires until enabled by hand. @default false */
  readonly pauseSchedules?: boolean;
}

/** One created resource. */
export interface DeployedResource {
  readonly type: string;
  /** What Ref gives: a name, an ARN, a URL or an id, by type. */
  readonly physicalId: string;
  /** The resource's ARN, where it has one. */
  readonly arn?: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** The execution role (functions, state machines, schedules). */
  readonly role?: string;
  /** Properties present in the template that the sandbox does not apply. */
  readonly ignoredProperties: readonly string[];
  /** What the sandbox does in part or instead (Object Lock not emulated, policy stored for IAM, …). */
  readonly notes: readonly string[];
}

/** A resource of the template that the sandbox does not create, and why. */
export interface NotModelledResource {
  readonly logicalId: string;
  readonly type: string;
  readonly reason: string;
}

export interface DeployResult {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  /** The stack's Outputs, resolved. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly outputDescriptions: Readonly<Record<string, string>>;
  /** Export name → value, for Outputs with an Export. */
  readonly exports: Readonly<Record<string, string>>;
  /** Logical id → what was created. */
  readonly resources: Readonly<Record<string, DeployedResource>>;
  /** Function name → its execution role's ARN. */
  readonly functions: Readonly<Record<string, string>>;
  /** Listed by logical id, never dropped silently. */
  readonly notModelled: readonly NotModelledResource[];
  /**
   * Things the user should know: an account the template is pinned to, paused schedules, and what
   * linting the deployment's policies found (misspelt actions, unknown condition keys: IAM accepts
   * them and they match nothing).
   */
  readonly warnings: readonly string[];
}

/** Fails before anything is created when the template has a type the deployer does not know. */
function checkTypes(resources: Readonly<Record<string, { Type: string }>>): void {
  const unknown = Object.entries(resources).filter(
    ([, resource]) => !(resource.Type in HANDLERS) && !(resource.Type in NOT_MODELLED),
  );
  if (unknown.length > 0) {
    throw new TemplateError(
      `The sandbox cannot deploy resource types it does not know: ${unknown
        .map(([id, resource]) => `${resource.Type} (${id})`)
        .join(', ')}`,
    );
  }
}

/**
 * Deletes the schedules an earlier deployment of this stack made that the template no longer has
 * (they would go on firing), as a stack update deletes removed resources. Other removed resources
 * stay, inert, and are named in the returned warnings.
 */
async function removeStaleSchedules(
  context: DeployContext,
  previous: DeploymentRecord | undefined,
  resources: Readonly<Record<string, { Type: string }>>,
): Promise<string[]> {
  const warnings: string[] = [];
  for (const [logicalId, earlier] of Object.entries(previous?.resources ?? {})) {
    if (resources[logicalId]?.Type === earlier.type) continue;
    if (earlier.type === 'AWS::Scheduler::Schedule') {
      try {
        await context.clients.scheduler.send(new DeleteScheduleCommand({ Name: earlier.ref }));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    } else {
      warnings.push(
        `${logicalId} (${earlier.type}) from an earlier deployment is no longer in the template; it was left as it is.`,
      );
    }
  }
  return warnings;
}

/**
 * Creates every resource of the stack in `sandbox`. A TemplateError (or a service error) names the
 * resource that failed; what was created before it stays, as with a failed stack creation whose
 * rollback is disabled. Deploying the same stack again into the same data directory updates it in
 * place, keeping physical names.
 */
export async function deployStack(sandbox: Sandbox, options: DeployOptions): Promise<DeployResult> {
  const assembly = readAssembly(options.assemblyDir, options.stackName);
  const { template, stackName } = assembly;
  checkTypes(template.Resources);
  const order = creationOrder(template);
  const region = assembly.region ?? sandbox.context.defaultRegion;
  const accountId = sandbox.context.accountId;
  const warnings: string[] = [];
  if (assembly.account !== undefined && assembly.account !== accountId) {
    warnings.push(
      `The stack is pinned to account ${assembly.account}; the sandbox's account is ${accountId}, so ARNs the template spells with ${assembly.account} name nothing here.`,
    );
  }
  if (options.pauseSchedules)
    warnings.push('Schedules were created DISABLED: nothing fires until you enable one.');
  const previous = readRecord(sandbox.context.dataDir, stackName);
  const context = new DeployContext(sandbox, assembly, region, previous, {
    pauseSchedules: options.pauseSchedules ?? false,
  });
  const registry = sandbox.context.service<IamRegistry>('iam');
  const refs = new Map<string, string>();
  const attributes = new Map<string, Readonly<Record<string, string>>>();
  const scope: ResolveScope = {
    pseudo: {
      region,
      accountId,
      stackName,
      stackId: `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/${randomUUID()}`,
    },
    template,
    refs,
    attributes,
  };
  const resources: Record<string, DeployedResource> = {};
  const notModelled: NotModelledResource[] = [];
  const recorded: Record<string, RecordedResource> = {};
  try {
    for (const logicalId of order) {
      const resource = template.Resources[logicalId];
      if (!resource) continue;
      if (resource.Condition !== undefined && !conditionHolds(resource.Condition, scope)) continue;
      const where = `Resources.${logicalId}`;
      let created: Created;
      const handler = HANDLERS[resource.Type];
      try {
        if (handler) {
          const properties = resolveValue(resource.Properties ?? {}, scope, `${where}.Properties`);
          const resolved: ResolvedResource = {
            logicalId,
            type: resource.Type,
            properties: isObject(properties) ? properties : {},
          };
          created = await handler.create(context, resolved);
          if (registry) checkStoredPolicies(registry, logicalId);
          if (created.skipped) {
            notModelled.push({ logicalId, type: resource.Type, reason: created.skipped });
          } else {
            resources[logicalId] = {
              type: resource.Type,
              physicalId: created.ref,
              ...(created.attributes.Arn ? { arn: created.attributes.Arn } : {}),
              attributes: created.attributes,
              ...(created.role ? { role: created.role } : {}),
              ignoredProperties: Object.keys(resolved.properties).filter(
                (name) => !handler.applies.includes(name),
              ),
              notes: created.notes ?? [],
            };
          }
        } else {
          // Only the name of a not-modelled resource matters: what refers to it needs its ARN.
          const nameProperty = Object.keys(resource.Properties ?? {}).filter((name) => /Name$/.test(name));
          const named = Object.fromEntries(
            nameProperty.map((name) => [
              name,
              resolveValue(resource.Properties?.[name], scope, `${where}.Properties.${name}`),
            ]),
          );
          created = identifyNotModelled(context, { logicalId, type: resource.Type, properties: named });
          notModelled.push({
            logicalId,
            type: resource.Type,
            reason: NOT_MODELLED[resource.Type]?.reason ?? '',
          });
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new TemplateError(`${logicalId} (${resource.Type}): ${message}`, { cause: error });
      }
      refs.set(logicalId, created.ref);
      attributes.set(logicalId, created.attributes);
      context.created.set(logicalId, { ...created, type: resource.Type });
      recorded[logicalId] = {
        type: resource.Type,
        ref: created.ref,
        attributes: created.attributes,
        ...(created.physicalName ? { physicalName: created.physicalName } : {}),
      };
    }
    warnings.push(...(await removeStaleSchedules(context, previous, template.Resources)));
    if (registry)
      warnings.push(...(await lintStoredPolicies(registry, new Set(Object.keys(template.Resources)))));
    writeRecord(sandbox.context.dataDir, { stackName, region, resources: recorded });
  } catch (error) {
    // A failed deployment keeps every name, so a retry updates what it made instead of doubling it.
    writeRecord(sandbox.context.dataDir, {
      stackName,
      region,
      resources: { ...previous?.resources, ...recorded },
    });
    throw error;
  } finally {
    context.destroy();
  }

  const outputs: Record<string, string> = {};
  const outputDescriptions: Record<string, string> = {};
  const exports: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    if (output.Condition !== undefined && !conditionHolds(output.Condition, scope)) continue;
    outputs[name] = text(resolveValue(output.Value, scope, `Outputs.${name}.Value`)) ?? '';
    if (output.Description) outputDescriptions[name] = output.Description;
    if (output.Export) {
      exports[text(resolveValue(output.Export.Name, scope, `Outputs.${name}.Export.Name`)) ?? name] =
        outputs[name];
    }
  }
  const functions = Object.fromEntries(
    Object.values(resources)
      .filter((resource) => resource.type === 'AWS::Lambda::Function')
      .map((resource) => [resource.physicalId, resource.role ?? '']),
  );
  return {
    stackName,
    region,
    accountId,
    outputs,
    outputDescriptions,
    exports,
    resources,
    functions,
    notModelled,
    warnings,
  };
}
