/**
 * Parses a policy document (as JSON text or a value, after CloudFormation intrinsics are
 * resolved) into a Policy, refusing what IAM would refuse as a malformed policy document. Every
 * problem is reported with its path, not only the first.
 *
 * Grammar: IAM User Guide, "IAM JSON policy element reference" (Version, Id, Statement, Sid,
 * Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition).
 * Misspelt action names and unknown condition keys are valid grammar: IAM accepts them and they
 * match nothing. lint.ts reports those.
 */
import { parseConditions } from './parse-condition.ts';
import { parsePrincipal } from './parse-principal.ts';
import { describeValue, isObject, type JsonObject, type PolicyProblem, Problems } from './parse-support.ts';
import { Pattern } from './pattern.ts';
import type {
  ActionElement,
  Effect,
  Policy,
  PolicyType,
  PolicyVersion,
  PrincipalElement,
  ResourceElement,
  Statement,
} from './policy.ts';
import { type PolicyString, parsePolicyString } from './policy-strings.ts';

export type { PolicyProblem } from './parse-support.ts';

/** A policy document IAM would refuse; names the policy and lists every problem. */
export class PolicyGrammarError extends Error {
  override readonly name = 'PolicyGrammarError';

  constructor(
    readonly policyName: string,
    readonly problems: readonly PolicyProblem[],
  ) {
    super(
      `Policy ${policyName} is not a valid IAM policy: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    );
  }
}

export interface ParsePolicyOptions {
  /** How reports name the policy. */
  readonly name: string;
  readonly type: PolicyType;
}

const POLICY_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const ACTION = /^[A-Za-z0-9*?-]+:[A-Za-z0-9*?_-]+$/;

/** Reads the statements of one document, collecting problems instead of stopping at the first. */
class StatementParser {
  readonly problems = new Problems();

  constructor(
    private readonly type: PolicyType,
    private readonly version: PolicyVersion,
  ) {}

  /** Exactly one of `name` and `Not<name>`; `required` says whether neither is allowed. */
  pick(statement: JsonObject, name: string, path: string, required: boolean): [unknown, boolean] | undefined {
    const plain = statement[name];
    const negated = statement[`Not${name}`];
    if (plain !== undefined && negated !== undefined) {
      this.problems.add(path, `a statement has either ${name} or Not${name}, not both`);
      return undefined;
    }
    if (plain === undefined && negated === undefined) {
      if (required) this.problems.add(path, `a statement needs ${name} or Not${name}`);
      return undefined;
    }
    return plain !== undefined ? [plain, false] : [negated, true];
  }

  action(statement: JsonObject, path: string): ActionElement {
    const picked = this.pick(statement, 'Action', path, true);
    if (picked === undefined) return { negated: false, patterns: [] };
    const [value, negated] = picked;
    const elementPath = `${path}.${negated ? 'NotAction' : 'Action'}`;
    const patterns = this.problems.strings(value, elementPath).filter((action, index) => {
      if (action === '*' || ACTION.test(action)) return true;
      const at = Array.isArray(value) ? `${elementPath}[${index}]` : elementPath;
      this.problems.add(at, `"${action}" is not an action (service:Action, or *)`);
      return false;
    });
    return { negated, patterns: patterns.map((action) => Pattern.of(action)) };
  }

  resource(statement: JsonObject, path: string): ResourceElement {
    const picked = this.pick(statement, 'Resource', path, true);
    if (picked === undefined) return { negated: false, patterns: [] };
    const [value, negated] = picked;
    const elementPath = `${path}.${negated ? 'NotResource' : 'Resource'}`;
    const patterns = this.problems.strings(value, elementPath).map((resource, index) => {
      const parsed = parsePolicyString(resource, this.version === '2012-10-17');
      if (variableBeforeResourcePart(parsed)) {
        const at = Array.isArray(value) ? `${elementPath}[${index}]` : elementPath;
        this.problems.add(
          at,
          'policy variables are allowed only in the resource part of an ARN (after the fifth colon)',
        );
      }
      return parsed;
    });
    return { negated, patterns };
  }

  principal(statement: JsonObject, path: string): PrincipalElement | undefined {
    const picked = this.pick(statement, 'Principal', path, this.type === 'resource');
    if (picked === undefined) return undefined;
    const [value, negated] = picked;
    const elementPath = `${path}.${negated ? 'NotPrincipal' : 'Principal'}`;
    if (this.type === 'identity') {
      this.problems.add(
        elementPath,
        'identity policies cannot name a principal: the principal is the identity',
      );
      return undefined;
    }
    return parsePrincipal(value, negated, elementPath, this.problems);
  }

  statement(value: unknown, index: number, path: string): Statement | undefined {
    if (!isObject(value)) {
      this.problems.add(path, `expected a statement object, got ${describeValue(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!STATEMENT_KEYS.has(key)) this.problems.add(`${path}.${key}`, 'not a statement element');
    }
    const sid = value.Sid;
    if (sid !== undefined && typeof sid !== 'string')
      this.problems.add(`${path}.Sid`, `expected a string, got ${describeValue(sid)}`);
    const effect = value.Effect;
    if (effect !== 'Allow' && effect !== 'Deny') {
      this.problems.add(`${path}.Effect`, `expected "Allow" or "Deny", got ${describeValue(effect)}`);
    }
    return {
      index,
      sid: typeof sid === 'string' ? sid : undefined,
      effect: effect as Effect,
      action: this.action(value, path),
      resource: this.resource(value, path),
      principal: this.principal(value, path),
      conditions: parseConditions(value.Condition, this.version, `${path}.Condition`, this.problems),
    };
  }
}

/** Whether a variable stands in the first five ARN components, where IAM does not allow one. */
function variableBeforeResourcePart(value: PolicyString): boolean {
  let colons = 0;
  for (const part of value.parts) {
    if (colons >= 5) return false;
    if (part.kind === 'variable') return true;
    if (part.kind === 'text') colons += part.text.split(':').length - 1;
  }
  return false;
}

/** Parses and validates a policy document; throws PolicyGrammarError listing every problem. */
export function parsePolicy(document: unknown, options: ParsePolicyOptions): Policy {
  const fail = (problems: PolicyProblem[]): never => {
    throw new PolicyGrammarError(options.name, problems);
  };
  let value = document;
  if (typeof document === 'string') {
    try {
      value = JSON.parse(document);
    } catch (error) {
      fail([{ path: '(document)', message: `not JSON: ${(error as Error).message}` }]);
    }
  }
  if (!isObject(value))
    return fail([{ path: '(document)', message: `expected an object, got ${describeValue(value)}` }]);
  const problems: PolicyProblem[] = [];
  for (const key of Object.keys(value)) {
    if (!POLICY_KEYS.has(key))
      problems.push({ path: key, message: 'not a policy element (Version, Id, Statement)' });
  }
  // A policy without Version is read as the 2008-10-17 language, as IAM does.
  const version = value.Version ?? '2008-10-17';
  if (version !== '2012-10-17' && version !== '2008-10-17') {
    problems.push({
      path: 'Version',
      message: `expected "2012-10-17" or "2008-10-17", got ${describeValue(version)}`,
    });
  }
  const policyVersion: PolicyVersion = version === '2008-10-17' ? '2008-10-17' : '2012-10-17';
  const parser = new StatementParser(options.type, policyVersion);
  const raw = value.Statement;
  if (raw === undefined) problems.push({ path: 'Statement', message: 'a policy needs a Statement' });
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const statements = list.map((item, index) =>
    parser.statement(item, index, Array.isArray(raw) ? `Statement[${index}]` : 'Statement'),
  );
  problems.push(...parser.problems.list);
  if (problems.length > 0) fail(problems);
  return {
    name: options.name,
    type: options.type,
    version: policyVersion,
    statements: statements.filter((statement): statement is Statement => statement !== undefined),
  };
}
