/**
 * Intrinsic functions and pseudo parameters, resolved as CloudFormation would against the
 * sandbox's physical ids. The evaluation itself is cfn-resolver-lib's; around it this module
 *
 * - checks every Ref and Fn::GetAtt first: the library turns an unknown Ref into its bare name
 *   and leaves an unknown attribute in place, where CloudFormation fails the deploy;
 * - rewrites every Fn::Sub into the two-argument form with each `${Name}` / `${Name.Attr}` as an
 *   explicit variable, since the library substitutes only the variables it is given, and turns
 *   `${!Literal}` into the literal `${Literal}` as CloudFormation does;
 * - implements AWS::NoValue (the property, or list entry, is left out);
 * - fails on functions the sandbox cannot resolve (Fn::ImportValue, Fn::Base64, …) and on any
 *   intrinsic left unresolved.
 */
import { createRequire } from 'node:module';
import { type CfnTemplate, isObject, TemplateError } from './template.ts';

type Evaluator = new (
  template: Record<string, unknown>,
  parameters: Record<string, unknown>,
) => { evaluateNodes(): Record<string, unknown> };
const NodeEvaluator = createRequire(import.meta.url)('cfn-resolver-lib') as Evaluator;

/** Values of the pseudo parameters for one deployment. */
export interface PseudoParameters {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  readonly stackId: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** @default 'amazonaws.com' */
  readonly urlSuffix?: string;
}

/** What a Ref or Fn::GetAtt of each already-created resource resolves to. */
export interface ResolveScope {
  readonly pseudo: PseudoParameters;
  readonly template: Pick<CfnTemplate, 'Parameters' | 'Conditions' | 'Mappings'>;
  /** Logical id → Ref value, for resources created so far. */
  readonly refs: ReadonlyMap<string, string>;
  /** Logical id → attribute name → value, for resources created so far. */
  readonly attributes: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

const FUNCTIONS_RESOLVED = new Set([
  'Ref',
  'Fn::GetAtt',
  'Fn::Join',
  'Fn::Sub',
  'Fn::Select',
  'Fn::Split',
  'Fn::If',
  'Fn::Equals',
  'Fn::And',
  'Fn::Or',
  'Fn::Not',
  'Fn::FindInMap',
]);
const NO_VALUE = '\u0000caretaker:AWS::NoValue\u0000';
/**
 * A `Condition` key in properties (an IAM policy's) stands under this name while the library
 * evaluates: it reads such a key as a condition reference and leaves one with several operators
 * (ArnLike and StringEquals) unresolved.
 */
const CONDITION_KEY = 'Condition\u0000caretaker';
/**
 * Added to every plain object while the library evaluates, and removed after: the library
 * replaces an object that has a single key holding a list by that list (`{"severity": [...]}`
 * became `[...]`), as it must for intrinsics such as Fn::Join.
 */
const KEEP_KEY = '\u0000caretaker:object';

function pseudoValues(pseudo: PseudoParameters): Record<string, unknown> {
  return {
    'AWS::Region': pseudo.region,
    'AWS::AccountId': pseudo.accountId,
    'AWS::Partition': pseudo.partition ?? 'aws',
    'AWS::URLSuffix': pseudo.urlSuffix ?? 'amazonaws.com',
    'AWS::StackName': pseudo.stackName,
    'AWS::StackId': pseudo.stackId,
    'AWS::NotificationARNs': [],
    'AWS::NoValue': NO_VALUE,
  };
}

/** The intrinsic an object is, when it is one (a single key that names a function). */
function intrinsicOf(value: Record<string, unknown>): string | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const [key] = keys as [string];
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

/** `Fn::GetAtt` as [logicalId, attribute], from either the list or the `Id.Attr` string form. */
function getAttTarget(argument: unknown): [string, string] | undefined {
  if (typeof argument === 'string') {
    const dot = argument.indexOf('.');
    return dot > 0 ? [argument.slice(0, dot), argument.slice(dot + 1)] : undefined;
  }
  if (Array.isArray(argument) && typeof argument[0] === 'string' && typeof argument[1] === 'string') {
    return [argument[0], argument[1]];
  }
  return undefined;
}

/** The names a Fn::Sub template string refers to (`${Name}`, `${Name.Attr}`), not `${!Literal}`. */
function subNames(text: string): string[] {
  return [...text.matchAll(/\$\{([^}]+)\}/g)]
    .map((match) => (match[1] as string).trim())
    .filter((name) => !name.startsWith('!'));
}

