/**
 * Queues and their messages. Queue definitions persist in `<dataDir>/sqs/queues.json`; messages
 * live in memory (a restarted sandbox has the queues, empty). Visibility follows SQS: a received
 * message is hidden for the visibility timeout and comes back unless deleted; a queue with a
 * RedrivePolicy moves a message to its dead-letter queue once it has been received
 * maxReceiveCount times.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { readStateFile, writeStateFile } from '../../core/state-file.ts';
import { queueAttributes, redrivePolicyOf } from './attributes.ts';
import { queueDoesNotExist, sqsError } from './errors.ts';
import { type MessageAttribute, md5OfAttributes, md5OfBody } from './md5.ts';

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export interface QueueDefinition {
  readonly name: string;
  readonly region: string;
  readonly arn: string;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  /** Epoch seconds. */
  readonly createdTimestamp: number;
  lastModifiedTimestamp: number;
}

export interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttribute>>;
  readonly md5OfMessageAttributes?: string;
  readonly senderId: string;
  /** Epoch milliseconds. */
  readonly sentTimestamp: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  receiptHandle?: string;
}

interface Queue {
  readonly definition: QueueDefinition;
  messages: Message[];
  lastPurge?: number;
  /** Long-polling receivers waiting for a message. */
  readonly waiters: Set<() => void>;
}

export interface SendInput {
  readonly body: string;
  readonly delaySeconds?: number;
  readonly messageAttributes?: Readonly<Record<string, MessageAttribute>>;
  readonly senderId: string;
}

export class QueueStore {
  readonly #queues = new Map<string, Queue>();
  readonly #file: string;

