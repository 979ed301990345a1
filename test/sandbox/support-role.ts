/** A role with one inline policy in a running sandbox, and an SDK client config signed as its session. */

import type { IamRegistry } from '../../sandbox/iam-registry/index.ts';
import type { Sandbox } from '../../sandbox/index.ts';

/** Registers `name` with `statements` and returns credentials of a session of it. */
export function roleSession(sandbox: Sandbox, name: string, statements: readonly Record<string, unknown>[]) {
  const arn = `arn:aws:iam::000000000000:role/${name}`;
  const registry = sandbox.context.service<IamRegistry>('iam')!;
  registry.putRole({
    arn,
    name,
    roleId: `AROA${name
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '')
      .padEnd(17, 'X')
      .slice(0, 17)}`,
    path: '/',
    source: name,
    trustPolicy: {},
    managedPolicyArns: [],
    inlinePolicies: {
      policy: { name: 'policy', source: name, document: { Version: '2012-10-17', Statement: statements } },
    },
  });
  const credentials = sandbox.context.access.credentials.issue(arn, `${name}-session`);
  return { credentials };
}
