/**
 * The condition keys of one request and their values.
 *
 * Key names are case-insensitive in IAM (`aws:CurrentTime` is `AWS:currenttime`), so keys are
 * looked up lowercased. A value given as an array is a multivalued key (`aws:TagKeys`,
 * `kms:EncryptionContextKeys`), even with one element; an empty array is a key present with an
 * empty set of values, which the set operators treat as AWS documents for "an empty data set".
 */

/** One value as a caller has it; dates become ISO 8601 text, bytes base64 (for BinaryEquals). */
export type ContextScalar = string | number | boolean | Date | Uint8Array;

/** A key's value: one scalar, or an array for a multivalued key. */
export type ContextValue = ContextScalar | readonly ContextScalar[];

/** Condition keys and values as the caller supplies them; `undefined` means the key is absent. */
export type ContextInput = Readonly<Record<string, ContextValue | undefined>>;

interface Entry {
  readonly key: string;
  readonly values: readonly string[];
  readonly multivalued: boolean;
}

function scalarText(value: ContextScalar): string {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return String(value);
}

/** The request's condition keys, looked up case-insensitively. */
export class RequestContext {
  private constructor(private readonly entries: ReadonlyMap<string, Entry>) {}

  /**
   * Builds a context; two keys that differ only in case are refused, since IAM would see one key
   * and it is unknowable which value the caller meant.
   */
  static from(input: ContextInput): RequestContext {
    const entries = new Map<string, Entry>();
    for (const [key, value] of Object.entries(input)) {
      if (value === undefined) continue;
      const lookup = key.toLowerCase();
      const existing = entries.get(lookup);
      if (existing !== undefined) {
        throw new Error(`Condition keys ${existing.key} and ${key} are the same key (IAM ignores case)`);
      }
      const multivalued = Array.isArray(value);
      const values = multivalued ? value.map(scalarText) : [scalarText(value as ContextScalar)];
      entries.set(lookup, { key, values, multivalued });
    }
    return new RequestContext(entries);
  }

  /** This context plus `defaults` for the keys it does not have. */
  withDefaults(defaults: ContextInput): RequestContext {
    const added = RequestContext.from(defaults);
    const entries = new Map(added.entries);
    for (const [lookup, entry] of this.entries) entries.set(lookup, entry);
    return new RequestContext(entries);
  }

  /** The key's values (possibly none), or undefined when the request does not have the key. */
  values(key: string): readonly string[] | undefined {
    return this.entries.get(key.toLowerCase())?.values;
  }

  /**
   * The key's value for a policy variable: only single-valued keys can be variables, so a
   * multivalued or absent key gives undefined.
   */
  single(key: string): string | undefined {
    const entry = this.entries.get(key.toLowerCase());
    return entry === undefined || entry.multivalued ? undefined : entry.values[0];
  }
}
