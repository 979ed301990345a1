/**
 * Publish's inputs checked as SNS checks them: subject, message, message structure and message
 * attributes, and the message each subscriber protocol receives.
 */
import { AwsError } from '../../core/types.ts';
import type { QueryInput } from './query.ts';

/** A message attribute as Publish takes it; BinaryValue is base64. */
export interface MessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

export interface PublishInput {
  readonly subject?: string;
  readonly message: string;
  readonly messageStructure?: 'json';
  readonly messageAttributes: Readonly<Record<string, MessageAttribute>>;
}

const MAX_SUBJECT_LENGTH = 100;
const MAX_MESSAGE_BYTES = 256 * 1024;
const MAX_ATTRIBUTES = 10;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const DATA_TYPE = /^(String|Number|Binary)(\.[^\s]+)?$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: a subject may not contain control characters.
const CONTROL = /[\u0000-\u001f\u007f]/;

function invalidParameter(reason: string): AwsError {
  return new AwsError('InvalidParameter', `Invalid parameter: ${reason}`);
}

function invalidAttribute(message: string): AwsError {
  return new AwsError('ParameterValueInvalid', message);
}

/** Reads and checks Publish's subject, message and attributes. */
export function readPublishInput(input: QueryInput): PublishInput {
  const subject = input.string('Subject');
  if (
    subject !== undefined &&
    (subject === '' || subject.length > MAX_SUBJECT_LENGTH || CONTROL.test(subject))
  ) {
    throw invalidParameter('Subject');
  }
  const message = input.string('Message');
  if (message === undefined) throw invalidParameter('Message Reason: no value for required parameter');
  if (message === '') throw invalidParameter('Empty message');
  const structure = input.string('MessageStructure');
  if (structure !== undefined && structure !== 'json') throw invalidParameter('MessageStructure');
  if (structure === 'json') checkJsonStructure(message);
  for (const fifoOnly of ['MessageGroupId', 'MessageDeduplicationId']) {
    if (input.string(fifoOnly) !== undefined) {
      throw invalidParameter(
        `${fifoOnly} Reason: The request includes ${fifoOnly} parameter that is not valid for this topic type`,
      );
    }
  }
  const messageAttributes = readAttributes(input);
  let size = Buffer.byteLength(message);
  for (const [name, attribute] of Object.entries(messageAttributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(attribute.DataType);
    size +=
      Buffer.byteLength(attribute.StringValue ?? '') +
      Buffer.byteLength(attribute.BinaryValue ?? '', 'base64');
  }
  if (size > MAX_MESSAGE_BYTES) throw invalidParameter('Message too long');
  return {
    ...(subject === undefined ? {} : { subject }),
    message,
    ...(structure === 'json' ? { messageStructure: 'json' as const } : {}),
    messageAttributes,
  };
}

function checkJsonStructure(message: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw invalidParameter('Message Structure - JSON message body failed to parse');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !('default' in parsed)) {
    throw invalidParameter('Message Structure - No default entry in JSON message body');
  }
  if (Object.values(parsed).some((value) => typeof value !== 'string')) {
    throw invalidParameter('Message Structure - every protocol message must be a string');
  }
}

function readAttributes(input: QueryInput): Record<string, MessageAttribute> {
  const entries = input.groups('MessageAttributes.entry');
  if (entries.length > MAX_ATTRIBUTES) {
    throw invalidAttribute(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`,
    );
  }
  const attributes: [string, MessageAttribute][] = [];
  for (const entry of entries) {
    const name = entry.get('Name') ?? '';
    const lower = name.toLowerCase();
    if (
      !ATTRIBUTE_NAME.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..') ||
      lower.startsWith('aws.') ||
      lower.startsWith('amazon.')
    ) {
      throw invalidAttribute(`The message attribute name '${name}' is invalid.`);
    }
    const dataType = entry.get('Value.DataType');
    if (dataType === undefined || dataType.length > 256 || !DATA_TYPE.test(dataType)) {
      throw invalidAttribute(
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    }
    attributes.push([name, readAttributeValue(name, dataType, entry)]);
  }
  return Object.fromEntries(attributes);
}

function readAttributeValue(
  name: string,
  dataType: string,
  entry: ReadonlyMap<string, string>,
): MessageAttribute {
  const stringValue = entry.get('Value.StringValue');
  const binaryValue = entry.get('Value.BinaryValue');
  if (dataType.startsWith('Binary')) {
    if (stringValue !== undefined) {
      throw invalidAttribute(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
    }
    if (!binaryValue || !/^[A-Za-z0-9+/]+={0,2}$/.test(binaryValue)) {
      throw invalidAttribute(
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type 'Binary'.`,
      );
    }
    return { DataType: dataType, BinaryValue: binaryValue };
  }
  const kind = dataType.startsWith('Number') ? 'Number' : 'String';
  if (binaryValue !== undefined) {
    throw invalidAttribute(`The message attribute '${name}' with type '${kind}' must use field 'String'.`);
  }
  if (!stringValue) {
    throw invalidAttribute(
      `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${kind}'.`,
    );
  }
  if (kind === 'Number' && !NUMBER.test(stringValue.trim())) {
    throw invalidAttribute(
      `The message attribute '${name}' has an invalid value '${stringValue}' for type 'Number'.`,
    );
  }
  if (dataType === 'String.Array' && !isStringArray(stringValue)) {
    throw invalidAttribute(`The message attribute '${name}' with type 'String.Array' must be a JSON array.`);
  }
  return { DataType: dataType, StringValue: stringValue };
}

function isStringArray(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((item) => item === null || typeof item !== 'object');
  } catch {
    // Not JSON at all; the caller reports the attribute as invalid.
    return false;
  }
}

/** The message a subscriber of `protocol` receives: its own entry of a JSON structure, or the message. */
export function messageForProtocol(input: PublishInput, protocol: string): string {
  if (input.messageStructure !== 'json') return input.message;
  const structure = JSON.parse(input.message) as Record<string, string>;
  return Object.hasOwn(structure, protocol) ? (structure[protocol] as string) : (structure.default as string);
}
