/**
 * Reading AWS Query protocol parameters (form-encoded `Action=…&Name=…`), including SNS's maps
 * (`Attributes.entry.N.key/value`, `MessageAttributes.entry.N.Name/Value.*`) and member lists
 * (`Tags.member.N.Key`).
 */
import { AwsError } from '../../core/types.ts';

/** The request's parameters: the query string and the form body together (the body wins). */
export class QueryInput {
  private readonly params = new Map<string, string>();

  constructor(url: URL, body: Buffer) {
    for (const [name, value] of url.searchParams) this.params.set(name, value);
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) this.params.set(name, value);
  }

  get action(): string | undefined {
    return this.params.get('Action');
  }

  string(name: string): string | undefined {
    return this.params.get(name);
  }

  /** A required parameter; missing is SNS's InvalidParameter naming it. */
  required(name: string): string {
    const value = this.params.get(name);
    if (value === undefined) {
      throw new AwsError(
        'InvalidParameter',
        `Invalid parameter: ${name} Reason: no value for required parameter`,
      );
    }
    return value;
  }

  /** A `true`/`false` parameter. */
  boolean(name: string): boolean | undefined {
    const value = this.params.get(name);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false')
      throw new AwsError('InvalidParameter', `Invalid parameter: ${name}`);
    return value === 'true';
  }

  /** Indexed groups `<prefix>.N.<field>` in index order, each as a map of field to value. */
  groups(prefix: string): Map<string, string>[] {
    const byIndex = new Map<number, Map<string, string>>();
    const head = `${prefix}.`;
    for (const [name, value] of this.params) {
      if (!name.startsWith(head)) continue;
      const rest = name.slice(head.length);
      const dot = rest.indexOf('.');
      const index = Number(dot === -1 ? rest : rest.slice(0, dot));
      if (!Number.isInteger(index) || index < 1 || dot === -1) continue;
      const group = byIndex.get(index) ?? new Map<string, string>();
      byIndex.set(index, group);
      group.set(rest.slice(dot + 1), value);
    }
    return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
  }

  /** A list of strings serialized as `<name>.member.N`, in index order. */
  list(name: string): string[] {
    const values: string[] = [];
    for (let index = 1; ; index++) {
      const value = this.params.get(`${name}.member.${index}`);
      if (value === undefined) return values;
      values.push(value);
    }
  }

  /** A string map serialized as `<name>.entry.N.key` / `.value`. */
  stringMap(name: string): Map<string, string> {
    const map = new Map<string, string>();
    for (const entry of this.groups(`${name}.entry`)) {
      const key = entry.get('key');
      if (key === undefined)
        throw new AwsError('InvalidParameter', `Invalid parameter: ${name} Reason: entry without a key`);
      map.set(key, entry.get('value') ?? '');
    }
    return map;
  }

  /** Tags serialized as `<name>.member.N.Key` / `.Value`. */
  tags(name: string): Map<string, string> {
    const tags = new Map<string, string>();
    for (const member of this.groups(`${name}.member`)) {
      const key = member.get('Key');
      const value = member.get('Value');
      if (!key || value === undefined || key.length > 128 || value.length > 256) {
        throw new AwsError(
          'InvalidParameter',
          `Invalid parameter: ${name} Reason: each tag needs a Key (1-128 characters) and a Value (0-256)`,
        );
      }
      tags.set(key, value);
    }
    return tags;
  }
}
