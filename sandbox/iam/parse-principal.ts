/**
 * Parses a resource policy's Principal or NotPrincipal: `"*"`, or an object of `AWS`, `Service`,
 * `Federated` and `CanonicalUser` entries (IAM User Guide, "AWS JSON policy elements: Principal").
 */

import { describeValue, isObject, type Problems } from './parse-support.ts';
import type { PrincipalElement } from './policy.ts';

const PRINCIPAL_KINDS = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const AWS_PRINCIPAL = /^(\d{12}|arn:[a-z-]+:(iam|sts)::\d{12}:.+)$/;

/** The element at `path`, or undefined (with the problems reported) when it cannot be read. */
export function parsePrincipal(
  value: unknown,
  negated: boolean,
  path: string,
  problems: Problems,
): PrincipalElement | undefined {
  if (value === '*') return { negated, everyone: true, aws: [], services: [] };
  if (!isObject(value)) {
    problems.add(path, `expected "*" or an object such as {"AWS": …}, got ${describeValue(value)}`);
    return undefined;
  }
  const aws: string[] = [];
  const services: string[] = [];
  for (const [kind, entries] of Object.entries(value)) {
    const kindPath = `${path}.${kind}`;
    if (!PRINCIPAL_KINDS.has(kind)) {
      problems.add(kindPath, 'expected AWS, Service, Federated or CanonicalUser');
      continue;
    }
    const list = problems.strings(entries, kindPath);
    if (kind === 'AWS') {
      for (const entry of list) {
        if (entry === '*' || AWS_PRINCIPAL.test(entry)) aws.push(entry);
        else problems.add(kindPath, `"${entry}" is not "*", an account id or an IAM or STS ARN`);
      }
    } else if (kind === 'Service') {
      services.push(...list.map((service) => service.toLowerCase()));
    }
    // Federated and CanonicalUser principals are valid but never the caller of a Caretaker request.
  }
  return { negated, everyone: aws.includes('*'), aws: aws.filter((a) => a !== '*'), services };
}
