/**
 * The MD5 digests SQS returns with a message. The SDK checks both against what it sent or
 * received (middleware-sdk-sqs), so they must be computed exactly as SQS does.
 */
import { createHash } from 'node:crypto';

/** A message attribute as the JSON protocol carries it. */
export interface MessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  /** Base64 on the wire. */
  readonly BinaryValue?: string;
}

export function md5OfBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

function lengthPrefixed(value: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  return Buffer.concat([length, value]);
}

/**
 * SQS's digest of message attributes: for each attribute in name order, the name, the data type,
 * a transport byte (1 for String/Number, 2 for Binary) and the value, each length-prefixed
 * (4-byte big-endian) except the transport byte.
 */
export function md5OfAttributes(attributes: Readonly<Record<string, MessageAttribute>>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  for (const name of names) {
    const attribute = attributes[name] as MessageAttribute;
    parts.push(lengthPrefixed(Buffer.from(name, 'utf8')));
    parts.push(lengthPrefixed(Buffer.from(attribute.DataType, 'utf8')));
    if (attribute.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]), lengthPrefixed(Buffer.from(attribute.BinaryValue, 'base64')));
    } else {
      parts.push(Buffer.from([1]), lengthPrefixed(Buffer.from(attribute.StringValue ?? '', 'utf8')));
    }
  }
  return createHash('md5').update(Buffer.concat(parts)).digest('hex');
}