/** The logical ids a value refers to (Ref, Fn::GetAtt, Fn::Sub), for ordering creation. */
export function referencedResources(value: unknown, resources: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (!isObject(node)) return;
    const fn = intrinsicOf(node);
    if (fn === 'Ref' && typeof node.Ref === 'string' && resources.has(node.Ref)) found.add(node.Ref);
    if (fn === 'Fn::GetAtt') {
      const target = getAttTarget(node['Fn::GetAtt']);
      if (target && resources.has(target[0])) found.add(target[0]);
    }
    if (fn === 'Fn::Sub') {
      const argument = node['Fn::Sub'];
      const text =
        typeof argument === 'string' ? argument : Array.isArray(argument) ? argument[0] : undefined;
      const given = Array.isArray(argument) && isObject(argument[1]) ? argument[1] : {};
      if (typeof text === 'string') {
        for (const name of subNames(text)) {
          const id = name.split('.')[0] as string;
          if (!(name in given) && resources.has(id)) found.add(id);
        }
      }
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(value);
  return found;
}

/**
 * Rewrites Fn::Sub and string-form Fn::GetAtt into forms the library resolves completely; in
 * properties (`hideConditions`), renames `Condition` keys out of the library's way.
 */
function normalize(value: unknown, hideConditions = false): unknown {
  if (Array.isArray(value)) return value.map((item) => normalize(item, hideConditions));
  if (!isObject(value)) return value;
  const fn = intrinsicOf(value);
  if (fn === 'Fn::GetAtt') {
    const target = getAttTarget(value['Fn::GetAtt']);
    return target ? { 'Fn::GetAtt': target } : value;
  }
  if (fn === 'Fn::Sub') {
    const argument = value['Fn::Sub'];
    const text = typeof argument === 'string' ? argument : Array.isArray(argument) ? argument[0] : undefined;
    if (typeof text !== 'string') return value;
    const given =
      Array.isArray(argument) && isObject(argument[1])
        ? (normalize(argument[1], hideConditions) as object)
        : {};
    const variables: Record<string, unknown> = {};
    for (const match of text.matchAll(/\$\{([^}]+)\}/g)) {
      const name = match[1] as string;
      if (name in given || name in variables) continue;
      if (name.startsWith('!')) {
        variables[name] = `\${${name.slice(1)}}`;
      } else {
        const dot = name.indexOf('.');
        variables[name] =
          dot > 0 ? { 'Fn::GetAtt': [name.slice(0, dot), name.slice(dot + 1)] } : { Ref: name };
      }
    }
    return { 'Fn::Sub': [text, { ...variables, ...given }] };
  }
  if (fn !== undefined) return { [fn]: normalize(value[fn], hideConditions) };
  // In the Conditions section, `{"Condition": "Name"}` is a reference the library resolves.
  if (!hideConditions && Object.keys(value).length === 1 && typeof value.Condition === 'string') return value;
  return Object.fromEntries([
    ...Object.entries(value).map(([key, child]) => [
      hideConditions && key === 'Condition' ? CONDITION_KEY : key,
      normalize(child, hideConditions),
    ]),
    [KEEP_KEY, true],
  ]);
}

