/**
 * IAM enforcement for the whole sandbox, in one place: every request signed with a role session's
 * credentials (a deployed function's), and every call a state machine or a schedule makes in
 * process with its role, is decided here by the evaluator (sandbox/iam/) from the role's identity
 * policies and the resource's policy as the deployed template has them. A denial is recorded with
 * its deciding statement; with enforcement on, the caller gets the AccessDenied error its service
 * answers. The administrator (the sandbox's plain credentials) is never evaluated.
 */

import { type AuthorizationResult, authorize, type ContextInput, explainDenial } from '../../iam/index.ts';
import type { IamRegistry } from '../../iam-registry/index.ts';
import type { AccessCheck, CheckedResource } from './checks.ts';
import { CredentialIssuer, type RoleSession, sessionNameOf } from './credentials.ts';
import { type Denial, DenialLog, type DenialOrigin } from './denials.ts';
import { PolicySource } from './policies.ts';

/**
 * `enforce`: a denied call fails as in AWS. `report`: it is recorded (`enforced: false`) and goes
 * through, for rehearsing a template whose permissions are still being written.
 */
export type EnforcementMode = 'enforce' | 'report';

/** Settings read from `settings.iam`. */
export interface IamSettings {
  /** @default 'report' for startSandbox, 'enforce' for startDefaultSandbox and `caretaker sandbox up` */
  readonly enforcement?: EnforcementMode;
}

/** What the request itself tells IAM, besides the checks. */
export interface RequestFacts {
  /** The signing name of the service called, or acting (`states`, `scheduler`). */
  readonly service: string;
  readonly operation?: string;
  readonly region: string;
  /** Whether the request came over TLS (`aws:SecureTransport`). */
  readonly secureTransport: boolean;
  /** The TLS protocol, `TLSv1.3`, when it did. */
  readonly tlsVersion?: string;
  readonly sourceIp?: string;
  readonly requestId?: string;
  readonly origin: DenialOrigin;
}

export interface AccessControlOptions {
  readonly accountId: string;
  readonly mode: EnforcementMode;
  readonly registry: () => IamRegistry | undefined;
}

function firstDenied(result: AuthorizationResult) {
  return result.resources.find((resource) => resource.decision === result.decision);
}

export class AccessControl {
  readonly credentials = new CredentialIssuer();
  readonly denials = new DenialLog();
  readonly #policies: PolicySource;

  constructor(private readonly options: AccessControlOptions) {
    this.#policies = new PolicySource(options.registry, options.accountId);
  }

  get mode(): EnforcementMode {
    return this.options.mode;
  }

  /**
   * Whether calls made with this role are evaluated: the role came from a deployed template. A role
   * ARN nobody deployed (a placeholder in a hand-made state machine or function registration) is no
   * IAM role the sandbox knows; its holder acts with the sandbox's own rights, as before enforcement.
   */
  knowsRole(roleArn: string | undefined): roleArn is string {
    return roleArn !== undefined && this.#policies.knowsRole(roleArn);
  }

  /** A role session (for in-process callers: a state machine, a schedule). */
  session(roleArn: string, sessionName: string): RoleSession {
    return { roleArn, sessionName: sessionNameOf(sessionName) };
  }

  #globalContext(session: RoleSession, facts: RequestFacts, check: AccessCheck): ContextInput {
    const now = new Date();
    const roleId = this.#policies.roleId(session.roleArn);
    const via = check.calledVia;
    return {
      'aws:CurrentTime': now,
      'aws:EpochTime': Math.floor(now.getTime() / 1000),
      // A service calling on the caller's behalf (S3 → KMS) does so over TLS, from AWS's network.
      'aws:SecureTransport': via === undefined ? facts.secureTransport : true,
      'aws:SourceIp': via === undefined ? facts.sourceIp : undefined,
      'aws:RequestedRegion': facts.region,
      'aws:ViaAWSService': via !== undefined,
      'aws:CalledVia': via === undefined ? undefined : [via],
      'aws:CalledViaFirst': via,
      'aws:CalledViaLast': via,
      'aws:PrincipalIsAWSService': false,
      'aws:ResourceAccount': this.options.accountId,
      'aws:userid': roleId === undefined ? undefined : `${roleId}:${session.sessionName}`,
    };
  }

  #decide(session: RoleSession, check: AccessCheck, resource: CheckedResource, facts: RequestFacts) {
    const policyArn = resource.policyOf === undefined ? resource.arn : resource.policyOf;
    const policy =
      policyArn === null ? undefined : this.#policies.resourcePolicy(policyArn, resource.kmsKey === true);
    return authorize({
      principal: {
        kind: 'role',
        roleArn: session.roleArn,
        sessionName: session.sessionName,
        policies: this.#policies.identityPolicies(session.roleArn),
      },
      action: check.action,
      resources: [
        {
          arn: resource.arn,
          ...(policy === undefined ? {} : { policy }),
          ...(resource.kmsKey ? { kmsKey: true } : {}),
        },
      ],
      context: { ...this.#globalContext(session, facts, check), ...check.context, ...resource.context },
    });
  }

  /**
   * Decides every check (each action on each of its resources) for a role session. Records and
   * returns the first denial; undefined when everything is allowed. Whether to fail the call is the
   * caller's: `denial.enforced` says.
   */
  evaluate(session: RoleSession, checks: readonly AccessCheck[], facts: RequestFacts): Denial | undefined {
    for (const accessCheck of checks) {
      for (const resource of accessCheck.resources) {
        const result = this.#decide(session, accessCheck, resource, facts);
        if (result.decision === 'Allow') continue;
        const decided = firstDenied(result);
        const denial: Denial = {
          time: new Date(),
          principal: result.principal,
          roleArn: session.roleArn,
          sessionName: session.sessionName,
          action: accessCheck.action,
          resources: result.resources.filter((r) => r.decision !== 'Allow').map((r) => r.resource),
          decision: result.decision,
          reason: decided?.reason ?? 'NoAllow',
          statements: decided?.statements ?? [],
          explanation: explainDenial(result),
          service: facts.service,
          ...(facts.operation === undefined ? {} : { operation: facts.operation }),
          origin: facts.origin,
          ...(facts.requestId === undefined ? {} : { requestId: facts.requestId }),
          enforced: this.options.mode === 'enforce',
        };
        this.denials.add(denial);
        return denial;
      }
    }
    return undefined;
  }
}
