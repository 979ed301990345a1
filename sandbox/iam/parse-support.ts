/**
 * What the policy parsers share: JSON shapes, the list of problems found so far, and the wording
 * of a value that is not what an element takes.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One thing wrong with a policy document, at a path such as `Statement[1].Action[0]`. */
export interface PolicyProblem {
  readonly path: string;
  readonly message: string;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as a problem message shows it; an object left in a resolved template is an intrinsic. */
export function describeValue(value: unknown): string {
  if (isObject(value)) return `an object (${JSON.stringify(value).slice(0, 80)}: an unresolved intrinsic?)`;
  if (Array.isArray(value)) return 'an array';
  return JSON.stringify(value);
}

/** The problems found in one document, collected so that all of them are reported at once. */
export class Problems {
  readonly list: PolicyProblem[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  /** A string or a non-empty array of strings, as most elements take; the bad entries reported. */
  strings(value: unknown, path: string): string[] {
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0) {
      this.add(path, 'expected at least one value, got an empty array');
      return [];
    }
    const strings: string[] = [];
    for (const [index, item] of items.entries()) {
      if (typeof item === 'string' && item !== '') strings.push(item);
      else
        this.add(
          Array.isArray(value) ? `${path}[${index}]` : path,
          `expected a non-empty string, got ${describeValue(item)}`,
        );
    }
    return strings;
  }
}
