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
import { OPERATORS } from './condition-operators.ts';
import { Pattern } from './pattern.ts';
import type {
  ActionElement,
  Condition,
  Effect,
  Policy,
  PolicyType,
  PolicyVersion,
  PrincipalElement,
  ResourceElement,
  Statement,
} from './policy.ts';
import { hasVariables, type PolicyString, parsePolicyString } from './policy-strings.ts';

/** One thing wrong with a policy document, at a path such as `Statement[1].Action[0]`. */
export interface PolicyProblem {
  readonly path: string;
  readonly message: string;
}

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
const PRINCIPAL_KINDS = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const ACTION = /^[A-Za-z0-9*?-]+:[A-Za-z0-9*?_-]+$/;
const AWS_PRINCIPAL = /^(\d{12}|arn:[a-z-]+:(iam|sts)::\d{12}:.+)$/;
const QUALIFIERS = ['ForAllValues', 'ForAnyValue'] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (isObject(value)) return `an object (${JSON.stringify(value).slice(0, 80)}: an unresolved intrinsic?)`;
  if (Array.isArray(value)) return 'an array';
  return JSON.stringify(value);
}

class Parser {
  readonly problems: PolicyProblem[] = [];

  constructor(
    private readonly type: PolicyType,
    private readonly version: PolicyVersion,
  ) {}

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** A string or a non-empty array of strings, as most elements take. */
  strings(value: unknown, path: string): string[] {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) {
      this.problem(path, 'expected at least one value, got an empty array');
      return [];
    }
    const strings: string[] = [];
    for (const [index, item] of list.entries()) {
      const itemPath = Array.isArray(value) ? `${path}[${index}]` : path;
      if (typeof item === 'string' && item !== '') strings.push(item);
      else this.problem(itemPath, `expected a non-empty string, got ${describe(item)}`);
    }
    return strings;
  }

  /** Exactly one of `name` and `Not<name>`; `required` says whether neither is allowed. */
  pick(statement: JsonObject, name: string, path: string, required: boolean): [unknown, boolean] | undefined {
    const plain = statement[name];
    const negated = statement[`Not${name}`];
    if (plain !== undefined && negated !== undefined) {
      this.problem(path, `a statement has either ${name} or Not${name}, not both`);
      return undefined;
    }
    if (plain === undefined && negated === undefined) {
      if (required) this.problem(path, `a statement needs ${name} or Not${name}`);
      return undefined;
    }
    return plain !== undefined ? [plain, false] : [negated, true];
  }

  action(statement: JsonObject, path: string): ActionElement {
    const picked = this.pick(statement, 'Action', path, true);
    if (picked === undefined) return { negated: false, patterns: [] };
    const [value, negated] = picked;
    const elementPath = `${path}.${negated ? 'NotAction' : 'Action'}`;
    const patterns = this.strings(value, elementPath).filter((action, index) => {
      if (action === '*' || ACTION.test(action)) return true;
      const at = Array.isArray(value) ? `${elementPath}[${index}]` : elementPath;
      this.problem(at, `"${action}" is not an action (service:Action, or *)`);
      return false;
    });
    return { negated, patterns: patterns.map((action) => Pattern.of(action)) };
  }

  resource(statement: JsonObject, path: string): ResourceElement {
    const picked = this.pick(statement, 'Resource', path, true);
    if (picked === undefined) return { negated: false, patterns: [] };
    const [value, negated] = picked;
    const elementPath = `${path}.${negated ? 'NotResource' : 'Resource'}`;
    const patterns = this.strings(value, elementPath).map((resource, index) => {
      const parsed = parsePolicyString(resource, this.version === '2012-10-17');
      if (variableBeforeResourcePart(parsed)) {
        const at = Array.isArray(value) ? `${elementPath}[${index}]` : elementPath;
        this.problem(
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
      this.problem(elementPath, 'identity policies cannot name a principal: the principal is the identity');
      return undefined;
    }
    if (value === '*') return { negated, everyone: true, aws: [], services: [] };
    if (!isObject(value)) {
      this.problem(elementPath, `expected "*" or an object such as {"AWS": …}, got ${describe(value)}`);
      return undefined;
    }
    const aws: string[] = [];
    const services: string[] = [];
    for (const [kind, entries] of Object.entries(value)) {
      const kindPath = `${elementPath}.${kind}`;
      if (!PRINCIPAL_KINDS.has(kind)) {
        this.problem(kindPath, 'expected AWS, Service, Federated or CanonicalUser');
        continue;
      }
      const list = this.strings(entries, kindPath);
      if (kind === 'AWS') {
        for (const entry of list) {
          if (entry === '*' || AWS_PRINCIPAL.test(entry)) aws.push(entry);
          else this.problem(kindPath, `"${entry}" is not "*", an account id or an IAM or STS ARN`);
        }
      } else if (kind === 'Service') {
        services.push(...list.map((service) => service.toLowerCase()));
      }
      // Federated and CanonicalUser principals are valid but never the caller of a Caretaker request.
    }
    return { negated, everyone: aws.includes('*'), aws: aws.filter((a) => a !== '*'), services };
  }

  conditions(value: unknown, path: string): Condition[] {
    if (value === undefined) return [];
    if (!isObject(value)) {
      this.problem(path, `expected an object of condition operators, got ${describe(value)}`);
      return [];
    }
    const conditions: Condition[] = [];
    for (const [operator, block] of Object.entries(value)) {
      const operatorPath = `${path}.${operator}`;
      const parsed = parseOperator(operator);
      if (typeof parsed === 'string') {
        this.problem(operatorPath, parsed);
        continue;
      }
      if (!isObject(block)) {
        this.problem(operatorPath, `expected an object of condition keys and values, got ${describe(block)}`);
        continue;
      }
      if (Object.keys(block).length === 0) this.problem(operatorPath, 'expected at least one condition key');
      for (const [key, values] of Object.entries(block)) {
        conditions.push({
          operator,
          key,
          ...parsed,
          values: this.conditionValues(values, parsed.spec, `${operatorPath}.${key}`),
        });
      }
    }
    return conditions;
  }

  conditionValues(value: unknown, spec: Condition['spec'], path: string): PolicyString[] {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) this.problem(path, 'expected at least one value, got an empty array');
    const variables = spec.variables && this.version === '2012-10-17';
    const values: PolicyString[] = [];
    for (const [index, item] of list.entries()) {
      const itemPath = Array.isArray(value) ? `${path}[${index}]` : path;
      // Condition values may be written as JSON numbers and booleans (`1.2`, `true`).
      if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
        this.problem(itemPath, `expected a string, number or boolean, got ${describe(item)}`);
        continue;
      }
      const parsed = parsePolicyString(String(item), variables);
      const problem = hasVariables(parsed) ? undefined : spec.check(String(item));
      if (problem === undefined) values.push(parsed);
      else this.problem(itemPath, problem);
    }
    return values;
  }

  statement(value: unknown, index: number, path: string): Statement | undefined {
    if (!isObject(value)) {
      this.problem(path, `expected a statement object, got ${describe(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!STATEMENT_KEYS.has(key)) this.problem(`${path}.${key}`, 'not a statement element');
    }
    const sid = value.Sid;
    if (sid !== undefined && typeof sid !== 'string')
      this.problem(`${path}.Sid`, `expected a string, got ${describe(sid)}`);
    const effect = value.Effect;
    if (effect !== 'Allow' && effect !== 'Deny') {
      this.problem(`${path}.Effect`, `expected "Allow" or "Deny", got ${describe(effect)}`);
    }
    return {
      index,
      sid: typeof sid === 'string' ? sid : undefined,
      effect: effect as Effect,
      action: this.action(value, path),
      resource: this.resource(value, path),
      principal: this.principal(value, path),
      conditions: this.conditions(value.Condition, `${path}.Condition`),
    };
  }
}

/** Splits `ForAnyValue:StringLikeIfExists` into its parts, or says why it is no operator. */
function parseOperator(operator: string): Pick<Condition, 'qualifier' | 'spec' | 'ifExists'> | string {
  const qualifier = QUALIFIERS.find((q) => operator.startsWith(`${q}:`));
  let base = qualifier === undefined ? operator : operator.slice(qualifier.length + 1);
  const ifExists = base.endsWith('IfExists') && OPERATORS.has(base.slice(0, -'IfExists'.length));
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  const spec = OPERATORS.get(base);
  if (spec === undefined) return `"${operator}" is not a condition operator`;
  // Null tests whether a key exists at all: IAM allows neither IfExists nor a set qualifier on it.
  if (spec.family === 'Null' && (ifExists || qualifier !== undefined))
    return `"${operator}" is not allowed: use Null alone`;
  return { qualifier, spec, ifExists };
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
    return fail([{ path: '(document)', message: `expected an object, got ${describe(value)}` }]);
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
      message: `expected "2012-10-17" or "2008-10-17", got ${describe(version)}`,
    });
  }
  const policyVersion: PolicyVersion = version === '2008-10-17' ? '2008-10-17' : '2012-10-17';
  const parser = new Parser(options.type, policyVersion);
  const raw = value.Statement;
  if (raw === undefined) problems.push({ path: 'Statement', message: 'a policy needs a Statement' });
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const statements = list.map((item, index) =>
    parser.statement(item, index, Array.isArray(raw) ? `Statement[${index}]` : 'Statement'),
  );
  problems.push(...parser.problems);
  if (problems.length > 0) fail(problems);
  return {
    name: options.name,
    type: options.type,
    version: policyVersion,
    statements: statements.filter((statement): statement is Statement => statement !== undefined),
  };
}
