/**
 * The SQS operations the sandbox answers, on JSON 1.0 request bodies (`AmazonSQS.<Operation>`).
 */
import { KNOWN_ATTRIBUTES } from './attributes.ts';
import { invalidParameter, missingParameter, queueDoesNotExist, sqsError } from './errors.ts';
import type { MessageAttribute } from './md5.ts';
import type { Message, QueueDefinition, QueueStore } from './queues.ts';

export interface OperationContext {
  readonly store: QueueStore;
  readonly region: string;
  readonly accountId: string;
  /** The sandbox endpoint, for queue URLs. */
  readonly endpoint: string;
  /** Who sends (the request's access key id), reported as SenderId. */
  readonly senderId: string;
  /** Checks a queue's KMS key before a message is stored (throws SQS's Kms* errors). */
  readonly checkKey: (queue: QueueDefinition) => void;
}

export type Body = Readonly<Record<string, unknown>>;
export type Operation = (context: OperationContext, body: Body) => unknown | Promise<unknown>;

/** `<endpoint>/<account>/<name>`: path-style like SQS's own URLs, on the sandbox endpoint. */
export function queueUrl(endpoint: string, definition: QueueDefinition): string {
  const account = definition.arn.split(':')[4];
  return `${endpoint}/${account}/${definition.name}`;
}

function text(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`${field} must be a string.`);
  return value;
}

function requiredText(body: Body, field: string): string {
  const value = text(body, field);
  if (value === undefined || value === '') throw missingParameter(field);
  return value;
}

function integer(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(
      `Value ${String(value)} for parameter ${field} is invalid. Reason: must be between ${min} and ${max}.`,
    );
  }
  return value;
}

function stringMap(body: Body, field: string): Record<string, string> {
  const value = body[field];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter(`${field} must be a map.`);
  const map: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw invalidParameter(`${field}.${key} must be a string.`);
    map[key] = entry;
  }
  return map;
}

function stringList(body: Body, field: string): string[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) {
    throw invalidParameter(`${field} must be a list of strings.`);
  }
  return value as string[];
}

/** The queue a QueueUrl names (SQS's own URL form or the sandbox's), in the caller's account. */
function queueOf(context: OperationContext, body: Body): QueueDefinition {
  const url = requiredText(body, 'QueueUrl');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw sqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
  }
  const [account, name, ...rest] = parsed.pathname.split('/').filter((part) => part !== '');
  if (!account || !name || rest.length > 0) throw queueDoesNotExist();
  if (account !== context.accountId) throw queueDoesNotExist();
  const region = /^sqs\.([a-z0-9-]+)\.amazonaws\.com$/.exec(parsed.hostname)?.[1] ?? context.region;
  return context.store.byName(region, name);
}

function messageAttributes(body: Body): Record<string, MessageAttribute> {
  const value = body.MessageAttributes;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalidParameter('MessageAttributes must be a map.');
  const attributes: Record<string, MessageAttribute> = {};
  const entries = Object.entries(value as Record<string, Record<string, unknown>>);
  if (entries.length > 10) throw invalidParameter('Number of message attributes cannot exceed 10.');
  for (const [name, attribute] of entries) {
    const dataType = attribute?.DataType;
    if (typeof dataType !== 'string' || !/^(String|Number|Binary)(\..+)?$/.test(dataType)) {
      throw invalidParameter(`The message attribute '${name}' has an invalid message attribute type.`);
    }
    const stringValue = attribute.StringValue;
    const binaryValue = attribute.BinaryValue;
    if (dataType.startsWith('Binary') ? typeof binaryValue !== 'string' : typeof stringValue !== 'string') {
      throw invalidParameter(
        `The message attribute '${name}' must contain a non-empty message attribute value.`,
      );
    }
    attributes[name] = dataType.startsWith('Binary')
      ? { DataType: dataType, BinaryValue: binaryValue as string }
      : { DataType: dataType, StringValue: stringValue as string };
  }
  return attributes;
}