  constructor(
    dataDir: string,
    private readonly accountId: string,
  ) {
    this.#file = join(dataDir, 'sqs', 'queues.json');
    const stored = readStateFile(this.#file);
    if (Array.isArray(stored)) {
      for (const definition of stored as QueueDefinition[]) {
        this.#queues.set(definition.arn, { definition, messages: [], waiters: new Set() });
      }
    }
  }

  /** CreateQueue: idempotent for the same attributes, QueueNameExists for different ones. */
  create(
    region: string,
    name: string,
    given: Readonly<Record<string, string>>,
    tags: Readonly<Record<string, string>>,
  ): QueueDefinition {
    if (name.endsWith('.fifo')) {
      throw sqsError(
        'UnsupportedOperation',
        "The sandbox's SQS emulates standard queues only (a .fifo name).",
      );
    }
    if (!QUEUE_NAME.test(name)) {
      throw sqsError(
        'InvalidParameterValue',
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const attributes = queueAttributes(given);
    const arn = `arn:aws:sqs:${region}:${this.accountId}:${name}`;
    const existing = this.#queues.get(arn);
    if (existing) {
      const differs = Object.entries(given).some(
        ([key, value]) => existing.definition.attributes[key] !== value,
      );
      if (differs) {
        throw sqsError(
          'QueueNameExists',
          'A queue already exists with the same name and a different value for attribute(s).',
        );
      }
      return existing.definition;
    }
    const now = Math.floor(Date.now() / 1000);
    const definition: QueueDefinition = {
      name,
      region,
      arn,
      attributes,
      tags: { ...tags },
      createdTimestamp: now,
      lastModifiedTimestamp: now,
    };
    this.#queues.set(arn, { definition, messages: [], waiters: new Set() });
    this.#save();
    return definition;
  }

  /** The queue named `name` in `region`, or QueueDoesNotExist. */
  byName(region: string, name: string): QueueDefinition {
    return this.#require(`arn:aws:sqs:${region}:${this.accountId}:${name}`).definition;
  }

  /** The queue with this ARN, or undefined. */
  find(arn: string): QueueDefinition | undefined {
    return this.#queues.get(arn)?.definition;
  }

  list(region: string, prefix: string): QueueDefinition[] {
    return [...this.#queues.values()]
      .map((queue) => queue.definition)
      .filter((definition) => definition.region === region && definition.name.startsWith(prefix))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Counts for GetQueueAttributes. */
  counts(arn: string): { visible: number; notVisible: number; delayed: number } {
    const queue = this.#require(arn);
    this.#expire(queue);
    const now = Date.now();
    let visible = 0;
    let notVisible = 0;
    let delayed = 0;
    for (const message of queue.messages) {
      if (message.visibleAt <= now) visible += 1;
      else if (message.receiveCount === 0) delayed += 1;
      else notVisible += 1;
    }
    return { visible, notVisible, delayed };
  }

  send(arn: string, input: SendInput): Message {
    const queue = this.#require(arn);
    const attributes = queue.definition.attributes;
    const maxSize = Number(attributes.MaximumMessageSize);
    const size =
      Buffer.byteLength(input.body) +
      Object.entries(input.messageAttributes ?? {}).reduce(
        (total, [name, a]) =>
          total +
          Buffer.byteLength(name) +
          Buffer.byteLength(a.DataType) +
          Buffer.byteLength(a.StringValue ?? a.BinaryValue ?? ''),
        0,
      );
    if (input.body.length === 0) {
      throw sqsError('InvalidParameterValue', 'The request must contain the parameter MessageBody.');
    }
    if (size > maxSize) {
      throw sqsError(
        'InvalidParameterValue',
        `One or more parameters are invalid. Reason: Message must be shorter than ${maxSize} bytes.`,
      );
    }
    const delay = input.delaySeconds ?? Number(attributes.DelaySeconds);
    const now = Date.now();
    const messageAttributes = { ...(input.messageAttributes ?? {}) };
    const md5Attributes = md5OfAttributes(messageAttributes);
    const message: Message = {
      messageId: randomUUID(),
      body: input.body,
      md5OfBody: md5OfBody(input.body),
      messageAttributes,
      ...(md5Attributes === undefined ? {} : { md5OfMessageAttributes: md5Attributes }),
      senderId: input.senderId,
      sentTimestamp: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
    };
    queue.messages.push(message);
    if (delay === 0) this.#wake(queue);
    else setTimeout(() => this.#wake(queue), delay * 1000).unref();
    return message;
  }

  /**
   * Receives up to `max` visible messages, hiding each for `visibilitySeconds`; waits up to
   * `waitSeconds` for one to arrive when none is visible (long polling).
   */
  async receive(
    arn: string,
    max: number,
    visibilitySeconds: number | undefined,
    waitSeconds: number,
  ): Promise<Message[]> {
    const queue = this.#require(arn);
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      const taken = this.#take(queue, max, visibilitySeconds);
      if (taken.length > 0 || Date.now() >= deadline) return taken;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          queue.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
        timer.unref();
        queue.waiters.add(wake);
      });
    }
  }

  /** DeleteMessage. A handle of a message already deleted succeeds, as in SQS. */
  delete(arn: string, receiptHandle: string): void {
    const queue = this.#require(arn);
    if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(receiptHandle)) {
      throw sqsError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`,
      );
    }
    queue.messages = queue.messages.filter((message) => message.receiptHandle !== receiptHandle);
  }

  /** PurgeQueue: one purge per queue per 60 seconds, as SQS allows. */
  purge(arn: string): void {
    const queue = this.#require(arn);
    const now = Date.now();
    if (queue.lastPurge !== undefined && now - queue.lastPurge < 60_000) {
      throw sqsError(
        'PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${queue.definition.name} is allowed every 60 seconds.`,
      );
    }
    queue.lastPurge = now;
    queue.messages = [];
  }

  /** Wakes every long-polling receiver (the sandbox is stopping). */
  close(): void {
    for (const queue of this.#queues.values()) for (const wake of [...queue.waiters]) wake();
  }

  #require(arn: string): Queue {
    const queue = this.#queues.get(arn);
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  #take(queue: Queue, max: number, visibilitySeconds: number | undefined): Message[] {
    this.#expire(queue);
    const now = Date.now();
    const timeout = visibilitySeconds ?? Number(queue.definition.attributes.VisibilityTimeout);
    const redrive = queue.definition.attributes.RedrivePolicy;
    const policy = redrive === undefined ? undefined : redrivePolicyOf(redrive);
    const taken: Message[] = [];
    for (const message of [...queue.messages]) {
      if (taken.length >= max) break;
      if (message.visibleAt > now) continue;
      if (
        policy &&
        message.receiveCount >= policy.maxReceiveCount &&
        this.#moveToDeadLetter(queue, message, policy.deadLetterTargetArn)
      ) {
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + timeout * 1000;
      message.receiptHandle = randomBytes(48).toString('base64url');
      taken.push(message);
    }
    return taken;
  }

  /** Moves a message that was received too often to the dead-letter queue (if that exists). */
  #moveToDeadLetter(queue: Queue, message: Message, deadLetterArn: string): boolean {
    const target = this.#queues.get(deadLetterArn);
    if (!target) return false;
    queue.messages = queue.messages.filter((m) => m !== message);
    target.messages.push({ ...message, visibleAt: Date.now() });
    this.#wake(target);
    return true;
  }

  /** Drops messages older than the queue's retention period. */
  #expire(queue: Queue): void {
    const oldest = Date.now() - Number(queue.definition.attributes.MessageRetentionPeriod) * 1000;
    if (queue.messages.some((message) => message.sentTimestamp < oldest)) {
      queue.messages = queue.messages.filter((message) => message.sentTimestamp >= oldest);
    }
  }

  #wake(queue: Queue): void {
    for (const wake of [...queue.waiters]) wake();
  }

  #save(): void {
    writeStateFile(
      this.#file,
      [...this.#queues.values()].map((queue) => queue.definition),
    );
  }
}
