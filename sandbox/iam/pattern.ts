/**
 * Resolved policy strings and how they match request values.
 *
 * A policy string resolves to pieces: text from the policy itself, where `*` and `?` are wildcards
 * for the operators that take them, and literal text (a policy variable's value, or the escapes
 * `${*}`, `${?}`, `${$}`), whose characters never act as wildcards.
 */

/** One run of resolved text; `wild` text may hold wildcards, other text is matched literally. */
export interface Piece {
  readonly text: string;
  readonly wild: boolean;
}

// The syntax characters a `u`-mode RegExp lets us escape (it refuses `\-` and other identity escapes).
const REGEXP_SPECIALS = /[\\^$.*+?()[\]{}|/]/g;

function escapeRegExp(text: string): string {
  return text.replace(REGEXP_SPECIALS, '\\$&');
}

function wildToRegExp(text: string): string {
  let source = '';
  for (const char of text) {
    if (char === '*') source += '[^]*';
    else if (char === '?') source += '.';
    else source += escapeRegExp(char);
  }
  return source;
}

/** A resolved policy string, with the matchers built from it kept for reuse. */
export class Pattern {
  readonly text: string;
  private readonly regexps = new Map<boolean, RegExp>();
  private segments: readonly Pattern[] | null | undefined;

  constructor(readonly pieces: readonly Piece[]) {
    this.text = pieces.map((piece) => piece.text).join('');
  }

  /** A pattern of policy text alone (no variables), such as an Action entry. */
  static of(text: string): Pattern {
    return new Pattern([{ text, wild: true }]);
  }

  /** Whether `value` matches with `*` (any run, including none) and `?` (one character). */
  matchesGlob(value: string, ignoreCase: boolean): boolean {
    let regexp = this.regexps.get(ignoreCase);
    if (regexp === undefined) {
      const source = this.pieces
        .map((piece) => (piece.wild ? wildToRegExp(piece.text) : escapeRegExp(piece.text)))
        .join('');
      // `u` so that `?` stands for one code point, as a person reading the policy counts; `s` so
      // that wildcards also cover line breaks, which a request value may hold.
      regexp = new RegExp(`^${source}$`, ignoreCase ? 'isu' : 'su');
      this.regexps.set(ignoreCase, regexp);
    }
    return regexp.test(value);
  }

  /**
   * The six colon-separated ARN components (`arn`, partition, service, region, account,
   * resource), the last keeping any further colons; null when the pattern has fewer than six.
   */
  arnSegments(): readonly Pattern[] | null {
    if (this.segments === undefined) this.segments = splitPieces(this.pieces);
    return this.segments;
  }
}

function splitPieces(pieces: readonly Piece[]): readonly Pattern[] | null {
  const segments: Piece[][] = [[]];
  for (const piece of pieces) {
    let rest = piece.text;
    while (segments.length < 6) {
      const colon = rest.indexOf(':');
      if (colon < 0) break;
      segments[segments.length - 1]!.push({ text: rest.slice(0, colon), wild: piece.wild });
      segments.push([]);
      rest = rest.slice(colon + 1);
    }
    segments[segments.length - 1]!.push({ text: rest, wild: piece.wild });
  }
  return segments.length === 6 ? segments.map((segment) => new Pattern(segment)) : null;
}

/** The six ARN components of a request value, or null when it is not an ARN. */
export function splitArn(value: string): readonly string[] | null {
  const parts: string[] = [];
  let rest = value;
  while (parts.length < 5) {
    const colon = rest.indexOf(':');
    if (colon < 0) return null;
    parts.push(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  parts.push(rest);
  return parts[0] === 'arn' ? parts : null;
}

/**
 * ARN matching as the Arn condition operators and the Resource element do it: each of the six
 * components is matched on its own, case-sensitively, so a wildcard never spans a colon before the
 * resource part. A pattern that is not six components (`*` alone, say) is matched as a whole.
 */
export function matchesArn(pattern: Pattern, value: string): boolean {
  const patternSegments = pattern.arnSegments();
  if (patternSegments === null) return pattern.matchesGlob(value, false);
  const valueSegments = splitArn(value);
  if (valueSegments === null) return false;
  return patternSegments.every((segment, index) => segment.matchesGlob(valueSegments[index]!, false));
}
