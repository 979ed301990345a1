/**
 * What each SQS operation the sandbox serves needs from IAM ("Actions, resources, and condition
 * keys for Amazon SQS"): the action on the queue (its queue policy applies), tags at creation
 * (CreateQueue with tags also needs sqs:TagQueue), and, for a queue encrypted with a KMS key, the
 * caller's own kms:GenerateDataKey and kms:Decrypt to send and kms:Decrypt to receive, through
 * sqs.<region>.amazonaws.com with the queue's ARN as encryption context.
 */
import { type AccessCheck, check, requestTagContext } from '../../core/access/checks.ts';
import { type KmsKeyFacts, kmsOnBehalf } from '../kms/authorization.ts';

/** Lookups SQS makes for IAM, in the request's region. */
export interface SqsAuthorizationView {
  readonly region: string;
  readonly accountId: string;
  /** The KMS key a queue encrypts with (a customer key; none for SSE-SQS or alias/aws/sqs). */
  queueKey(queueArn: string): KmsKeyFacts | undefined;
}

type Body = Readonly<Record<string, unknown>>;

function text(body: Body, field: string): string | undefined {
  const value = body[field];
  return typeof value === 'string' ? value : undefined;
}

/** The queue ARN a QueueUrl names (SQS's own URL form or the sandbox's: `/<account>/<name>`). */
export function queueArnOfUrl(url: string, view: SqsAuthorizationView): string {
  try {
    const parsed = new URL(url);
    const [account, name] = parsed.pathname.split('/').filter((part) => part !== '');
    const region = /^sqs\.([a-z0-9-]+)\.amazonaws\.com$/.exec(parsed.hostname)?.[1] ?? view.region;
    if (account && name) return `arn:aws:sqs:${region}:${account}:${name}`;
  } catch {
    // Not a URL: the operation refuses it; IAM sees the whole queue space.
  }
  return '*';
}

function encrypted(action: 'send' | 'receive', queueArn: string, view: SqsAuthorizationView): AccessCheck[] {
  const key = view.queueKey(queueArn);
  if (!key) return [];
  const via = { service: 'sqs', region: view.region, accountId: view.accountId };
  const context = { 'aws:sqs:arn': queueArn };
  return action === 'send'
    ? [kmsOnBehalf('kms:GenerateDataKey', key, via, context), kmsOnBehalf('kms:Decrypt', key, via, context)]
    : [kmsOnBehalf('kms:Decrypt', key, via, context)];
}

/** The IAM checks of one SQS operation. */
export function sqsAccessChecks(operation: string, body: Body, view: SqsAuthorizationView): AccessCheck[] {
  const queueArn = (name: string) => `arn:aws:sqs:${view.region}:${view.accountId}:${name}`;
  const urlQueue = () => queueArnOfUrl(text(body, 'QueueUrl') ?? '', view);
  switch (operation) {
    case 'CreateQueue': {
      const arn = queueArn(text(body, 'QueueName') ?? '');
      const tags = Object.entries((body.tags ?? {}) as Record<string, string>);
      const tagging = tags.length > 0 ? requestTagContext(tags) : {};
      return [
        check('sqs:CreateQueue', arn, tagging),
        ...(tags.length > 0 ? [check('sqs:TagQueue', arn, tagging)] : []),
      ];
    }
    case 'GetQueueUrl': {
      const owner = text(body, 'QueueOwnerAWSAccountId') ?? view.accountId;
      return [
        check('sqs:GetQueueUrl', `arn:aws:sqs:${view.region}:${owner}:${text(body, 'QueueName') ?? ''}`),
      ];
    }
    case 'ListQueues':
      return [check('sqs:ListQueues', '*')];
    case 'SendMessage': {
      const arn = urlQueue();
      return [check('sqs:SendMessage', arn), ...encrypted('send', arn, view)];
    }
    case 'ReceiveMessage': {
      const arn = urlQueue();
      return [check('sqs:ReceiveMessage', arn), ...encrypted('receive', arn, view)];
    }
    case 'GetQueueAttributes':
    case 'DeleteMessage':
    case 'PurgeQueue':
      return [check(`sqs:${operation}`, urlQueue())];
    default:
      throw new Error(`No IAM mapping for the SQS operation ${operation}`);
  }
}
