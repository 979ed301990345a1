/**
 * Reading RDS Query-protocol parameters (form-encoded `Action=…&Name=…`). Lists use the member
 * names of RDS's model, as the SDKs and the CLI send them: `Tags.Tag.N.Key`,
 * `VpcSecurityGroupIds.VpcSecurityGroupId.N`, `Filters.Filter.N.Values.Value.N`,
 * `TagKeys.member.N`.
 */

import { invalidParameterValue, missingParameter } from './errors.ts';
import type { Tag } from './model.ts';

/** A parsed filter: its name and accepted values. */
export interface Filter {
  readonly name: string;
  readonly values: readonly string[];
}

/** The parameters of one request: the query string and the form body together (the body wins). */
export class RdsInput {
  private readonly params = new Map<string, string>();

  constructor(url: URL, body: Buffer) {
    for (const [name, value] of url.searchParams) this.params.set(name, value);
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) this.params.set(name, value);
  }

  get action(): string | undefined {
    return this.params.get('Action');
  }

  string(name: string): string | undefined {
    const value = this.params.get(name);
    return value === '' ? undefined : value;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw missingParameter(name);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.params.get(name);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') {
      throw invalidParameterValue(`Invalid boolean value for ${name}: ${value}`);
    }
    return value === 'true';
  }

  integer(name: string): number | undefined {
    const value = this.params.get(name);
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!Number.isInteger(number)) throw invalidParameterValue(`Invalid integer value for ${name}: ${value}`);
    return number;
  }

  /** A list of strings serialized as `<name>.<member>.N`, in index order. */
  list(name: string, member: string): string[] | undefined {
    const prefix = `${name}.${member}.`;
    const indexed: [number, string][] = [];
    for (const [key, value] of this.params) {
      if (!key.startsWith(prefix)) continue;
      const index = Number(key.slice(prefix.length));
      if (Number.isInteger(index) && index >= 1) indexed.push([index, value]);
    }
    if (indexed.length === 0) return this.params.has(name) ? [] : undefined;
    return indexed.sort(([a], [b]) => a - b).map(([, value]) => value);
  }

  /** `Tags.Tag.N.Key` / `.Value`; undefined when no tags were sent. */
  tags(name = 'Tags'): Tag[] | undefined {
    const groups = this.groups(`${name}.Tag`);
    if (groups.length === 0) return this.params.has(name) ? [] : undefined;
    return groups.map((group) => {
      const key = group.get('Key');
      if (key === undefined || key === '') throw invalidParameterValue('Tag keys must not be empty');
      if (key.startsWith('aws:') || key.startsWith('rds:')) {
        throw invalidParameterValue('Tag keys cannot start with the reserved prefixes aws: or rds:');
      }
      return { Key: key, Value: group.get('Value') ?? '' };
    });
  }

  /** `Filters.Filter.N.Name` with `Filters.Filter.N.Values.Value.M`. */
  filters(): Filter[] {
    return this.groups('Filters.Filter').map((group) => {
      const name = group.get('Name');
      if (!name) throw invalidParameterValue('Filter name must be specified');
      const values = [...group.entries()]
        .filter(([field]) => field.startsWith('Values.Value.'))
        .map(([field, value]) => [Number(field.slice('Values.Value.'.length)), value] as const)
        .sort(([a], [b]) => a - b)
        .map(([, value]) => value);
      if (values.length === 0) throw invalidParameterValue(`Filter ${name} must have at least one value`);
      return { name, values };
    });
  }

  /** Indexed groups `<prefix>.N.<field>` in index order, each as a map of field to value. */
  private groups(prefix: string): Map<string, string>[] {
    const byIndex = new Map<number, Map<string, string>>();
    const head = `${prefix}.`;
    for (const [name, value] of this.params) {
      if (!name.startsWith(head)) continue;
      const rest = name.slice(head.length);
      const dot = rest.indexOf('.');
      if (dot === -1) continue;
      const index = Number(rest.slice(0, dot));
      if (!Number.isInteger(index) || index < 1) continue;
      const group = byIndex.get(index) ?? new Map<string, string>();
      byIndex.set(index, group);
      group.set(rest.slice(dot + 1), value);
    }
    return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
  }
}
