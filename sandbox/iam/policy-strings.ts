/**
 * Policy strings that may hold policy variables: `${aws:PrincipalArn}`, `${aws:username, 'default'}`
 * and the escapes `${*}`, `${?}`, `${$}` for a literal `*`, `?` or `$`. A string is parsed once with
 * its policy and resolved against each request.
 *
 * Variables exist only in policies of Version 2012-10-17; in older policies the text stays literal
 * (IAM User Guide, "IAM policy elements: Variables and tags").
 */
import { Pattern, type Piece } from './pattern.ts';
import type { RequestContext } from './request-context.ts';

/** One part of a policy string as written. */
export type StringPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'escape'; readonly char: '*' | '?' | '$' }
  | { readonly kind: 'variable'; readonly key: string; readonly fallback: string | undefined };

/** A policy string, parsed. */
export interface PolicyString {
  readonly source: string;
  readonly parts: readonly StringPart[];
}

/**
 * Thrown while resolving a variable whose key the request does not have (and that has no default):
 * AWS then treats the statement as not applying ("the entire statement" becomes invalid).
 */
export class UnresolvedVariableError extends Error {
  override readonly name = 'UnresolvedVariableError';

  constructor(readonly key: string) {
    super(`The policy variable \${${key}} has no value in the request context`);
  }
}

const VARIABLE = /^\s*([^\s,'}]+)\s*(?:,\s*'([^']*)'\s*)?$/;
const constantPatterns = new WeakMap<PolicyString, Pattern>();

function isEscape(inner: string): inner is '*' | '?' | '$' {
  return inner === '*' || inner === '?' || inner === '$';
}

/** Parses `source`; with `variables` false (older policies, operators without variables) it stays text. */
export function parsePolicyString(source: string, variables: boolean): PolicyString {
  if (!variables || !source.includes('${')) return { source, parts: [{ kind: 'text', text: source }] };
  const parts: StringPart[] = [];
  let text = '';
  let index = 0;
  while (index < source.length) {
    const start = source.indexOf('${', index);
    const end = start < 0 ? -1 : source.indexOf('}', start + 2);
    if (start < 0 || end < 0) {
      text += source.slice(index);
      break;
    }
    const inner = source.slice(start + 2, end);
    const variable = VARIABLE.exec(inner);
    if (!isEscape(inner) && variable === null) {
      // Not a variable AWS would recognise: the characters stay as written.
      text += source.slice(index, end + 1);
      index = end + 1;
      continue;
    }
    text += source.slice(index, start);
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
    parts.push(
      isEscape(inner)
        ? { kind: 'escape', char: inner }
        : { kind: 'variable', key: variable![1]!, fallback: variable![2] },
    );
    index = end + 1;
  }
  if (text !== '') parts.push({ kind: 'text', text });
  return { source, parts };
}

/** Whether the string holds a variable (escapes are constants). */
export function hasVariables(value: PolicyString): boolean {
  return value.parts.some((part) => part.kind === 'variable');
}

function pieceOf(part: StringPart, context: RequestContext): Piece {
  if (part.kind === 'text') return { text: part.text, wild: true };
  if (part.kind === 'escape') return { text: part.char, wild: false };
  const resolved = context.single(part.key) ?? part.fallback;
  if (resolved === undefined) throw new UnresolvedVariableError(part.key);
  return { text: resolved, wild: false };
}

/**
 * The string with its variables replaced by the request's values. A variable's value is literal:
 * a `*` in a principal's tag does not widen what the policy matches.
 */
export function resolvePolicyString(value: PolicyString, context: RequestContext): Pattern {
  const cached = constantPatterns.get(value);
  if (cached !== undefined) return cached;
  const pieces = value.parts.map((part) => pieceOf(part, context));
  const pattern = new Pattern(pieces);
  if (!hasVariables(value)) constantPatterns.set(value, pattern);
  return pattern;
}
