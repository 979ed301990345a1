/**
 * Queue attributes: which names SQS accepts on CreateQueue, their defaults and ranges, and the
 * computed ones GetQueueAttributes adds. Values travel as strings, as in the API.
 */
import { sqsError } from './errors.ts';

interface NumericAttribute {
  readonly min: number;
  readonly max: number;
  readonly fallback: number;
}

/** Settable numeric attributes, with SQS's documented ranges and defaults. */
const NUMERIC: Readonly<Record<string, NumericAttribute>> = {
  DelaySeconds: { min: 0, max: 900, fallback: 0 },
  MaximumMessageSize: { min: 1024, max: 262_144, fallback: 262_144 },
  MessageRetentionPeriod: { min: 60, max: 1_209_600, fallback: 345_600 },
  ReceiveMessageWaitTimeSeconds: { min: 0, max: 20, fallback: 0 },
  VisibilityTimeout: { min: 0, max: 43_200, fallback: 30 },
  KmsDataKeyReusePeriodSeconds: { min: 60, max: 86_400, fallback: 300 },
};

/** Settable attributes kept as given (policies are stored for IAM, never enforced here). */
const TEXT = new Set([
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'SqsManagedSseEnabled',
]);

/** FIFO queues are not emulated: these names are refused with UnsupportedOperation. */
const FIFO = new Set(['FifoQueue', 'ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit']);

/** Computed attributes GetQueueAttributes can return (besides the settable ones). */
export const COMPUTED = [
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
] as const;

/** Every name GetQueueAttributes knows. */
export const KNOWN_ATTRIBUTES = new Set<string>([...Object.keys(NUMERIC), ...TEXT, ...COMPUTED]);

/** The attributes of a new queue: the given ones checked, over SQS's defaults. */
export function queueAttributes(given: Readonly<Record<string, string>>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, spec] of Object.entries(NUMERIC)) attributes[name] = String(spec.fallback);
  attributes.SqsManagedSseEnabled = given.KmsMasterKeyId === undefined ? 'true' : 'false';
  for (const [name, value] of Object.entries(given)) {
    if (FIFO.has(name)) {
      throw sqsError('UnsupportedOperation', `The sandbox's SQS emulates standard queues only (${name}).`);
    }
    const numeric = NUMERIC[name];
    if (numeric) {
      const number = Number(value);
      if (!/^\d+$/.test(value) || number < numeric.min || number > numeric.max) {
        throw sqsError(
          'InvalidAttributeValue',
          `Invalid value for the parameter ${name}. Reason: must be an integer from ${numeric.min} to ${numeric.max}.`,
        );
      }
      attributes[name] = String(number);
    } else if (TEXT.has(name)) {
      if (name === 'RedrivePolicy') redrivePolicyOf(value);
      attributes[name] = value;
    } else {
      throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
  }
  return attributes;
}

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

/** Parses a RedrivePolicy attribute; a malformed one is InvalidAttributeValue. */
export function redrivePolicyOf(value: string): RedrivePolicy {
  let parsed: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
  try {
    parsed = JSON.parse(value) as typeof parsed;
  } catch {
    throw sqsError(
      'InvalidAttributeValue',
      'Invalid value for the parameter RedrivePolicy. Reason: not JSON.',
    );
  }
  const max = Number(parsed.maxReceiveCount);
  if (typeof parsed.deadLetterTargetArn !== 'string' || !Number.isInteger(max) || max < 1 || max > 1000) {
    throw sqsError(
      'InvalidAttributeValue',
      'Invalid value for the parameter RedrivePolicy. Reason: deadLetterTargetArn and a maxReceiveCount from 1 to 1000 are required.',
    );
  }
  return { deadLetterTargetArn: parsed.deadLetterTargetArn, maxReceiveCount: max };
}
