/**
 * The sandbox's IAM registry: the roles, identity policies and resource policies of what was
 * deployed into the sandbox (`caretaker sandbox up --with-stack`), kept for the IAM evaluator
 * (sandbox/iam/) to decide requests by. It stores and exposes; it decides nothing.
 *
 * In process: `sandbox.context.service<IamRegistry>('iam')`. Over HTTP, unsigned:
 * `GET /_sandbox/iam/roles`, `GET /_sandbox/iam/resource-policies`, and the record of what IAM
 * refused, `GET /_sandbox/iam/denials` (kept by core/access, `sandbox.denials()`). The IAM API itself
 * (CreateRole, GetRole, …) is not emulated: roles come from the deployed template.
 * State persists in `<dataDir>/iam/registry.json`.
 */
import { join } from 'node:path';
import { denialJson } from '../core/access/denials.ts';
import { sendJson } from '../core/responses.ts';
import type { SandboxContext } from '../core/server.ts';
import { readStateFile, writeStateFile } from '../core/state-file.ts';
import { AwsError, type SandboxService } from '../core/types.ts';

/** A policy document as written in the template (intrinsics resolved), not parsed. */
export type PolicyDocument = Readonly<Record<string, unknown>>;

/** An identity policy of a role, named as reports should name it. */
export interface NamedPolicy {
  /** The inline policy's name (AWS::IAM::Policy PolicyName, or a Role's Policies[].PolicyName). */
  readonly name: string;
  /** The template's logical id of the resource that defined it. */
  readonly source: string;
  readonly document: PolicyDocument;
}

export interface RoleRecord {
  readonly arn: string;
  readonly name: string;
  /** AROA… as IAM reports it (the `aws:userid` prefix of a role session). */
  readonly roleId: string;
  readonly path: string;
  /** The logical id of the AWS::IAM::Role. */
  readonly source: string;
  readonly trustPolicy: PolicyDocument;
  /** Inline policies, by name. */
  readonly inlinePolicies: Readonly<Record<string, NamedPolicy>>;
  /** ManagedPolicyArns as given (the documents of AWS managed policies are not known here). */
  readonly managedPolicyArns: readonly string[];
  readonly description?: string;
}

/** A resource's own policy: key policy, bucket/topic/queue policy, or a function's permissions. */
export interface ResourcePolicyRecord {
  readonly resourceArn: string;
  /** The logical id of the resource that defined it (the last one, when several add statements). */
  readonly source: string;
  readonly document: PolicyDocument;
}

export interface IamRegistry extends SandboxService {
  readonly signingName: 'iam';
  /** Creates or replaces a role (its inline policies are kept unless given). */
  putRole(
    role: Omit<RoleRecord, 'inlinePolicies'> & { inlinePolicies?: Record<string, NamedPolicy> },
  ): RoleRecord;
  /** Adds or replaces one inline policy of a role; throws when the role is unknown. */
  putRolePolicy(roleArn: string, policy: NamedPolicy): void;
  role(roleArn: string): RoleRecord | undefined;
  roles(): RoleRecord[];
  /** Sets a resource's policy (replacing the one it had). */
  putResourcePolicy(record: ResourcePolicyRecord): void;
  /**
   * Adds statements to a resource's policy (Lambda permissions accumulate, one AddPermission
   * each); a statement with the same Sid replaces the earlier one.
   */
  addResourcePolicyStatements(
    resourceArn: string,
    source: string,
    statements: readonly PolicyDocument[],
  ): void;
  resourcePolicy(resourceArn: string): ResourcePolicyRecord | undefined;
  resourcePolicies(): ResourcePolicyRecord[];
}

interface StoredState {
  readonly version: 1;
  readonly roles: RoleRecord[];
  readonly resourcePolicies: ResourcePolicyRecord[];
}

/** Creates the registry; what an earlier run with the same data directory stored is loaded. */
export function iamRegistryService(context: SandboxContext): IamRegistry {
  const file = join(context.dataDir, 'iam', 'registry.json');
  const roles = new Map<string, RoleRecord>();
  const policies = new Map<string, ResourcePolicyRecord>();
  const stored = readStateFile(file) as StoredState | undefined;
  for (const role of stored?.roles ?? []) roles.set(role.arn, role);
  for (const policy of stored?.resourcePolicies ?? []) policies.set(policy.resourceArn, policy);

  function save(): void {
    const state: StoredState = {
      version: 1,
      roles: [...roles.values()],
      resourcePolicies: [...policies.values()],
    };
    writeStateFile(file, state);
  }

  return {
    signingName: 'iam',
    protocol: 'query',
    async handle(req) {
      throw new AwsError(
        'InvalidAction',
        `The sandbox does not emulate the IAM API (${req.url.searchParams.get('Action') ?? req.method}): roles and policies come from the deployed stack; read them at /_sandbox/iam/roles`,
      );
    },
    async handleInspection(req, res) {
      if (req.method !== 'GET') throw new AwsError('MethodNotAllowed', 'Use GET', 405);
      if (req.url.pathname === '/_sandbox/iam/roles') {
        sendJson(res, 200, { roles: [...roles.values()] }, 'application/json');
      } else if (req.url.pathname === '/_sandbox/iam/resource-policies') {
        sendJson(res, 200, { resourcePolicies: [...policies.values()] }, 'application/json');
      } else if (req.url.pathname === '/_sandbox/iam/denials') {
        const denials = context.access.denials.list().map(denialJson);
        sendJson(res, 200, { enforcement: context.access.mode, denials }, 'application/json');
      } else {
        throw new AwsError(
          'NotFound',
          `No inspection route ${req.url.pathname}; try /_sandbox/iam/roles, /_sandbox/iam/resource-policies or /_sandbox/iam/denials`,
          404,
        );
      }
    },
    putRole(role) {
      const existing = roles.get(role.arn);
      const record: RoleRecord = {
        ...role,
        inlinePolicies: role.inlinePolicies ?? existing?.inlinePolicies ?? {},
      };
      roles.set(role.arn, record);
      save();
      return record;
    },
    putRolePolicy(roleArn, policy) {
      const role = roles.get(roleArn);
      if (!role) throw new Error(`No role ${roleArn} in the sandbox's IAM registry`);
      roles.set(roleArn, { ...role, inlinePolicies: { ...role.inlinePolicies, [policy.name]: policy } });
      save();
    },
    role: (roleArn) => roles.get(roleArn),
    roles: () => [...roles.values()],
    putResourcePolicy(record) {
      policies.set(record.resourceArn, record);
      save();
    },
    addResourcePolicyStatements(resourceArn, source, statements) {
      const existing = policies.get(resourceArn)?.document;
      const kept = ((existing?.Statement as PolicyDocument[] | undefined) ?? []).filter(
        (statement) => !statements.some((added) => added.Sid !== undefined && added.Sid === statement.Sid),
      );
      policies.set(resourceArn, {
        resourceArn,
        source,
        document: { Version: '2012-10-17', Id: 'default', Statement: [...kept, ...statements] },
      });
      save();
    },
    resourcePolicy: (resourceArn) => policies.get(resourceArn),
    resourcePolicies: () => [...policies.values()],
  };
}
