/**
 * SQS emulation (JSON 1.0, `X-Amz-Target: AmazonSQS.<Operation>`, query-compatible errors):
 * standard queues with visibility timeouts, delays, long polling, retention and redrive to a
 * dead-letter queue. Enough for Caretaker's dead-letter queue and for SNS→SQS subscriptions
 * (SNS delivers to queues in process). See docs/sandbox.md.
 */
import { randomUUID } from 'node:crypto';
import type { Denial } from '../../core/access/denials.ts';
import { accessDeniedMessage, quotedServiceError } from '../../core/access/messages.ts';
import { sendJson } from '../../core/responses.ts';
import type { SandboxContext } from '../../core/server.ts';
import { AwsError, type SandboxService } from '../../core/types.ts';
import type { KmsService } from '../kms/index.ts';
import { type SqsAuthorizationView, sqsAccessChecks } from './authorization.ts';
import { sendSqsError, sqsError } from './errors.ts';
import type { MessageAttribute } from './md5.ts';
import { OPERATIONS, queueUrl } from './operations.ts';
import { type QueueDefinition, QueueStore } from './queues.ts';

export type { MessageAttribute } from './md5.ts';
export type { QueueDefinition } from './queues.ts';

/** The SQS service, with an in-process API for SNS deliveries, the deployer and tests. */
export interface SqsService extends SandboxService {
  readonly signingName: 'sqs';
  /** The queue with this ARN, or undefined. */
  queue(arn: string): QueueDefinition | undefined;
  /** The queue's URL on this sandbox. */
  queueUrl(definition: QueueDefinition): string;
  /** Stores a message as SendMessage would (KMS key checked); throws AwsError when it cannot. */
  send(
    queueArn: string,
    body: string,
    messageAttributes?: Readonly<Record<string, MessageAttribute>>,
    senderId?: string,
  ): { messageId: string };
}

const TARGET_PREFIX = 'AmazonSQS.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_REQUEST_BYTES = 1024 * 1024;
const AWS_MANAGED_SQS_KEY = /^(arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:)?alias\/aws\/sqs$/;

/**
 * SQS's answer to a denied call: AccessDenied (its message spells the action in lower case, as SQS
 * does), or KMS.AccessDeniedException when the caller may not use the queue's key.
 */
function deniedError(denial: Denial): AwsError {
  if (denial.action.startsWith('kms:')) {
    const message = quotedServiceError(
      accessDeniedMessage(denial),
      'AWSKMS',
      400,
      'AccessDeniedException',
      randomUUID(),
    );
    return sqsError('KmsAccessDenied', message);
  }
  return new AwsError(
    'AccessDeniedException',
    accessDeniedMessage(denial, { action: (a) => a.toLowerCase() }),
    403,
  );
}

/** Creates the SQS service; queues (not messages) of an earlier run with the same data directory are loaded. */
export function sqsService(context: SandboxContext): SqsService {
  const store = new QueueStore(context.dataDir, context.accountId);

  /** SQS asks KMS for a data key when it stores a message in an encrypted queue. */
  function checkKey(queue: QueueDefinition): void {
    const keyId = queue.attributes.KmsMasterKeyId;
    const kms = context.service<KmsService>('kms');
    if (!keyId || !kms || AWS_MANAGED_SQS_KEY.test(keyId)) return;
    const key = kms.describeKey(queue.region, keyId);
    if (!key) throw sqsError('KmsNotFound', `Invalid keyId ${keyId}`);
    if (key.KeyState === 'Disabled') throw sqsError('KmsDisabled', `${key.Arn} is disabled.`);
    if (key.KeyState !== 'Enabled') throw sqsError('KmsInvalidState', `${key.Arn} is pending deletion.`);
  }

  function view(region: string): SqsAuthorizationView {
    return {
      region,
      accountId: context.accountId,
      queueKey(queueArn) {
        const keyId = store.find(queueArn)?.attributes.KmsMasterKeyId;
        if (!keyId || AWS_MANAGED_SQS_KEY.test(keyId)) return undefined;
        return context.service<KmsService>('kms')?.keyFacts(store.find(queueArn)?.region ?? region, keyId);
      },
    };
  }

  return {
    signingName: 'sqs',
    protocol: 'json',
    accessDenied: deniedError,
    invalidCredentials: () =>
      new AwsError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
        403,
      ),
    sendError: (res, error) => sendSqsError(res, error),
    async handle(req, res) {
      try {
        const target = req.headers['x-amz-target'];
        const name =
          typeof target === 'string' && target.startsWith(TARGET_PREFIX)
            ? target.slice(TARGET_PREFIX.length)
            : '';
        const operation = OPERATIONS[name];
        if (req.method !== 'POST' || !operation) {
          // Query-protocol requests (Action=…) come from SDKs older than 2023; say so.
          throw sqsError(
            'InvalidAction',
            `The sandbox's SQS speaks the JSON protocol (X-Amz-Target: AmazonSQS.<Operation>); got "${String(target ?? req.url.search)}"`,
          );
        }
        const raw = (await req.readBody(MAX_REQUEST_BYTES)).toString('utf8');
        let body: Record<string, unknown>;
        try {
          const parsed: unknown = raw.trim() === '' ? {} : JSON.parse(raw);
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
            throw new Error('not an object');
          body = parsed as Record<string, unknown>;
        } catch {
          throw sqsError('InvalidParameterValue', 'The request body is not a JSON object.');
        }
        req.authorize(sqsAccessChecks(name, body, view(req.region)), name);
        const result = await operation(
          {
            store,
            region: req.region,
            accountId: context.accountId,
            endpoint: context.endpoint,
            senderId: req.accessKeyId,
            checkKey,
          },
          body,
        );
        sendJson(res, 200, result, CONTENT_TYPE);
      } catch (error) {
        // SQS errors carry their Query code in a header the core does not send: render them here.
        if (error instanceof AwsError && error.status < 500) {
          sendSqsError(res, error);
          return;
        }
        throw error;
      }
    },
    queue: (arn) => store.find(arn),
    queueUrl: (definition) => queueUrl(context.endpoint, definition),
    send(queueArn, body, messageAttributes = {}, senderId = context.accountId) {
      const definition = store.find(queueArn);
      if (!definition) throw sqsError('QueueDoesNotExist', `The queue ${queueArn} does not exist.`);
      checkKey(definition);
      return { messageId: store.send(queueArn, { body, messageAttributes, senderId }).messageId };
    },
    async close() {
      store.close();
    },
  };
}
