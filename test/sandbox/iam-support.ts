/**
 * Roles for the IAM enforcement tests: stored in the sandbox's IAM registry as a deployment stores
 * them, with credentials for a session of each, and SDK client settings that call the sandbox as
 * that session over HTTPS (trusting the sandbox CA) or plain HTTP.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { SessionCredentials } from '../../sandbox/core/access/credentials.ts';
import type { IamRegistry, PolicyDocument } from '../../sandbox/iam-registry/index.ts';
import type { Sandbox } from '../../sandbox/index.ts';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';

export interface TestRole {
  readonly roleArn: string;
  /** The session's ARN as errors and the denial record name it. */
  readonly principal: string;
  readonly credentials: SessionCredentials;
}

function registryOf(sandbox: Sandbox): IamRegistry {
  const registry = sandbox.context.service<IamRegistry>('iam');
  if (!registry) throw new Error('these tests need the IAM registry service');
  return registry;
}

/** Stores a role with one inline policy of `statements`, and issues credentials for a session of it. */
export function role(
  sandbox: Sandbox,
  name: string,
  statements: readonly unknown[],
  sessionName = `${name}-session`,
): TestRole {
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/${name}`;
  const registry = registryOf(sandbox);
  registry.putRole({
    arn: roleArn,
    name,
    roleId: `AROA${name.toUpperCase().padEnd(17, 'X').slice(0, 17)}`,
    path: '/',
    source: name,
    trustPolicy: {},
    managedPolicyArns: [],
  });
  registry.putRolePolicy(roleArn, {
    name: `${name}Policy`,
    source: `${name}Policy`,
    document: { Version: '2012-10-17', Statement: statements },
  });
  return {
    roleArn,
    principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/${sessionName}`,
    credentials: sandbox.context.access.credentials.issue(roleArn, sessionName),
  };
}

/** Stores a resource policy (bucket, key, topic or queue policy), as a deployment would. */
export function resourcePolicy(sandbox: Sandbox, resourceArn: string, statements: readonly unknown[]): void {
  const document: PolicyDocument = { Version: '2012-10-17', Statement: statements };
  registryOf(sandbox).putResourcePolicy({ resourceArn, source: 'TestPolicy', document });
}

let agent: Agent | undefined;

/** SDK client settings for a role session: HTTPS (the default) or plain HTTP. */
export function asRole(sandbox: Sandbox, testRole: TestRole, transport: 'https' | 'http' = 'https') {
  agent ??= new Agent({ ca: readFileSync(sandbox.caPath) });
  return {
    region: REGION,
    endpoint: transport === 'https' ? sandbox.httpsUrl : sandbox.url,
    credentials: testRole.credentials,
    ...(transport === 'https' ? { requestHandler: { httpsAgent: agent } } : {}),
    maxAttempts: 1,
  };
}

/** SDK client settings for the sandbox's own (administrator) credentials. */
export function asAdministrator(sandbox: Sandbox) {
  return {
    region: REGION,
    endpoint: sandbox.url,
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    maxAttempts: 1,
  };
}

/** The error a call rejects with (fails the test when it succeeds). */
export async function failure(
  call: Promise<unknown>,
): Promise<Error & { Code?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await call;
  } catch (error) {
    return error as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to be refused, and it succeeded');
}
