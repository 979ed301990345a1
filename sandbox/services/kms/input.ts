/**
 * Reading a JSON 1.1 request body field by field, with the errors AWS JSON services answer:
 * a wrongly typed value is a SerializationException, a missing or out-of-range one a
 * ValidationException naming the member.
 */
import { AwsError } from '../../core/types.ts';

/** Parses a JSON protocol body; anything but a JSON object is a SerializationException. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AwsError('SerializationException', 'The request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AwsError('SerializationException', 'The request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** The member name as AWS validation messages spell it (`KeyId` → `keyId`). */
function memberName(field: string): string {
  return field.charAt(0).toLowerCase() + field.slice(1);
}

/** A ValidationException in AWS's wording for one failed constraint. */
export function constraintError(field: string, value: unknown, constraint: string): AwsError {
  const shown = value === undefined ? 'null' : `'${String(value)}'`;
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value ${shown} at '${memberName(field)}' failed to satisfy constraint: ${constraint}`,
  );
}

function typeError(field: string, expected: string): AwsError {
  return new AwsError('SerializationException', `${field} must be ${expected}`);
}

/** Typed access to one request body. */
export class JsonInput {
  constructor(private readonly body: Readonly<Record<string, unknown>>) {}

  string(field: string): string | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw typeError(field, 'a string');
    return value;
  }

  requiredString(field: string): string {
    const value = this.string(field);
    if (value === undefined) throw constraintError(field, undefined, 'Member must not be null');
    if (value === '')
      throw constraintError(field, value, 'Member must have length greater than or equal to 1');
    return value;
  }

  /** An integer within [min, max]. */
  integer(field: string, min: number, max: number): number | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(field, 'an integer');
    if (value < min)
      throw constraintError(field, value, `Member must have value greater than or equal to ${min}`);
    if (value > max)
      throw constraintError(field, value, `Member must have value less than or equal to ${max}`);
    return value;
  }

  boolean(field: string): boolean | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw typeError(field, 'a boolean');
    return value;
  }

  /** A base64 blob of 1..maxBytes bytes. */
  blob(field: string, maxBytes: number): Buffer | undefined {
    const text = this.string(field);
    if (text === undefined) return undefined;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
      throw new AwsError('SerializationException', `${field} is not valid base64`);
    }
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === 0)
      throw constraintError(field, '', 'Member must have length greater than or equal to 1');
    if (bytes.length > maxBytes) {
      throw constraintError(
        field,
        `<${bytes.length} bytes>`,
        `Member must have length less than or equal to ${maxBytes}`,
      );
    }
    return bytes;
  }

  requiredBlob(field: string, maxBytes: number): Buffer {
    const value = this.blob(field, maxBytes);
    if (value === undefined) throw constraintError(field, undefined, 'Member must not be null');
    return value;
  }

  /** A string-to-string map such as an encryption context. */
  stringMap(field: string): Record<string, string> | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) throw typeError(field, 'a map of strings');
    const entries = Object.entries(value);
    for (const [key, item] of entries) {
      if (typeof item !== 'string') throw typeError(`${field}.${key}`, 'a string');
    }
    // fromEntries defines own properties, so a key such as "__proto__" is kept like any other.
    return Object.fromEntries(entries) as Record<string, string>;
  }

  /** KMS tags: a list of `{ TagKey, TagValue }`, returned as a map. */
  tags(field: string): Record<string, string> | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw typeError(field, 'a list of tags');
    const tags: [string, string][] = [];
    for (const tag of value) {
      const entry = new JsonInput(
        typeof tag === 'object' && tag !== null ? (tag as Record<string, unknown>) : {},
      );
      const key = entry.requiredString('TagKey');
      const tagValue = entry.string('TagValue');
      if (tagValue === undefined) throw constraintError('TagValue', undefined, 'Member must not be null');
      if (key.length > 128 || tagValue.length > 256) {
        throw new AwsError('TagException', `Tag ${key} is too long: keys take 128 characters, values 256`);
      }
      if (key.startsWith('aws:'))
        throw new AwsError('TagException', `Tag keys may not begin with aws: (${key})`);
      tags.push([key, tagValue]);
    }
    return Object.fromEntries(tags);
  }

  stringList(field: string): string[] | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
      throw typeError(field, 'a list of strings');
    }
    return value as string[];
  }
}