/** Message attribute names: `All`, `.*`, exact names, or `prefix.*`. */
function wanted(names: readonly string[], name: string): boolean {
  return names.some(
    (pattern) =>
      pattern === 'All' ||
      pattern === '.*' ||
      pattern === name ||
      (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
  );
}

function renderMessage(message: Message, systemNames: readonly string[], attributeNames: readonly string[]) {
  const system: Record<string, string> = {
    SenderId: message.senderId,
    SentTimestamp: String(message.sentTimestamp),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
  };
  const attributes = Object.fromEntries(Object.entries(system).filter(([name]) => wanted(systemNames, name)));
  const selected = Object.fromEntries(
    Object.entries(message.messageAttributes).filter(([name]) => wanted(attributeNames, name)),
  );
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
    ...(Object.keys(selected).length > 0
      ? { MessageAttributes: selected, MD5OfMessageAttributes: message.md5OfMessageAttributes }
      : {}),
  };
}

export const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateQueue(context, body) {
    const definition = context.store.create(
      context.region,
      requiredText(body, 'QueueName'),
      stringMap(body, 'Attributes'),
      stringMap(body, 'tags'),
    );
    return { QueueUrl: queueUrl(context.endpoint, definition) };
  },

  GetQueueUrl(context, body) {
    const owner = text(body, 'QueueOwnerAWSAccountId');
    if (owner !== undefined && owner !== context.accountId) throw queueDoesNotExist();
    const definition = context.store.byName(context.region, requiredText(body, 'QueueName'));
    return { QueueUrl: queueUrl(context.endpoint, definition) };
  },

  GetQueueAttributes(context, body) {
    const definition = queueOf(context, body);
    const names = stringList(body, 'AttributeNames');
    for (const name of names) {
      if (name !== 'All' && !KNOWN_ATTRIBUTES.has(name))
        throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
    const counts = context.store.counts(definition.arn);
    const all: Record<string, string> = {
      ...definition.attributes,
      QueueArn: definition.arn,
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.notVisible),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(definition.createdTimestamp),
      LastModifiedTimestamp: String(definition.lastModifiedTimestamp),
    };
    const selected = Object.fromEntries(
      Object.entries(all).filter(([name]) => names.includes('All') || names.includes(name)),
    );
    return Object.keys(selected).length > 0 ? { Attributes: selected } : {};
  },

  SendMessage(context, body) {
    const definition = queueOf(context, body);
    const messageBody = text(body, 'MessageBody');
    if (messageBody === undefined) throw missingParameter('MessageBody');
    context.checkKey(definition);
    const message = context.store.send(definition.arn, {
      body: messageBody,
      delaySeconds: integer(body, 'DelaySeconds', 0, 900),
      messageAttributes: messageAttributes(body),
      senderId: context.senderId,
    });
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    };
  },

  async ReceiveMessage(context, body) {
    const definition = queueOf(context, body);
    const max = integer(body, 'MaxNumberOfMessages', 1, 10) ?? 1;
    const visibility = integer(body, 'VisibilityTimeout', 0, 43_200);
    const wait =
      integer(body, 'WaitTimeSeconds', 0, 20) ?? Number(definition.attributes.ReceiveMessageWaitTimeSeconds);
    const systemNames = [
      ...stringList(body, 'AttributeNames'),
      ...stringList(body, 'MessageSystemAttributeNames'),
    ];
    const attributeNames = stringList(body, 'MessageAttributeNames');
    const messages = await context.store.receive(definition.arn, max, visibility, wait);
    return messages.length === 0
      ? {}
      : { Messages: messages.map((message) => renderMessage(message, systemNames, attributeNames)) };
  },

  DeleteMessage(context, body) {
    const definition = queueOf(context, body);
    context.store.delete(definition.arn, requiredText(body, 'ReceiptHandle'));
    return {};
  },

  PurgeQueue(context, body) {
    context.store.purge(queueOf(context, body).arn);
    return {};
  },

  ListQueues(context, body) {
    const all = context.store.list(context.region, text(body, 'QueueNamePrefix') ?? '');
    const max = integer(body, 'MaxResults', 1, 1000);
    const token = text(body, 'NextToken');
    const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw invalidParameter('Invalid NextToken value.');
    // Without MaxResults, SQS returns up to 1,000 queues and no token.
    const end = max === undefined ? Math.min(all.length, 1000) : start + max;
    const urls = all.slice(start, end).map((definition) => queueUrl(context.endpoint, definition));
    return {
      ...(urls.length > 0 ? { QueueUrls: urls } : {}),
      ...(max !== undefined && end < all.length
        ? { NextToken: Buffer.from(String(end)).toString('base64url') }
        : {}),
    };
  },
};