/** Fails, naming the place, on a Ref or Fn::GetAtt the scope cannot answer or a function it cannot resolve. */
function check(value: unknown, scope: ResolveScope, where: string, parameters: ReadonlySet<string>): void {
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) visit(item, `${path}[${index}]`);
      return;
    }
    if (!isObject(node)) return;
    const fn = intrinsicOf(node);
    if (fn !== undefined && !FUNCTIONS_RESOLVED.has(fn)) {
      throw new TemplateError(`${path}: ${fn} is not supported by the sandbox deployer`);
    }
    if (fn === 'Ref') {
      const name = node.Ref;
      if (typeof name !== 'string') throw new TemplateError(`${path}: Ref must name a resource or parameter`);
      if (!name.startsWith('AWS::') && !parameters.has(name) && !scope.refs.has(name)) {
        throw new TemplateError(`${path}: Ref to ${name}, which is not a parameter or a created resource`);
      }
      if (name.startsWith('AWS::') && !(name in pseudoValues(scope.pseudo))) {
        throw new TemplateError(
          `${path}: the pseudo parameter ${name} is not supported by the sandbox deployer`,
        );
      }
    }
    if (fn === 'Fn::GetAtt') {
      const [id, attribute] = node['Fn::GetAtt'] as [string, string];
      const attributes = scope.attributes.get(id);
      if (!attributes)
        throw new TemplateError(`${path}: Fn::GetAtt of ${id}, which is not a created resource`);
      if (!(attribute in attributes)) {
        throw new TemplateError(
          `${path}: Fn::GetAtt ${id}.${attribute}: the sandbox knows ${Object.keys(attributes).join(', ') || 'no attributes'} of this resource`,
        );
      }
    }
    for (const [key, child] of Object.entries(node)) visit(child, `${path}.${key}`);
  };
  visit(value, where);
}

/** Drops AWS::NoValue (as a property or list entry) and fails on anything left unresolved. */
function finish(value: unknown, where: string): unknown {
  if (Array.isArray(value)) {
    return value.filter((item) => item !== NO_VALUE).map((item, index) => finish(item, `${where}[${index}]`));
  }
  if (!isObject(value)) return value;
  const fn = intrinsicOf(value);
  if (fn !== undefined) throw new TemplateError(`${where}: ${fn} could not be resolved`);
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, child]) => child !== NO_VALUE && key !== KEEP_KEY)
      .map(([key, child]) => [key === CONDITION_KEY ? 'Condition' : key, finish(child, `${where}.${key}`)]),
  );
}

/**
 * Resolves every intrinsic in `value` against `scope`; `where` names the place in errors
 * (`Resources.Notify.Properties`). A TemplateError names what could not be resolved.
 */
export function resolveValue(value: unknown, scope: ResolveScope, where: string): unknown {
  const parameters = new Map<string, unknown>();
  for (const [name, parameter] of Object.entries(scope.template.Parameters ?? {})) {
    parameters.set(name, parameter.Default);
  }
  const normalized = normalize(value, true);
  check(normalized, scope, where, new Set(parameters.keys()));
  const refResolvers: Record<string, unknown> = {
    ...Object.fromEntries(parameters),
    ...Object.fromEntries(scope.refs),
    ...pseudoValues(scope.pseudo),
  };
  const getAttResolvers = Object.fromEntries(scope.attributes);
  // The library walks keys in order and needs Conditions and Mappings before what uses them. It
  // reads a `Condition` key as a policy condition only under Resources.<id>.Properties, so the
  // value goes there.
  const document = {
    Parameters: {},
    Mappings: scope.template.Mappings ?? {},
    Conditions: normalize(scope.template.Conditions ?? {}) as Record<string, unknown>,
    Resources: { Resolved: { Properties: { Value: normalized } } },
  };
  let evaluated: Record<string, unknown>;
  try {
    evaluated = new NodeEvaluator(document, {
      RefResolvers: refResolvers,
      'Fn::GetAttResolvers': getAttResolvers,
    }).evaluateNodes();
  } catch (error) {
    throw new TemplateError(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = (evaluated.Resources as { Resolved: { Properties: { Value: unknown } } }).Resolved.Properties
    .Value;
  if (result === NO_VALUE) return undefined;
  return finish(result, where);
}

/** Whether the named condition holds (a resource or output with a false Condition is skipped). */
export function conditionHolds(name: string, scope: ResolveScope): boolean {
  if (!(name in (scope.template.Conditions ?? {})))
    throw new TemplateError(`Condition ${name} is not defined`);
  const value = resolveValue(scope.template.Conditions?.[name], scope, `Conditions.${name}`);
  if (typeof value !== 'boolean')
    throw new TemplateError(`Conditions.${name} did not evaluate to true or false`);
  return value;
}
