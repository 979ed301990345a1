/**
 * SNS emulation (Query protocol, XML responses): topics, subscriptions with filter policies, and
 * Publish, whose messages are kept for assertions and delivered to HTTP/HTTPS subscribers on
 * 127.0.0.1. Kept messages are readable in process (`messages()`) and over HTTP at
 * `GET /_sandbox/sns/messages[?topicArn=…]`. See docs/sandbox.md.
 */
import { randomUUID } from 'node:crypto';
import type { Denial } from '../../core/access/denials.ts';
import { accessDeniedMessage, quotedServiceError } from '../../core/access/messages.ts';
import { sendJson, sendXml, type XmlNode } from '../../core/responses.ts';
import type { SandboxContext } from '../../core/server.ts';
import { AwsError, type SandboxService } from '../../core/types.ts';
import type { KmsService } from '../kms/index.ts';
import type { SqsService } from '../sqs/index.ts';
import { type SnsAuthorizationView, snsAccessChecks } from './authorization.ts';
import { type KeptMessage, Publisher } from './publisher.ts';
import { QueryInput } from './query.ts';
import { type Operation, TOPIC_OPERATIONS } from './topic-operations.ts';
import { TopicStore } from './topics.ts';

export type { DeliveryRecord, DeliveryStatus } from './delivery.ts';
export type { MessageAttribute } from './publish-input.ts';
export type { KeptMessage } from './publisher.ts';

/** Per-service settings, read from `settings.sns` of the sandbox options. */
export interface SnsSettings {
  /** Pauses before each HTTP delivery retry. @default [200, 1000, 3000] */
  readonly retryDelaysMs?: readonly number[];
  /** Per-attempt HTTP delivery timeout. @default 5000 */
  readonly deliveryTimeoutMs?: number;
  /** Published messages kept for inspection; the oldest are dropped beyond this. @default 10000 */
  readonly maxKeptMessages?: number;
}

/** The SNS service, with an in-process API for tests and other emulated services. */
export interface SnsService extends SandboxService {
  readonly signingName: 'sns';
  /** Published messages, oldest first, optionally only those of one topic. */
  messages(topicArn?: string): KeptMessage[];
  /** Resolves once every HTTP delivery started so far has been delivered or given up. */
  idle(): Promise<void>;
}

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const AWS_MANAGED_SNS_KEY = /^(arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:)?alias\/aws\/sns$/;

/**
 * SNS's answer to a denied call: AuthorizationError, naming the action as SNS spells it
 * (`SNS:Publish`); KMSAccessDenied when the publisher may not use the topic's key.
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
    return new AwsError('KMSAccessDenied', message, 400);
  }
  const message = accessDeniedMessage(denial, { action: (action) => action.replace(/^sns:/, 'SNS:') });
  return new AwsError('AuthorizationError', message, 403);
}
const MAX_REQUEST_BYTES = 1024 * 1024;

function readSettings(raw: unknown): Required<SnsSettings> {
  const settings = (typeof raw === 'object' && raw !== null ? raw : {}) as SnsSettings;
  return {
    retryDelaysMs: settings.retryDelaysMs ?? [200, 1000, 3000],
    deliveryTimeoutMs: settings.deliveryTimeoutMs ?? 5000,
    maxKeptMessages: settings.maxKeptMessages ?? 10_000,
  };
}

/** Creates the SNS service; topics and subscriptions of an earlier run with the same data directory are loaded. */
export function snsService(context: SandboxContext): SnsService {
  const settings = readSettings(context.options.settings?.sns);
  const store = new TopicStore(context.dataDir, context.accountId);
  const publisher = new Publisher({
    retryDelaysMs: settings.retryDelaysMs,
    deliveryTimeoutMs: settings.deliveryTimeoutMs,
    maxKeptMessages: settings.maxKeptMessages,
    kms: () => context.service<KmsService>('kms'),
    sqs: () => context.service<SqsService>('sqs'),
  });
  const operations: ReadonlyMap<string, Operation> = new Map(
    Object.entries({
      ...TOPIC_OPERATIONS,
      Publish: (ctx, input) => publisher.publish(ctx, input),
    } satisfies Record<string, Operation>),
  );

  function view(region: string): SnsAuthorizationView {
    return {
      region,
      accountId: context.accountId,
      topicTags: (arn) => store.findTopic(arn)?.tags,
      topicKey(arn) {
        const topic = store.findTopic(arn);
        const keyId = topic?.attributes.KmsMasterKeyId;
        if (!topic || !keyId || AWS_MANAGED_SNS_KEY.test(keyId)) return undefined;
        return context.service<KmsService>('kms')?.keyFacts(topic.region, keyId);
      },
    };
  }

  return {
    signingName: 'sns',
    protocol: 'query',
    accessDenied: deniedError,
    async handle(req, res) {
      const body = req.method === 'POST' ? await req.readBody(MAX_REQUEST_BYTES) : Buffer.alloc(0);
      const input = new QueryInput(req.url, body);
      const action = input.action ?? '';
      const operation = operations.get(action);
      if (!operation) {
        throw new AwsError(
          'InvalidAction',
          `The action ${action || '(none)'} is not valid for this web service.`,
        );
      }
      req.authorize(snsAccessChecks(action, input, view(req.region)), action);
      const result = await operation({ store, region: req.region, accountId: context.accountId }, input);
      const node: XmlNode = {
        ...(result === undefined ? {} : { [`${action}Result`]: result }),
        ResponseMetadata: { RequestId: req.requestId },
      };
      sendXml(res, 200, `${action}Response`, node, { xmlns: XMLNS });
    },
    async handleInspection(req, res) {
      if (req.url.pathname !== '/_sandbox/sns/messages') {
        throw new AwsError(
          'NotFound',
          `No inspection route ${req.url.pathname}; try GET /_sandbox/sns/messages`,
          404,
        );
      }
      if (req.method !== 'GET') throw new AwsError('MethodNotAllowed', 'Use GET', 405);
      const topicArn = req.url.searchParams.get('topicArn') ?? undefined;
      sendJson(res, 200, { messages: publisher.messages(topicArn) }, 'application/json');
    },
    messages: (topicArn) => publisher.messages(topicArn),
    idle: () => publisher.idle(),
    close: () => publisher.close(),
  };
}
